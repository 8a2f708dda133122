"""Writes of the memory app beyond ingest: retention, the one way transcript rows are removed."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import connection, transaction

from dit_project.errors import ApplicationError
from memory.models import Transcript
from reactor.choices import EventKind
from reactor.services import emit_event

logger = logging.getLogger(__name__)

PURGE_BATCH_SIZE = 2000


def purge_transcripts(*, before: datetime, guild_id: str | None = None, batch_size: int = PURGE_BATCH_SIZE) -> int:
    """Delete transcripts posted before a moment (with their revisions), in batches; return how many went.

    Each batch is its own transaction of at most `batch_size` transcripts, so a large purge neither holds
    locks for long nor loads every id at once. A `transcripts.purged` event tells the apps that keep rows
    about these messages (the host's claims) to purge theirs.
    """
    if before.utcoffset() is None:
        raise ApplicationError("before must be a timezone-aware datetime", code="invalid_argument", field="before")
    if batch_size < 1:
        raise ApplicationError("batch_size must be at least 1", code="invalid_argument", field="batch_size")
    purged = 0
    while True:
        batch = _purge_batch(before=before, guild_id=guild_id, batch_size=batch_size)
        purged += batch
        if batch < batch_size:
            break
    with transaction.atomic():
        emit_event(
            EventKind.TRANSCRIPTS_PURGED,
            {"before": before, "purged": purged},
            guild_id=guild_id or "",
            channel_id="",
        )
    logger.info("retention purged %s transcripts before %s (guild %s)", purged, before.isoformat(), guild_id)
    return purged


def _purge_batch(*, before: datetime, guild_id: str | None, batch_size: int) -> int:
    with transaction.atomic():
        # The guard trigger lets deletes through only while this transaction-local flag is on. It is
        # switched off again before leaving, so the rest of a caller's outer transaction stays guarded;
        # on an error the savepoint rollback reverts it.
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('dit.transcript_retention', 'on', true)")
        # The base manager's plain queryset: the default manager refuses deletes on purpose.
        rows = Transcript._base_manager.filter(created_at__lt=before)
        if guild_id is not None:
            rows = rows.filter(guild_id=guild_id)
        ids = list(rows.order_by("created_at", "id").values_list("id", flat=True)[:batch_size])
        _, per_model = Transcript._base_manager.filter(id__in=ids).delete()
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('dit.transcript_retention', 'off', true)")
    return per_model.get(Transcript._meta.label, 0)
