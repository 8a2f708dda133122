# Shortcuts for the README's commands; each works without make as well.
.PHONY: run test setup services-stop

run:
	python3 scripts/dev.py run

test:
	python3 scripts/dev.py test

setup:
	python3 scripts/dev.py setup

services-stop:
	python3 scripts/dev.py services stop
