"""Inbound message ingest: the host hands every platform message here once it is platform-neutral.

Ingest is idempotent on (platform, message_id): a redelivered or resumed message is stored once, an edit
is stored as a revision beside the untouched original, and each new row appends a reactor event in the
same transaction (announced to listeners after commit). It runs once per inbound message, so it is a
single INSERT ... ON CONFLICT DO NOTHING plus the event row: no read before the write.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from functools import cache
from typing import Any, TypeVar

from asgiref.sync import sync_to_async
from django.db import connection, models, transaction

from memory.choices import TranscriptRole
from memory.errors import InvalidIngestMessage
from memory.models import Transcript, TranscriptRevision
from reactor.choices import EventKind
from reactor.services import emit_event

_M = TypeVar("_M", bound=models.Model)

_ROLES = frozenset(TranscriptRole.values)


@dataclass(frozen=True, slots=True)
class IngestMessage:
    """One inbound message as the host describes it, whatever platform it came from."""

    platform: str
    message_id: str
    channel_id: str
    author_id: str
    author_display_name: str
    content: str
    created_at: datetime
    guild_id: str = ""
    is_dm: bool = False
    channel_name: str = ""
    parent_channel_id: str = ""
    author_is_bot: bool = False
    role: TranscriptRole = TranscriptRole.USER
    reply_to_message_id: str = ""
    reply_to_author_id: str = ""
    mentions: tuple[str, ...] = ()
    # Set when this delivery is an edit of a message posted earlier (the platform's edit time).
    edited_at: datetime | None = None

    def __post_init__(self) -> None:
        for name in ("platform", "message_id", "channel_id", "author_id"):
            if not getattr(self, name):
                raise InvalidIngestMessage(f"{name} is required and was empty", field=name)
        for name, limit in _text_limits().items():
            value = getattr(self, name)
            if not isinstance(value, str):
                raise InvalidIngestMessage(f"{name} must be a string, not {type(value).__name__}", field=name)
            if limit is not None and len(value) > limit:
                raise InvalidIngestMessage(f"{name} is {len(value)} characters; at most {limit} fit", field=name)
            if "\x00" in value:
                raise InvalidIngestMessage(f"{name} contains a NUL character, which cannot be stored", field=name)
        if self.is_dm and self.guild_id:
            raise InvalidIngestMessage("a direct message has no guild_id; got one", field="guild_id")
        if not self.is_dm and not self.guild_id:
            raise InvalidIngestMessage("guild_id is required unless is_dm is true", field="guild_id")
        if self.role not in _ROLES:
            raise InvalidIngestMessage(f"role {self.role!r} is not one of {sorted(_ROLES)}", field="role")
        for name in ("created_at", "edited_at"):
            moment = getattr(self, name)
            if moment is not None and (not isinstance(moment, datetime) or moment.utcoffset() is None):
                raise InvalidIngestMessage(f"{name} must be a timezone-aware datetime", field=name)
        if not isinstance(self.mentions, tuple) or not all(isinstance(m, str) and m for m in self.mentions):
            raise InvalidIngestMessage("mentions must be a tuple of non-empty user id strings", field="mentions")


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What ingest did: the stored transcript, whether this call created it, and the edit it recorded if any."""

    transcript: Transcript
    created: bool
    revision: TranscriptRevision | None = None


def ingest_message(msg: IngestMessage) -> IngestResult:
    """Store an inbound message once (an edit as a revision) and append its reactor event in one transaction."""
    # savepoint=False: nested in a caller's transaction this adds no SAVEPOINT round trips; a failure
    # marks the caller's transaction for rollback instead, so the transcript and its event stay together.
    with transaction.atomic(savepoint=False):
        transcript = _insert_or_nothing(
            Transcript, transcript_values(msg), constraint="memory_transcript_unique_message"
        )
        if transcript is not None:
            emit_event(
                EventKind.MESSAGE_INGESTED,
                _ingested_payload(transcript),
                guild_id=transcript.guild_id,
                channel_id=transcript.channel_id,
                idempotency_key=f"{EventKind.MESSAGE_INGESTED}:{transcript.platform}:{transcript.message_id}",
            )
            return IngestResult(transcript=transcript, created=True)
        # Redelivery (or the loser of a concurrent insert, which waited for the winner to commit).
        transcript = Transcript.objects.get(platform=msg.platform, message_id=msg.message_id)
        return IngestResult(transcript=transcript, created=False, revision=_record_edit(transcript, msg))


async def aingest_message(msg: IngestMessage) -> IngestResult:
    """Async form of ingest_message for the host's event loop; the database work runs off the loop."""
    return await sync_to_async(ingest_message)(msg)


