"""Writes of the observability app: an occurrence of an error, counted on its fingerprint's row."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from django.db import connection

from observability.models import ErrorEvent

if TYPE_CHECKING:
    from observability.capture import CapturedError

# One statement, raw SQL because the ORM's upsert cannot add to the stored count: concurrent occurrences
# of one error (a storm over several workers) each add one to the same row instead of racing on a read.
_UPSERT_SQL = (
    f"INSERT INTO {ErrorEvent._meta.db_table} AS e "  # noqa: S608 - the table name is the model's own
    "(fingerprint, exception_type, location, message, source, logger_name, count, first_seen, last_seen, "
    "last_traceback, context) VALUES (%s, %s, %s, %s, %s, %s, 1, %s, %s, %s, %s::jsonb) "
    "ON CONFLICT (fingerprint) DO UPDATE SET count = e.count + 1, "
    "last_seen = GREATEST(e.last_seen, EXCLUDED.last_seen), message = EXCLUDED.message, "
    "source = EXCLUDED.source, logger_name = EXCLUDED.logger_name, "
    "last_traceback = EXCLUDED.last_traceback, context = EXCLUDED.context"
)


def error_event_record(*, captured: CapturedError) -> None:
    """Count one occurrence on its fingerprint's row (created on the first), keeping its traceback and context."""
    with connection.cursor() as cursor:
        cursor.execute(
            _UPSERT_SQL,
            [
                captured.fingerprint,
                captured.exception_type,
                captured.location,
                captured.message,
                captured.source,
                captured.logger_name,
                captured.seen_at,
                captured.seen_at,
                captured.traceback,
                json.dumps(dict(captured.context)),
            ],
        )
