"""`manage.py rebuild_memory --guild ID [--no-extract] [--no-summaries]`: drop everything memory derived for a
guild and derive it again from the transcripts, with a progress bar. Pinned core blocks are kept."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from tqdm import tqdm

from memory.models import Transcript
from memory.rebuild import rebuild_guild


class Command(BaseCommand):
    help = "Rebuild a guild's archive, epochs, highlights, facts, lore and dossiers from its transcripts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--guild", required=True, help="The guild to rebuild.")
        parser.add_argument("--no-extract", action="store_true", help="Skip the model check of moment extraction.")
        parser.add_argument("--no-summaries", action="store_true", help="Close epochs without summarizing them.")

    def handle(self, *args: Any, **options: Any) -> None:
        guild_id = options["guild"]
        total = Transcript.objects.filter(guild_id=guild_id).count()
        with tqdm(total=total, desc=f"rebuild {guild_id}", unit="msg", file=sys.stderr) as bar:
            report = rebuild_guild(
                guild_id=guild_id,
                extract=not options["no_extract"],
                summarize=not options["no_summaries"],
                progress=bar.update,
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"rebuilt {guild_id}: archived {report.archived}, embedded {report.embedded}, epochs {report.epochs}, "
                f"highlights {report.highlights}, facts {report.facts}, dossiers {report.dossiers}, lore {report.lore}"
            )
        )
