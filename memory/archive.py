"""The archive: every transcript gets a searchable row (current wording, full-text vector, embedding).

Off the reply path by design: ingest stores the transcript and returns; the reactor's archive trigger
(`memory.triggers.archive_new`, armed by the message's event) runs `archive_new_transcripts` a few
seconds later, which copies what arrived since the last run and embeds it in batches.
`backfill_embeddings` covers everything older or missed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max, OuterRef, Subquery
from django.utils import timezone

from memory.choices import Visibility
from memory.embedding.providers import Embedder, default_embedder
from memory.models import ArchiveEntry, GuildMemoryPolicy, Transcript, TranscriptRevision
from memory.services import purge_transcripts

logger = logging.getLogger(__name__)

# Transcripts may commit out of seq order (concurrent ingests), so each run looks back this far past the
# newest archived seq for rows an earlier run could not yet see.
SEQ_LOOKBACK = 2000
ARCHIVE_BATCH = 500

Progress = Callable[[int], object]


@dataclass(frozen=True)
class ArchiveRun:
    """What one archiving pass did."""

    archived: int
    embedded: int


def archive_new_transcripts(*, embedder: Embedder | None = None, limit: int = 10 * ARCHIVE_BATCH) -> ArchiveRun:
    """Archive transcripts newer than the archive's newest row (with a look-back), then embed them."""
    newest = ArchiveEntry.objects.aggregate(newest=Max("seq"))["newest"] or 0
    candidates = (
        Transcript.objects.filter(seq__gt=max(0, newest - SEQ_LOOKBACK), archive_entry__isnull=True)
        .order_by("seq")
        .values_list("pk", flat=True)[:limit]
    )
    ids = list(candidates)
    archived = archive_transcripts(ids)
    embedded = embed_pending(embedder=embedder, limit=max(limit, archived))
    return ArchiveRun(archived=archived, embedded=embedded)


def archive_transcripts(transcript_ids: Sequence[int]) -> int:
    """Write (or refresh, after an edit) the archive rows of these transcripts; return how many changed."""
    changed = 0
    for start in range(0, len(transcript_ids), ARCHIVE_BATCH):
        changed += _archive_batch(transcript_ids[start : start + ARCHIVE_BATCH])
    return changed


def _archive_batch(transcript_ids: Sequence[int]) -> int:
    latest_edit = (
        TranscriptRevision.objects.filter(transcript=OuterRef("pk")).order_by("-edited_at", "-id").values("content")[:1]
    )
    rows = Transcript.objects.filter(pk__in=transcript_ids).annotate(latest_edit=Subquery(latest_edit))
    existing = {entry.transcript_id: entry for entry in ArchiveEntry.objects.filter(transcript_id__in=transcript_ids)}
    new: list[ArchiveEntry] = []
    refreshed: list[ArchiveEntry] = []
    for row in rows:
        content = row.latest_edit if row.latest_edit is not None else row.content
        entry = existing.get(row.pk)
        if entry is None:
            new.append(_entry_for(row, content))
        elif entry.content != content:
            # An edit: the new wording needs a new vector.
            entry.content, entry.embedding, entry.embedded_at, entry.embedding_model = content, None, None, ""
            refreshed.append(entry)
    with transaction.atomic():
        ArchiveEntry.objects.bulk_create(new, ignore_conflicts=True)
        if refreshed:
            ArchiveEntry.objects.bulk_update(refreshed, ["content", "embedding", "embedded_at", "embedding_model"])
    return len(new) + len(refreshed)


def _entry_for(row: Transcript, content: str) -> ArchiveEntry:
    return ArchiveEntry(
        transcript_id=row.pk,
        seq=row.seq,
        guild_id=row.guild_id,
        channel_id=row.channel_id,
        channel_name=row.channel_name,
        subject_user_id=row.author_id,
        visibility=Visibility.DM if row.is_dm else Visibility.GUILD,
        source_transcript_ids=[row.pk],
        author_display_name=row.author_display_name,
        author_is_bot=row.author_is_bot,
        content=content,
        said_at=row.created_at,
        created_at=timezone.now(),
    )


def embed_pending(
    *,
    embedder: Embedder | None = None,
    limit: int | None = None,
    guild_id: str | None = None,
    progress: Progress | None = None,
) -> int:
    """Embed archive rows that have no vector yet, oldest first, in batches; return how many were embedded."""
    embedder = embedder or default_embedder()
    batch = int(settings.DIT_EMBEDDING_BATCH_SIZE) * 8
    done = 0
    last_seq = 0
    while limit is None or done < limit:
        size = batch if limit is None else min(batch, limit - done)
        pending = ArchiveEntry.objects.filter(embedding__isnull=True, seq__gt=last_seq)
        if guild_id is not None:
            pending = pending.filter(guild_id=guild_id)
        rows = list(pending.order_by("seq").only("pk", "seq", "content", "guild_id")[:size])
        if not rows:
            break
        vectors = embedder.embed([row.content for row in rows], guild_id=rows[0].guild_id or None)
        now = timezone.now()
        for row, vector in zip(rows, vectors, strict=True):
            row.embedding, row.embedded_at, row.embedding_model = vector, now, embedder.name
        ArchiveEntry.objects.bulk_update(rows, ["embedding", "embedded_at", "embedding_model"])
        done += len(rows)
        last_seq = rows[-1].seq
        if progress is not None:
            progress(len(rows))
    return done


def archive_missing(*, guild_id: str | None = None, progress: Progress | None = None) -> int:
    """Archive every transcript that has no archive row yet (the backfill's first half)."""
    rows = Transcript.objects.filter(archive_entry__isnull=True)
    if guild_id is not None:
        rows = rows.filter(guild_id=guild_id)
    done = 0
    last_seq = 0
    while True:
        ids = list(rows.filter(seq__gt=last_seq).order_by("seq").values_list("pk", "seq")[:ARCHIVE_BATCH])
        if not ids:
            return done
        archive_transcripts([pk for pk, _ in ids])
        done += len(ids)
        last_seq = ids[-1][1]
        if progress is not None:
            progress(len(ids))


def count_missing(*, guild_id: str | None = None) -> tuple[int, int]:
    """(transcripts without an archive row, archive rows without a vector), for progress bars."""
    transcripts = Transcript.objects.filter(archive_entry__isnull=True)
    entries = ArchiveEntry.objects.filter(embedding__isnull=True)
    if guild_id is not None:
        transcripts = transcripts.filter(guild_id=guild_id)
        entries = entries.filter(guild_id=guild_id)
    return transcripts.count(), entries.count()


def apply_retention(*, guild_ids: Iterable[str] | None = None) -> dict[str, int]:
    """Purge transcripts (and with them their archive rows) older than each guild's retention."""
    policies = GuildMemoryPolicy.objects.filter(archive_retention_days__isnull=False)
    if guild_ids is not None:
        policies = policies.filter(guild_id__in=list(guild_ids))
    removed: dict[str, int] = {}
    for policy in policies:
        cutoff = timezone.now() - timedelta(days=int(policy.archive_retention_days or 0))
        removed[policy.guild_id] = purge_transcripts(before=cutoff, guild_id=policy.guild_id)
    return removed
