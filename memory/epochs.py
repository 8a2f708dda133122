"""Conversation epochs: close a channel's window when it falls silent, then summarize it (purpose epoch-summarize).

`epoch_close` is what the reactor's silence timer (`memory.triggers.close_epoch`) calls when a channel
has been quiet for its gap (the guild's policy, else DIT_EPOCH_GAP_SECONDS). The epoch row is written at
once and its summary is a trigger scheduled in the same transaction; the raw transcripts are never touched.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from asgiref.sync import async_to_sync
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max, QuerySet
from django.utils import timezone
from jsonschema import Draft202012Validator

from dit_project.errors import ApplicationError
from memory.choices import EpochStatus, Visibility
from memory.embedding.providers import Embedder, default_embedder
from memory.errors import EpochError
from memory.models import Epoch, GuildMemoryPolicy, Transcript
from reactor.services import schedule

logger = logging.getLogger(__name__)

SUMMARY_TRIGGER = "memory.summarize_epoch"

SUMMARY_MESSAGES = 400
SUMMARY_SCHEMA = {
    "type": "object",
    "properties": {
        "summary": {"type": "string", "minLength": 1},
        "topics": {"type": "array", "items": {"type": "string"}, "maxItems": 8},
    },
    "required": ["summary", "topics"],
}
SUMMARY_PROMPT = (
    "Summarize this stretch of a group chat in two to four sentences: what was talked about, what was decided, "
    "who held which view. Paraphrase; refer to people by the names shown. Then list up to 8 short topic tags. "
    'Reply with JSON only: {"summary": "...", "topics": ["..."]}'
)


@dataclass(frozen=True)
class EpochCloseCall:
    """The arguments the silence trigger passes to `epoch_close`: which channel, and when it last spoke."""

    guild_id: str
    channel_id: str
    silent_since: datetime


def epoch_gap(guild_id: str) -> timedelta:
    """The silence that closes an epoch in this guild: its policy, else DIT_EPOCH_GAP_SECONDS."""
    seconds = (
        GuildMemoryPolicy.objects.filter(guild_id=guild_id).values_list("epoch_gap_seconds", flat=True).first()
        if guild_id
        else None
    )
    return timedelta(seconds=int(seconds or settings.DIT_EPOCH_GAP_SECONDS))


def epoch_close(
    *, guild_id: str, channel_id: str, silent_since: datetime | None = None, now: datetime | None = None
) -> Epoch | None:
    """Close the channel's open window if it has really been silent for its gap; None when there is nothing to close.

    `silent_since` is the time of the message that started the silence (the trigger's view); a message that
    arrived since then means the channel is not silent, and nothing closes.
    """
    now = now or timezone.now()
    gap = epoch_gap(guild_id)
    with transaction.atomic():
        rows = _open_window(guild_id, channel_id)
        newest = rows.order_by("-created_at", "-seq").first()
        if newest is None:
            return None
        if silent_since is not None and newest.created_at > silent_since:
            return None
        if now - newest.created_at < gap:
            return None
        return close_window(rows, closed_at=now)


def channel_transcripts(guild_id: str, channel_id: str) -> QuerySet[Transcript]:
    """A channel's transcripts in its scope: the guild's channel, or the DM channel when there is no guild."""
    rows = Transcript.objects.filter(channel_id=channel_id)
    return rows.filter(guild_id=guild_id) if guild_id else rows.filter(is_dm=True)


def _open_window(guild_id: str, channel_id: str) -> QuerySet[Transcript]:
    last = Epoch.objects.filter(channel_id=channel_id).aggregate(last=Max("last_seq"))["last"] or 0
    return channel_transcripts(guild_id, channel_id).filter(seq__gt=last)


def close_window(rows: QuerySet[Transcript], *, closed_at: datetime) -> Epoch | None:
    """Make the epoch of these transcripts (one channel's window) and queue its summary after commit."""
    window = list(
        rows.order_by("created_at", "seq").values(
            "seq", "created_at", "author_id", "author_is_bot", "guild_id", "channel_id", "channel_name", "is_dm"
        )
    )
    if not window:
        return None
    first, last = window[0], window[-1]
    participants = sorted({row["author_id"] for row in window if not row["author_is_bot"]})
    try:
        with transaction.atomic():
            epoch = Epoch.objects.create(
                guild_id=first["guild_id"],
                channel_id=first["channel_id"],
                channel_name=last["channel_name"],
                visibility=Visibility.DM if first["is_dm"] else Visibility.GUILD,
                subject_user_id="",
                start_at=first["created_at"],
                end_at=last["created_at"],
                first_seq=first["seq"],
                last_seq=last["seq"],
                message_count=len(window),
                participants=participants,
                score=min(1.0, len(window) / 50) * min(1.0, len(participants) / 3),
                closed_at=closed_at,
            )
    except IntegrityError:
        # The same window closed by another caller a moment ago (a retried trigger): one epoch is enough.
        logger.info("epoch of channel %s from seq %s already closed", first["channel_id"], first["seq"])
        return None
    # In the closing transaction: the summary is owed exactly when the epoch exists.
    schedule(
        SUMMARY_TRIGGER,
        due_at=timezone.now(),
        payload={"epoch_id": epoch.pk},
        dedupe_key=f"{SUMMARY_TRIGGER}:{epoch.pk}",
        guild_id=epoch.guild_id,
        channel_id=epoch.channel_id,
    )
    logger.info("closed epoch %s of channel %s: %s messages", epoch.pk, epoch.channel_id, epoch.message_count)
    return epoch


def summarize_epoch_by_id(epoch_id: int) -> Epoch | None:
    """Summarize the epoch with this id; quietly nothing when it is gone."""
    epoch = Epoch.objects.filter(pk=epoch_id).first()
    if epoch is None:
        return None
    return summarize_epoch(epoch)


def summarize_epoch(epoch: Epoch, *, embedder: Embedder | None = None) -> Epoch:
    """Write summary, topics, participants and embedding from the epoch's transcripts (mid tier)."""
    from gateway.client import complete
    from gateway.parser import extract_json, schema_errors

    lines = epoch_lines(epoch)
    epoch.attempts += 1
    if not lines:
        epoch.status, epoch.last_error = EpochStatus.FAILED, "the epoch's messages are gone"
        epoch.save(update_fields=["status", "last_error", "attempts"])
        return epoch
    messages = [{"role": "system", "content": SUMMARY_PROMPT}, {"role": "user", "content": "\n".join(lines)}]
    try:
        completion = async_to_sync(complete)(
            purpose="epoch-summarize", messages=messages, guild_id=epoch.guild_id or None
        )
        value = extract_json(completion.text or completion.reasoning or "")
        errors = schema_errors(Draft202012Validator(SUMMARY_SCHEMA), value)
        if errors:
            raise EpochError(f"the summary did not match its schema: {'; '.join(errors)}")
    except (ValueError, ApplicationError) as exc:
        # Gateway failures (budget, quota, providers down) and bad replies alike: the row keeps the error.
        epoch.status, epoch.last_error = EpochStatus.FAILED, str(exc)[:2000]
        epoch.save(update_fields=["status", "last_error", "attempts"])
        logger.warning("epoch %s summary failed: %s", epoch.pk, exc)
        return epoch
    epoch.summary_text = str(value["summary"]).strip()
    epoch.topics = [str(topic).strip()[:100] for topic in value["topics"] if str(topic).strip()]
    epoch.participants = participants_of(epoch)
    epoch.embedding = (embedder or default_embedder()).embed([epoch.summary_text], guild_id=epoch.guild_id or None)[0]
    epoch.status, epoch.last_error, epoch.summarized_at = EpochStatus.SUMMARIZED, "", timezone.now()
    epoch.save(
        update_fields=[
            "summary_text",
            "topics",
            "participants",
            "embedding",
            "status",
            "last_error",
            "summarized_at",
            "attempts",
        ]
    )
    return epoch


def epoch_transcripts(epoch: Epoch) -> list[Transcript]:
    """The transcripts an epoch covers, oldest first."""
    rows = Transcript.objects.filter(channel_id=epoch.channel_id, seq__gte=epoch.first_seq, seq__lte=epoch.last_seq)
    return list(rows.order_by("created_at", "seq")[: SUMMARY_MESSAGES * 4])


def epoch_lines(epoch: Epoch) -> list[str]:
    """The epoch's messages as `name: words` lines for the summarizer (at most SUMMARY_MESSAGES, the latest)."""
    rows = [row for row in epoch_transcripts(epoch) if row.content.strip()]
    return [f"{row.author_display_name}: {' '.join(row.content.split())}" for row in rows[-SUMMARY_MESSAGES:]]


def participants_of(epoch: Epoch) -> list[str]:
    """The people (not bots) who spoke in the epoch, by user id."""
    return sorted({row.author_id for row in epoch_transcripts(epoch) if not row.author_is_bot})


def resummarize(epoch_ids: Sequence[int], *, embedder: Embedder | None = None) -> int:
    """Summarize these epochs again from their (possibly redacted) transcripts; return how many succeeded."""
    done = 0
    for epoch in Epoch.objects.filter(pk__in=list(epoch_ids)):
        epoch.summary_text, epoch.topics, epoch.embedding = "", [], None
        epoch.participants = participants_of(epoch)
        epoch.save(update_fields=["summary_text", "topics", "embedding", "participants"])
        if summarize_epoch(epoch, embedder=embedder).status == EpochStatus.SUMMARIZED:
            done += 1
    return done
