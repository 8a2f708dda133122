"""The bots app's reactor triggers: self-followups, speculative turns, turn expiry, mute expiry, reception and
task workers.

Registered by BotsConfig.ready. The logic lives in `bots.followups`, `bots.speculative`,
`bots.scheduled_turns`, `bots.reception` and `bots.task_workers`; this module only says when each runs.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models.signals import post_save
from django.utils import timezone

from bots import followups, reception, speculative, task_workers
from bots.host.models import ChannelMute
from bots.scheduled_turns import TURN_EXPIRY_TRIGGER, expire_turn
from reactor.choices import EventKind
from reactor.declare import Next, Outcome, TriggerRun, after, all_of, arming, on, per_channel, trigger, wakes, when
from reactor.models import ReactorEvent
from reactor.services import REPLACE, emit_event, schedule

MUTE_EXPIRY_TRIGGER = "bots.mute_expiry"


# Self-followups: scheduled after a turn (bots.followups.schedule_followup), woken by replies and reactions.


@trigger(followups.FOLLOWUP_TRIGGER)
def evaluate_followup(run: TriggerRun) -> Outcome:
    """Judge a pending follow-up: fire, wait, defer, downgrade or abort."""
    return followups.evaluate_followup(run)


def _reply_keys(event: ReactorEvent) -> Iterable[str]:
    target = event.payload.get("reply_to_message_id")
    if target and not event.payload.get("author_is_bot"):
        return (followups.reply_key(str(target)),)
    return ()


def _reaction_keys(event: ReactorEvent) -> Iterable[str]:
    target = event.payload.get("message_id")
    if target and not event.payload.get("user_is_bot"):
        return (followups.reaction_key(str(target)),)
    return ()


wakes(EventKind.MESSAGE_INGESTED, keys=_reply_keys)
wakes(EventKind.REACTION_ADDED, keys=_reaction_keys)


# Reception: each message the bot sent is watched for reactions, replies and quotes, then for silence.


def _bot_message(event: ReactorEvent) -> str | None:
    # The one declaration reception adds to ingest: it matches (and writes) only for a bot's own message.
    message_id = event.payload.get("message_id")
    return f"{event.payload.get('platform', '')}:{message_id}" if message_id else None


@trigger(
    reception.WATCH_TRIGGER,
    on(EventKind.MESSAGE_INGESTED, match=lambda event: bool(event.payload.get("author_is_bot")), key=_bot_message),
)
def watch_reception(run: TriggerRun) -> Outcome:
    """Record how a bot message landed: reactions, replies and quotes, then the silence after it."""
    return reception.watch(run)


# Speculative turns: a quiet channel, then a composite per bot.


@trigger(
    speculative.QUIET_TRIGGER,
    after(
        silence=speculative.quiet_period,
        on=EventKind.MESSAGE_INGESTED,
        match=speculative.guild_message,
        key=per_channel,
    ),
)
def channel_went_quiet(run: TriggerRun) -> Outcome:
    """The channel has been quiet for DIT_SPECULATIVE_QUIET_MINUTES: weigh a speculative turn per bot."""
    return speculative.consider_channel(run)


@trigger(speculative.SPECULATIVE_TRIGGER, all_of(*(when(part) for part in speculative.PARTS)))
def speculative_turn(run: TriggerRun) -> Outcome:
    """Every part of the composite held: hand the bot an unprompted turn."""
    return speculative.fire_speculative(run)


# Task workers: a turn delegated a goal-shaped request (bots.host.stages.delegate); the worker runs it once,
# or again when it died mid-run and the lease ran out (a live worker keeps the row locked, however long).


@trigger(
    task_workers.TASK_TRIGGER,
    lease=timedelta(seconds=settings.DIT_TASK_WORKER_LEASE_SECONDS),
    max_attempts=3,
)
def run_task(run: TriggerRun) -> Outcome:
    """Run a delegated task's agent loop and hand its result to the bot for posting."""
    return task_workers.run_task(run)


# Turns handed to a bot that nobody took in time.


@trigger(TURN_EXPIRY_TRIGGER)
def turn_expired(run: TriggerRun) -> Outcome:
    """A delivered turn's time is up: expire it unless the bot took it."""
    followup_id = run.payload.get("followup_id")
    expired = expire_turn(
        delivery_id=uuid.UUID(str(run.payload["delivery_id"])),
        followup_id=int(followup_id) if followup_id is not None else None,
    )
    return Outcome(result={"expired": expired})


# Mutes end by themselves at `until`; the reactor records the moment as a mute.expired event.


def arm_mute_expiry(mute: ChannelMute) -> uuid.UUID:
    """(Re)schedule the expiry of one mute at its end."""
    return schedule(
        MUTE_EXPIRY_TRIGGER,
        due_at=mute.until,
        payload={"mute_id": mute.pk},
        dedupe_key=f"{MUTE_EXPIRY_TRIGGER}:{mute.pk}",
        on_conflict=REPLACE,
        guild_id=mute.guild_id,
        channel_id=mute.channel_id,
    )


@trigger(MUTE_EXPIRY_TRIGGER)
def mute_expired(run: TriggerRun) -> Outcome:
    """A mute reached its end: record mute.expired, unless it was lifted or extended meanwhile."""
    mute = ChannelMute.objects.filter(pk=run.payload["mute_id"]).first()
    if mute is None:
        return Outcome(result={"mute": "gone"})
    if mute.lifted_at is not None:
        return Outcome(result={"mute": "lifted", "lifted_at": mute.lifted_at.isoformat()})
    if mute.until > timezone.now():
        return Outcome(result={"mute": "extended"}, then=Next(due_at=mute.until))
    emit_event(
        EventKind.MUTE_EXPIRED,
        {"mute_id": mute.pk, "bot_id": mute.bot_id, "muted_by": mute.muted_by[:200]},
        guild_id=mute.guild_id,
        channel_id=mute.channel_id,
        idempotency_key=f"{EventKind.MUTE_EXPIRED}:{mute.pk}",
    )
    return Outcome(result={"mute": "expired"})


def _mute_saved(sender: Any, instance: ChannelMute, created: bool, **kwargs: Any) -> None:
    # Mutes are written by the host (bots/host/services.mute_create); its expiry is armed as the row is
    # created, in the writer's transaction when it has one.
    if created:
        arm_mute_expiry(instance)


post_save.connect(_mute_saved, sender=ChannelMute, dispatch_uid="bots.triggers.mute_saved")


@arming
def arm_active_mutes() -> None:
    """Every mute holding now has its expiry timer (mutes written before the reactor ran included)."""
    for mute in ChannelMute.objects.filter(lifted_at__isnull=True, until__gt=timezone.now()):
        arm_mute_expiry(mute)
