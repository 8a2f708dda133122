"""Turns the reactor starts (self-followups, speculative turns), as values, and their hand-over to the bot.

The reactor side (a trigger's effect, in a Celery worker) writes a delivery row keyed by the trigger id
and announces it on the Channels layer; the bot process that holds the platform connection takes it
through `bots.inbox.TurnInbox`, at most once, and reports back with `turn_finished`. A turn nobody took
by its expiry time expires by the `bots.turn_expiry` trigger.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from dispositions.choices import TriggerKind
from reactor.choices import FollowupStatus
from reactor.models import Delivery, SelfFollowupSchedule
from reactor.services import (
    delivery_create,
    delivery_expire,
    delivery_finish,
    schedule,
    trigger_result_merge,
)

TURN_DELIVERY = "turn"
TURN_EXPIRY_TRIGGER = "bots.turn_expiry"


def recipient_for(bot_id: int) -> str:
    """The delivery recipient (Channels group) of a bot's process."""
    return f"bot.{bot_id}"


@dataclass(frozen=True, slots=True)
class PreviousTurn:
    """The turn a self-followup comes back to: what it answered and what the bot said."""

    decision_id: int
    answered_message_id: str = ""
    bot_message_ids: tuple[str, ...] = ()
    said: tuple[str, ...] = ()
    topic_text: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "decision_id": self.decision_id,
            "answered_message_id": self.answered_message_id,
            "bot_message_ids": list(self.bot_message_ids),
            "said": list(self.said),
            "topic_text": self.topic_text,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PreviousTurn:
        """Rebuild from `as_dict` output."""
        return cls(
            decision_id=int(data["decision_id"]),
            answered_message_id=str(data.get("answered_message_id", "")),
            bot_message_ids=tuple(data.get("bot_message_ids", ())),
            said=tuple(data.get("said", ())),
            topic_text=str(data.get("topic_text", "")),
        )


@dataclass(frozen=True, slots=True)
class ScheduledTurn:
    """A turn the reactor asks a bot to take: where, why, with which bias and seed, by when."""

    trigger_id: uuid.UUID
    bot_id: int
    guild_id: str
    channel_id: str
    trigger_kind: str
    seed: int
    expires_at: datetime
    bias: str | None = None
    parent_decision_id: int | None = None
    followup_id: int | None = None
    previous: PreviousTurn | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.trigger_kind not in (TriggerKind.SELF_FOLLOWUP, TriggerKind.SPECULATIVE):
            raise ValueError(f"a scheduled turn is self_followup or speculative, not {self.trigger_kind!r}")

    @property
    def is_self_followup(self) -> bool:
        """True for a self-followup (the router's bias rules apply)."""
        return self.trigger_kind == TriggerKind.SELF_FOLLOWUP

    def as_payload(self) -> dict[str, Any]:
        """The delivery payload (JSON)."""
        return {
            "trigger_id": str(self.trigger_id),
            "bot_id": self.bot_id,
            "guild_id": self.guild_id,
            "channel_id": self.channel_id,
            "trigger_kind": self.trigger_kind,
            "seed": self.seed,
            "expires_at": self.expires_at.isoformat(),
            "bias": self.bias,
            "parent_decision_id": self.parent_decision_id,
            "followup_id": self.followup_id,
            "previous": self.previous.as_dict() if self.previous is not None else None,
            "extra": dict(self.extra),
        }

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> ScheduledTurn:
        """Rebuild from a delivery payload."""
        expires_at = parse_datetime(str(data["expires_at"]))
        if expires_at is None:
            raise ValueError(f"bad expires_at {data['expires_at']!r}")
        previous = data.get("previous")
        return cls(
            trigger_id=uuid.UUID(str(data["trigger_id"])),
            bot_id=int(data["bot_id"]),
            guild_id=str(data["guild_id"]),
            channel_id=str(data["channel_id"]),
            trigger_kind=str(data["trigger_kind"]),
            seed=int(data["seed"]),
            expires_at=expires_at,
            bias=data.get("bias"),
            parent_decision_id=data.get("parent_decision_id"),
            followup_id=data.get("followup_id"),
            previous=PreviousTurn.from_dict(previous) if previous else None,
            extra=dict(data.get("extra") or {}),
        )


def deliver_turn(turn: ScheduledTurn) -> Delivery:
    """Hand a turn to its bot (inside the trigger's effect): a delivery row, announced on commit, and its expiry."""
    delivery = delivery_create(
        trigger_id=turn.trigger_id,
        recipient=recipient_for(turn.bot_id),
        kind=TURN_DELIVERY,
        payload=turn.as_payload(),
        expires_at=turn.expires_at,
    )
    schedule(
        TURN_EXPIRY_TRIGGER,
        due_at=turn.expires_at,
        payload={"delivery_id": str(turn.trigger_id), "followup_id": turn.followup_id},
        dedupe_key=f"{TURN_EXPIRY_TRIGGER}:{turn.trigger_id}",
        guild_id=turn.guild_id,
        channel_id=turn.channel_id,
        parent_trigger_id=turn.trigger_id,
    )
    return delivery


def expire_turn(*, delivery_id: uuid.UUID, followup_id: int | None, now: datetime | None = None) -> bool:
    """Expire a turn its bot did not take in time (and its follow-up); False when it was taken."""
    with transaction.atomic():
        expired = delivery_expire(delivery_id=delivery_id, now=now)
        if expired and followup_id is not None:
            SelfFollowupSchedule.objects.filter(pk=followup_id, status=FollowupStatus.FIRED).update(
                status=FollowupStatus.EXPIRED, updated_at=timezone.now()
            )
    return expired


def turn_finished(turn: ScheduledTurn, *, decision_id: int | None, end: str) -> None:
    """Record how a delivered turn ended: on the delivery, its trigger and (for a follow-up) the schedule row."""
    outcome = {"decision_id": decision_id, "end": end}
    with transaction.atomic():
        delivery_finish(delivery_id=turn.trigger_id, outcome=outcome)
        trigger_result_merge(trigger_id=turn.trigger_id, result={"turn": outcome})
        if turn.followup_id is not None and decision_id is not None:
            SelfFollowupSchedule.objects.filter(pk=turn.followup_id).update(
                fired_decision_id=decision_id, updated_at=timezone.now()
            )


def expiry_for(seconds: float, now: datetime | None = None) -> datetime:
    """When a turn handed over now expires."""
    return (now or timezone.now()) + timedelta(seconds=seconds)
