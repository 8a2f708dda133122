"""`manage.py loadmanifest PATH`: create or update a bot and its manifest; an invalid manifest changes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bots.errors import ManifestInvalid
from bots.services import manifest_load_file


class Command(BaseCommand):
    help = (
        "Load a bot manifest (dit.json) into the database: a changed manifest adds a version, an equal one is a no-op."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="The manifest file, or a bot folder holding dit.json.")

    def handle(self, *args: Any, path: Path, **options: Any) -> None:
        try:
            result = manifest_load_file(path=path)
        except ManifestInvalid as exc:
            for problem in exc.problems:
                self.stderr.write(str(problem))
            raise CommandError(f"{exc.message}; nothing was changed", returncode=1) from None
        slug, version = result.bot.slug, result.manifest.version
        if result.bot_created:
            self.stdout.write(f"Created bot {slug!r} with manifest version {version}")
        elif result.version_added:
            self.stdout.write(f"Updated bot {slug!r} to manifest version {version}")
        else:
            self.stdout.write(f"Bot {slug!r} unchanged: manifest version {version} is identical")
