"""`manage.py runbot SLUG [--manifest PATH]`: boot a bot, log its settings (secrets masked), run until stopped."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bots.errors import ManifestInvalid
from bots.runtime import boot_bot, log_resolved_settings, wait_for_stop_signal
from dit_project.errors import ApplicationError

logger = logging.getLogger("bots.runtime")


class Command(BaseCommand):
    help = "Run a bot from its manifest in the database (or load --manifest PATH first) until SIGTERM or SIGINT."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="The bot's slug, as in its manifest's bot.slug.")
        parser.add_argument("--manifest", type=Path, default=None, help="Load this manifest before booting.")

    def handle(self, *args: Any, slug: str, manifest: Path | None, **options: Any) -> None:
        try:
            booted = boot_bot(slug=slug, manifest_path=manifest)
        except ManifestInvalid as exc:
            for problem in exc.problems:
                self.stderr.write(str(problem))
            raise CommandError(exc.message, returncode=1) from None
        except ApplicationError as exc:
            raise CommandError(exc.message, returncode=1) from None
        log_resolved_settings(booted)

        def announce_ready() -> None:
            logger.info(
                "bot %s running (manifest version %s, %s features); waiting for SIGTERM or SIGINT",
                booted.slug,
                booted.manifest_version,
                len(booted.features),
            )

        received = wait_for_stop_signal(on_ready=announce_ready)
        logger.info("bot %s stopping on %s", booted.slug, received.name)
