"""Rebuild a guild's memory from its transcripts: everything derived is dropped and derived again.

Pinned core blocks are written by people, not derived, so they stay. The archive is re-copied and
re-embedded, epochs are re-closed at every silence of the gap, moment extraction runs over each channel in
exchanges, and consolidation refreshes dossiers and lore.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction

from memory.archive import archive_missing, embed_pending
from memory.embedding.providers import Embedder
from memory.epochs import close_window, epoch_gap, summarize_epoch
from memory.models import ArchiveEntry, Dossier, Epoch, Fact, GroupLore, Highlight, Transcript
from memory.moments import consolidate_guild, extract_exchange

logger = logging.getLogger(__name__)

EXCHANGE = 6


@dataclass(frozen=True)
class RebuildReport:
    """What a rebuild removed and wrote."""

    removed: dict[str, int]
    archived: int
    embedded: int
    epochs: int
    highlights: int
    facts: int
    dossiers: int
    lore: int


def rebuild_guild(
    *,
    guild_id: str,
    extract: bool = True,
    summarize: bool = True,
    embedder: Embedder | None = None,
    progress: Callable[[int], object] | None = None,
) -> RebuildReport:
    """Drop and re-derive the guild's archive, epochs, highlights, facts, lore and dossiers."""
    with transaction.atomic():
        removed = {
            model._meta.model_name or model.__name__: model.objects.filter(guild_id=guild_id).delete()[0]
            for model in (Highlight, Fact, GroupLore, Dossier, Epoch, ArchiveEntry)
        }
    archived = archive_missing(guild_id=guild_id)
    embedded = embed_pending(guild_id=guild_id, embedder=embedder)
    epochs = _reclose_epochs(guild_id, summarize=summarize, embedder=embedder)
    highlights = facts = 0
    rows = Transcript.objects.filter(guild_id=guild_id).order_by("channel_id", "seq").values_list("pk", "channel_id")
    chunk: list[int] = []
    channel = None
    for pk, channel_id in rows.iterator():
        if chunk and (channel_id != channel or len(chunk) >= EXCHANGE):
            highlights, facts = _extract(chunk, extract, embedder, highlights, facts)
            if progress is not None:
                progress(len(chunk))
            chunk = []
        chunk.append(pk)
        channel = channel_id
    if chunk:
        highlights, facts = _extract(chunk, extract, embedder, highlights, facts)
        if progress is not None:
            progress(len(chunk))
    report = consolidate_guild(guild_id=guild_id, embedder=embedder)
    return RebuildReport(
        removed=removed,
        archived=archived,
        embedded=embedded,
        epochs=epochs,
        highlights=highlights,
        facts=facts,
        dossiers=report.dossiers,
        lore=report.lore,
    )


def _extract(
    chunk: list[int], extract: bool, embedder: Embedder | None, highlights: int, facts: int
) -> tuple[int, int]:
    if not extract:
        return highlights, facts
    found = extract_exchange(transcript_ids=chunk, embedder=embedder)
    return highlights + found.highlights, facts + found.facts


def _reclose_epochs(guild_id: str, *, summarize: bool, embedder: Embedder | None) -> int:
    gap = epoch_gap(guild_id)
    closed = 0
    channels = Transcript.objects.filter(guild_id=guild_id).values_list("channel_id", flat=True).distinct()
    for channel_id in list(channels):
        rows = list(
            Transcript.objects.filter(guild_id=guild_id, channel_id=channel_id)
            .order_by("created_at", "seq")
            .values_list("seq", "created_at")
        )
        start = 0
        for index in range(1, len(rows) + 1):
            if index < len(rows) and rows[index][1] - rows[index - 1][1] < gap:
                continue
            first, last = rows[start][0], rows[index - 1][0]
            window = Transcript.objects.filter(channel_id=channel_id, seq__gte=first, seq__lte=last)
            # The newest window may still be open (the channel not yet silent): it closes later, by the trigger.
            if index < len(rows):
                with transaction.atomic():
                    epoch = close_window(window, closed_at=rows[index][1])
                if epoch is not None:
                    closed += 1
                    if summarize:
                        summarize_epoch(epoch, embedder=embedder)
            start = index
    return closed
