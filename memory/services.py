"""Writes of the memory app beyond ingest: retention, the one way transcript rows are removed."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction

from dit_project.errors import ApplicationError
from memory.models import Transcript
from reactor.choices import EventKind
from reactor.services import emit_event

logger = logging.getLogger(__name__)

DEFAULT_PURGE_BATCH = 1000


@dataclass(frozen=True, slots=True)
class PurgeBatch:
    """One bounded purge: how many transcripts went, and whether older ones remain."""

    purged: int
    more: bool


def purge_transcripts_batch(
    *, before: datetime, guild_id: str | None = None, limit: int = DEFAULT_PURGE_BATCH
) -> PurgeBatch:
    """Delete at most `limit` transcripts posted before a moment (oldest first, with their revisions)."""
    if before.utcoffset() is None:
        raise ApplicationError("before must be a timezone-aware datetime", code="invalid_argument", field="before")
    if limit < 1:
        raise ApplicationError("limit must be at least 1", code="invalid_argument", field="limit")
    rows = Transcript._base_manager.filter(created_at__lt=before)
    if guild_id is not None:
        rows = rows.filter(guild_id=guild_id)
    # One more id than the batch takes says whether another batch is needed, without a COUNT.
    ids = list(rows.order_by("created_at", "seq").values_list("pk", flat=True)[: limit + 1])
    batch, more = ids[:limit], len(ids) > limit
    if not batch:
        return PurgeBatch(purged=0, more=False)
    with transaction.atomic():
        # The guard trigger lets deletes through only while this transaction-local flag is on. It is
        # switched off again before leaving, so the rest of a caller's outer transaction stays guarded;
        # on an error the savepoint rollback reverts it.
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('dit.transcript_retention', 'on', true)")
        # The base manager's plain queryset: the default manager refuses deletes on purpose.
        _, per_model = Transcript._base_manager.filter(pk__in=batch).delete()
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('dit.transcript_retention', 'off', true)")
        purged = per_model.get(Transcript._meta.label, 0)
        # In the purge's transaction: the apps that keep rows about these messages (the host's claims)
        # purge theirs once it commits.
        emit_event(
            EventKind.TRANSCRIPTS_PURGED, {"before": before, "purged": purged}, guild_id=guild_id or "", channel_id=""
        )
    logger.info("retention purged %s transcripts before %s (guild %s)", purged, before.isoformat(), guild_id)
    return PurgeBatch(purged=purged, more=more)


def purge_transcripts(*, before: datetime, guild_id: str | None = None, batch_size: int = DEFAULT_PURGE_BATCH) -> int:
    """Delete every transcript posted before a moment, a bounded batch per transaction; return how many went."""
    total = 0
    while True:
        batch = purge_transcripts_batch(before=before, guild_id=guild_id, limit=batch_size)
        total += batch.purged
        if not batch.more:
            return total
