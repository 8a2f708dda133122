"""Writes of the memory app beyond ingest: retention, the one way transcript rows are removed."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import connection, transaction

from dit_project.errors import ApplicationError
from memory.models import Transcript

logger = logging.getLogger(__name__)


def purge_transcripts(*, before: datetime, guild_id: str | None = None) -> int:
    """Delete transcripts posted before a moment (with their revisions); return how many transcripts went."""
    if before.utcoffset() is None:
        raise ApplicationError("before must be a timezone-aware datetime", code="invalid_argument", field="before")
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
        _, per_model = rows.delete()
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('dit.transcript_retention', 'off', true)")
    purged = per_model.get(Transcript._meta.label, 0)
    logger.info("retention purged %s transcripts before %s (guild %s)", purged, before.isoformat(), guild_id)
    return purged
