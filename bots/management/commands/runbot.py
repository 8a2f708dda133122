"""`manage.py runbot SLUG [--manifest PATH] [--local]`: boot a bot and run it on Discord (or in a local chat).

Exit codes: 0 after a clean stop (SIGTERM, SIGINT, or the end of the local chat), 1 when the bot cannot boot
or run, 2 when the platform refuses its token.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bots.errors import ManifestInvalid
from bots.host.runner import EXIT_OK, run_bot
from bots.runtime import boot_bot, log_resolved_settings, settings_summary
from dit_project.errors import ApplicationError

logger = logging.getLogger("bots.runtime")


class Command(BaseCommand):
    help = (
        "Run a bot from its manifest in the database (or load --manifest PATH first) on Discord until SIGTERM or "
        "SIGINT; --local runs it in a chat in this terminal instead, with no Discord token."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="The bot's slug, as in its manifest's bot.slug.")
        parser.add_argument("--manifest", type=Path, default=None, help="Load this manifest before booting.")
        parser.add_argument(
            "--local",
            action="store_true",
            help="Chat with the bot in this terminal (as any user, in any channel) instead of connecting to Discord.",
        )

    def handle(self, *args: Any, slug: str, manifest: Path | None, local: bool = False, **options: Any) -> None:
        try:
            booted = boot_bot(slug=slug, manifest_path=manifest)
        except ManifestInvalid as exc:
            for problem in exc.problems:
                self.stderr.write(str(problem))
            raise CommandError(exc.message, returncode=1) from None
        except ApplicationError as exc:
            raise CommandError(exc.message, returncode=1) from None
        if local and int(options.get("verbosity", 1)) < 2:
            # The chat shows decisions itself; INFO lines, one per setting among them, would bury it (-v 2
            # keeps them). One line says what is not at its default.
            logging.getLogger().setLevel(logging.WARNING)
            self.stdout.write(settings_summary(booted))
        else:
            log_resolved_settings(booted)
        try:
            code = run_bot(booted, local=local, stdin=sys.stdin, stdout=sys.stdout)
        except ApplicationError as exc:
            raise CommandError(f"bot {slug} cannot run: {exc.message}", returncode=1) from None
        if code != EXIT_OK:
            raise CommandError(
                f"bot {slug} stopped with exit code {code} (the reason is logged above)", returncode=code
            )