def _record_edit(transcript: Transcript, msg: IngestMessage) -> TranscriptRevision | None:
    # Without an edit time this is the message as first posted, delivered again: never a revision, even
    # if later edits changed the wording since.
    if msg.edited_at is None:
        return None
    latest = (
        TranscriptRevision.objects.filter(transcript=transcript)
        .order_by("-edited_at", "-id")
        .values_list("content", flat=True)
        .first()
    )
    current = transcript.content if latest is None else latest
    if msg.content == current:
        return None
    revision = _insert_or_nothing(
        TranscriptRevision,
        {"transcript_id": transcript.pk, "content": msg.content, "edited_at": msg.edited_at},
        constraint="memory_revision_unique_edit",
    )
    if revision is not None:
        emit_event(
            EventKind.MESSAGE_EDITED,
            {
                "transcript_id": transcript.pk,
                "revision_id": revision.pk,
                "platform": transcript.platform,
                "message_id": transcript.message_id,
                "author_id": transcript.author_id,
                "is_dm": transcript.is_dm,
                "edited_at": msg.edited_at,
            },
            guild_id=transcript.guild_id,
            channel_id=transcript.channel_id,
        )
    return revision


def transcript_values(msg: IngestMessage) -> dict[str, Any]:
    """The transcript row an inbound message is stored as, keyed by column."""
    return {
        "platform": msg.platform,
        "message_id": msg.message_id,
        "guild_id": msg.guild_id,
        "channel_id": msg.channel_id,
        "channel_name": msg.channel_name,
        "parent_channel_id": msg.parent_channel_id,
        "is_dm": msg.is_dm,
        "author_id": msg.author_id,
        "author_display_name": msg.author_display_name,
        "author_is_bot": msg.author_is_bot,
        "role": str(msg.role),
        "content": msg.content,
        "reply_to_message_id": msg.reply_to_message_id,
        "reply_to_author_id": msg.reply_to_author_id,
        "mentions": list(msg.mentions),
        "created_at": msg.created_at,
    }


def _ingested_payload(transcript: Transcript) -> dict[str, Any]:
    # No content: the event log is read by operators and triggers; words stay in the transcript table,
    # behind the privacy boundary of context assembly.
    return {
        "transcript_id": transcript.pk,
        "seq": transcript.seq,
        "platform": transcript.platform,
        "message_id": transcript.message_id,
        "author_id": transcript.author_id,
        "author_is_bot": transcript.author_is_bot,
        "role": transcript.role,
        "is_dm": transcript.is_dm,
        "reply_to_author_id": transcript.reply_to_author_id,
        "reply_to_message_id": transcript.reply_to_message_id,
        "mentions": transcript.mentions,
        "created_at": transcript.created_at,
    }


def _insert_or_nothing(model: type[_M], values: dict[str, Any], *, constraint: str) -> _M | None:
    """INSERT one row unless it conflicts on the named unique constraint; the new instance, or None."""
    # The values go to the driver as they are: ingest validated them, and none of these columns needs
    # Django's conversion (psycopg adapts str, bool, aware datetimes and lists itself).
    sql, returning = _insert_sql(model, tuple(values), constraint)
    with connection.cursor() as cursor:
        cursor.execute(sql, list(values.values()))
        row = cursor.fetchone()
    if row is None:
        return None
    instance = model(**values, **{field.attname: value for field, value in zip(returning, row, strict=True)})
    instance._state.adding = False
    instance._state.db = connection.alias
    return instance


@cache
def _insert_sql(
    model: type[models.Model], attnames: tuple[str, ...], constraint: str
) -> tuple[str, list[models.Field[Any, Any]]]:
    meta = model._meta
    quote = connection.ops.quote_name
    by_attname = {field.attname: field for field in meta.concrete_fields}
    columns = [by_attname[name] for name in attnames]
    # What the database fills in (id, seq, ingested_at) comes back with RETURNING.
    returning = [field for field in meta.concrete_fields if field.attname not in attnames]
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in columns)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(columns))}) "
        f"ON CONFLICT ON CONSTRAINT {quote(constraint)} DO NOTHING "
        f"RETURNING {', '.join(quote(f.column) for f in returning)}"
    )
    return sql, returning


@cache
def _text_limits() -> dict[str, int | None]:
    # The model's own column sizes, so a too-long value is refused here with its name, not by the database.
    limits: dict[str, int | None] = {}
    for item in fields(IngestMessage):
        if item.type != "str":
            continue
        field = Transcript._meta.get_field(item.name)
        limits[item.name] = getattr(field, "max_length", None)
    return limits
