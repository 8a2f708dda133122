"""`manage.py validate_manifest PATH`: exit 0 for a valid manifest, else 1 with every problem and its location."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bots.errors import ManifestInvalid
from bots.manifest import read_manifest


class Command(BaseCommand):
    help = "Validate a bot manifest (dit.json) and print every problem with its location."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="The manifest file, or a bot folder holding dit.json.")

    def handle(self, *args: Any, path: Path, **options: Any) -> None:
        try:
            manifest = read_manifest(path)
        except ManifestInvalid as exc:
            for problem in exc.problems:
                self.stderr.write(str(problem))
            raise CommandError(exc.message, returncode=1) from None
        self.stdout.write(
            f"{path}: valid manifest for bot {manifest.slug!r} "
            f"({len(manifest.setting_fields())} settings and credentials, {len(manifest.features)} features)"
        )
