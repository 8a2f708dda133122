"""Reception: how each of the bot's messages landed, recorded against the decision that sent it.

A watcher (the `bots.reception` trigger, `bots/triggers.py`) is armed when the bot's own message is stored
(its `message.ingested` event: the only declaration reception adds to ingest, and it writes nothing for a
human's message). Its first run finds the decision whose sent beat carries the message; then it waits
until the window closes (DIT_RECEPTION_WINDOW_SECONDS after the bot spoke), woken early by a human's
reaction to the message or reply to it (the wake keys self-followups listen to as well). Every run
records what happened since, once each: reactions, replies, and quotes (a later message linking to it,
or quoting its words on a "> " line). When the window closes with none of those on any of the decision's
messages, it records the silence after it. A quote posted after the window is not looked for.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from bots.followups import reaction_key, reply_key
from bots.host.choices import BeatStatus
from bots.host.models import OutboundBeat
from dispositions.choices import ReceptionKind
from dispositions.models import DecisionReception
from dispositions.services import reception_record
from memory.models import Reaction, Transcript
from reactor.declare import Next, Outcome, TriggerRun

WATCH_TRIGGER = "bots.reception"
# The bot's message is usually stored (echoed by the platform) before its turn marks the beat sent.
LOOKUP_TRIES = 10
LOOKUP_RETRY = timedelta(seconds=1)
QUOTE_SCAN_LIMIT = 200
REPLY_LIMIT = 100
# Fewer characters than this on a "> " line are too little to say which message they quote.
MIN_QUOTE_CHARS = 8

_LINK = re.compile(r"discord(?:app)?\.com/channels/[^/\s]+/[^/\s]+/(\d+)")
_ENGAGED = (ReceptionKind.REACTION, ReceptionKind.REPLY, ReceptionKind.QUOTE)


@dataclass(frozen=True, slots=True)
class Watched:
    """One bot message under watch: which decision sent it, what it said, and when its window closes."""

    decision_id: int
    platform: str
    message_id: str
    channel_id: str
    said: str
    spoke_at: str
    until: str

    @property
    def spoke(self) -> datetime:
        """When the bot's message was posted."""
        return _moment(self.spoke_at)

    @property
    def closes(self) -> datetime:
        """When the window for reactions and replies closes."""
        return _moment(self.until)


def window() -> timedelta:
    """How long a bot message is watched before its silence counts."""
    return timedelta(seconds=float(settings.DIT_RECEPTION_WINDOW_SECONDS))


def quote_of(text: str, *, message_id: str, said: str) -> str:
    """How `text` quotes the bot's message: "link" (a link to it), "words" (a "> " line of its words), or ""."""
    if message_id in _LINK.findall(text):
        return "link"
    spoken = _plain(said)
    for line in text.splitlines():
        stripped = line.lstrip()
        if not stripped.startswith(">"):
            continue
        quoted = _plain(stripped.lstrip(">"))
        if len(quoted) >= MIN_QUOTE_CHARS and spoken and (quoted in spoken or spoken in quoted):
            return "words"
    return ""


def watch(run: TriggerRun) -> Outcome:
    """Record how the bot's message landed so far; wait for more until its window closes, then for silence."""
    state = run.payload.get("watch")
    if state is None:
        return _start(run)
    return _watch(Watched(**state), {})


def _watch(watched: Watched, result: dict[str, Any]) -> Outcome:
    result = {**result, "recorded": look(watched)}
    if timezone.now() < watched.closes:
        keys = (reply_key(watched.message_id), reaction_key(watched.message_id))
        return Outcome(result=result, then=Next(watched.closes, {"watch": asdict(watched)}, wake_keys=keys))
    return Outcome(result={**result, "silence": record_silence(watched)})


