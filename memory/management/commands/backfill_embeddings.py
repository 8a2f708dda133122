"""`manage.py backfill_embeddings [--guild ID]`: archive every transcript not yet archived and embed every row
still without a vector, with a progress bar. Safe to stop and run again: it picks up where it stopped."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from tqdm import tqdm

from memory.archive import archive_missing, count_missing, embed_pending


class Command(BaseCommand):
    help = "Archive transcripts that have no archive row and embed archive rows that have no vector."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--guild", default=None, help="Only this guild (default: every guild and DM).")

    def handle(self, *args: Any, **options: Any) -> None:
        guild_id = options["guild"]
        missing_rows, _ = count_missing(guild_id=guild_id)
        with tqdm(total=missing_rows, desc="archive", unit="msg", file=sys.stderr) as bar:
            archived = archive_missing(guild_id=guild_id, progress=bar.update)
        _, missing_vectors = count_missing(guild_id=guild_id)
        with tqdm(total=missing_vectors, desc="embed", unit="msg", file=sys.stderr) as bar:
            embedded = embed_pending(guild_id=guild_id, progress=bar.update)
        self.stdout.write(self.style.SUCCESS(f"archived {archived} transcripts, embedded {embedded} rows"))
