"""`manage.py bot_platform SLUG`: print `discord` when the bot has a Discord token (admin or environment),
`local` otherwise. The dev stack asks this before it decides how to run the bot."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bots.selectors import bot_discord_token_set
from dit_project.errors import ApplicationError


class Command(BaseCommand):
    help = "Print 'discord' when the bot has a DISCORD_TOKEN (admin override or environment), 'local' otherwise."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="The bot's slug.")

    def handle(self, *args: Any, slug: str, **options: Any) -> None:
        try:
            discord = bot_discord_token_set(slug=slug)
        except ApplicationError as exc:
            raise CommandError(exc.message, returncode=1) from None
        self.stdout.write("discord" if discord else "local")
