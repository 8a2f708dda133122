"""Fixtures and hooks of the host's tests; the shared builders are the `bots.host.tests.hostkit` plugin."""

from __future__ import annotations

from bots.host.tests.situations.report import print_summary


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """After the run: the group-chat situation report, when any situation ran."""
    print_summary(terminalreporter, config)