def _start(run: TriggerRun) -> Outcome:
    event: dict[str, Any] = dict(run.payload.get("event") or {})
    platform, message_id = str(event.get("platform") or ""), str(event.get("message_id") or "")
    beat = (
        OutboundBeat.objects.filter(
            platform=platform, platform_message_ids__contains=[message_id], status=BeatStatus.SENT
        )
        .only("decision_id", "text", "sent_at", "channel_id")
        .first()
        if message_id
        else None
    )
    if beat is None:
        tries = int(run.payload.get("tries", 0)) + 1
        if tries >= LOOKUP_TRIES:
            return Outcome(result={"reception": "no turn sent this message"})
        retry = {**run.payload, "tries": tries}
        return Outcome(result={"reception": "turn not finished yet"}, then=Next(timezone.now() + LOOKUP_RETRY, retry))
    posted = parse_datetime(str(event.get("created_at") or "")) or beat.sent_at or run.created_at
    watched = Watched(
        decision_id=beat.decision_id,
        platform=platform,
        message_id=message_id,
        channel_id=beat.channel_id,
        said=beat.text,
        spoke_at=posted.isoformat(),
        until=(posted + window()).isoformat(),
    )
    return _watch(watched, {"decision_id": watched.decision_id})


def look(watched: Watched) -> int:
    """Record the reactions, replies and quotes the message has had; how many were new."""
    new = 0
    reactions = Reaction.objects.filter(
        platform=watched.platform, message_id=watched.message_id, user_is_bot=False
    ).order_by("first_added_at")
    for reaction in reactions:
        new += reception_record(
            decision_id=watched.decision_id,
            kind=ReceptionKind.REACTION,
            key=f"reaction:{reaction.pk}",
            message_id=watched.message_id,
            user_id=reaction.user_id,
            at=reaction.first_added_at,
            detail={"emoji": reaction.emoji},
        )
    replies = Transcript.objects.filter(
        platform=watched.platform, reply_to_message_id=watched.message_id, author_is_bot=False
    ).order_by("created_at")[:REPLY_LIMIT]
    for reply in replies.only("message_id", "author_id", "created_at"):
        new += reception_record(
            decision_id=watched.decision_id,
            kind=ReceptionKind.REPLY,
            key=f"reply:{reply.message_id}",
            message_id=watched.message_id,
            by_message_id=reply.message_id,
            user_id=reply.author_id,
            at=reply.created_at,
        )
    later = (
        Transcript.objects.filter(
            platform=watched.platform, channel_id=watched.channel_id, created_at__gt=watched.spoke, author_is_bot=False
        )
        .exclude(reply_to_message_id=watched.message_id)
        .order_by("created_at")[:QUOTE_SCAN_LIMIT]
    )
    for message in later.only("message_id", "author_id", "created_at", "content"):
        how = quote_of(message.content, message_id=watched.message_id, said=watched.said)
        if how:
            new += reception_record(
                decision_id=watched.decision_id,
                kind=ReceptionKind.QUOTE,
                key=f"quote:{message.message_id}",
                message_id=watched.message_id,
                by_message_id=message.message_id,
                user_id=message.author_id,
                at=message.created_at,
                detail={"how": how},
            )
    return new


def record_silence(watched: Watched) -> bool:
    """The window closed: record silence unless any of the decision's messages was reacted to, replied to or
    quoted within it; True when silence was recorded now."""
    engaged = DecisionReception.objects.filter(
        decision_id=watched.decision_id, kind__in=_ENGAGED, at__lte=watched.closes
    ).exists()
    if engaged:
        return False
    return reception_record(
        decision_id=watched.decision_id,
        kind=ReceptionKind.SILENCE,
        key="silence",
        message_id=watched.message_id,
        at=watched.closes,
        detail={"window_seconds": (watched.closes - watched.spoke).total_seconds()},
    )


def _plain(text: str) -> str:
    return " ".join(text.lower().split())


def _moment(value: str) -> datetime:
    parsed = parse_datetime(value)
    if parsed is None:
        raise ValueError(f"not a datetime: {value!r}")
    return parsed
