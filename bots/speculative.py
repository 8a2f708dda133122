"""Speculative turns: a quiet channel may get an unprompted turn when a composite of its state holds.

Two triggers:
- `bots.speculative_quiet`: a silence timer per channel, reset by every guild message (never DMs).
  When it runs, each bot in the guild with SPECULATIVE_ENABLED gets a `bots.speculative` trigger, its
  thresholds copied into the payload (the composite's predicate as data) with a fresh seed.
- `bots.speculative`: all of the parts below must hold, each checked against current state and logged
  with what it saw; then the bot is handed an unprompted turn (trigger `speculative`), where the
  speculative-only dispositions (late-night-musing, observation-drop) become reachable.

Parts: not a DM; not muted; not a denied (or not-allowed) channel; under the guild's cap per hour;
channel activity (a rolling average over the last hours) within a band; budget remaining; the bot
quiet in the channel long enough; the hour of day in the guild's time zone; and a seeded roll.
"""

from __future__ import annotations

import random
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import connection
from django.utils import timezone

from bots.host.models import ChannelMute
from bots.models import Guild
from bots.scheduled_turns import ScheduledTurn, deliver_turn, expiry_for
from bots.turn_settings import SpeculativeConfig
from dispositions.choices import TriggerKind
from dispositions.models import DispositionDecision
from dispositions.services import new_seed
from memory.models import Transcript
from reactor.choices import TriggerStatus
from reactor.declare import Check, Outcome, TriggerRun
from reactor.models import ReactorEvent, Trigger
from reactor.services import REPLACE, schedule

QUIET_TRIGGER = "bots.speculative_quiet"
SPECULATIVE_TRIGGER = "bots.speculative"


def quiet_period(event: ReactorEvent) -> timedelta | None:
    """How long a channel stays quiet before it is considered (DIT_SPECULATIVE_QUIET_MINUTES; 0: never)."""
    minutes = float(settings.DIT_SPECULATIVE_QUIET_MINUTES)
    return timedelta(minutes=minutes) if minutes > 0 else None


def guild_message(event: ReactorEvent) -> bool:
    """A message in a guild channel (direct messages never get a speculative turn)."""
    return bool(event.guild_id) and not event.payload.get("is_dm")


def consider_channel(run: TriggerRun) -> Outcome:
    """The quiet timer ran out: give each bot of the guild that speaks unprompted its own evaluation."""
    considered: list[int] = []
    for guild in Guild.objects.filter(external_id=run.guild_id).select_related("bot").order_by("bot_id"):
        config = SpeculativeConfig.from_settings(guild.bot.settings)
        if not config.enabled:
            continue
        schedule(
            SPECULATIVE_TRIGGER,
            due_at=timezone.now(),
            payload={
                "bot_id": guild.bot_id,
                "seed": new_seed(),
                "time_zone": guild.time_zone or settings.TIME_ZONE,
                "config": _config_data(config),
            },
            dedupe_key=f"{SPECULATIVE_TRIGGER}:{guild.bot_id}:{run.channel_id}",
            on_conflict=REPLACE,
            guild_id=run.guild_id,
            channel_id=run.channel_id,
            parent_event_id=run.parent_event_id,
            parent_trigger_id=run.id,
        )
        considered.append(guild.bot_id)
    return Outcome(result={"considered_for_bots": considered})


def _config_data(config: SpeculativeConfig) -> dict[str, Any]:
    data = asdict(config)
    data["allowed_channels"] = sorted(config.allowed_channels)
    data["denied_channels"] = sorted(config.denied_channels)
    return data


def _config(run: TriggerRun) -> SpeculativeConfig:
    data = dict(run.payload["config"])
    data["allowed_channels"] = frozenset(data.get("allowed_channels", ()))
    data["denied_channels"] = frozenset(data.get("denied_channels", ()))
    return SpeculativeConfig(**data)


def _bot_id(run: TriggerRun) -> int:
    return int(run.payload["bot_id"])


# The parts. Each reads current state and says what it saw.


def not_a_dm(run: TriggerRun) -> Check:
    """The channel is in a guild, not a direct message."""
    is_dm = Transcript.objects.filter(channel_id=run.channel_id, is_dm=True).exists()
    return Check(bool(run.guild_id) and not is_dm, {"guild_id": run.guild_id})


def not_muted(run: TriggerRun) -> Check:
    """Nobody has told the bot to be quiet in this channel (a mute holding now)."""
    muted = ChannelMute.objects.filter(
        bot_id=_bot_id(run), channel_id=run.channel_id, lifted_at__isnull=True, until__gt=timezone.now()
    ).exists()
    return Check(not muted, {"muted": muted})


def channel_allowed(run: TriggerRun) -> Check:
    """The channel (or the channel its thread hangs off) is not denied, and is allowed when a list is set."""
    config = _config(run)
    parent = (
        Transcript.objects.filter(channel_id=run.channel_id)
        .exclude(parent_channel_id="")
        .values_list("parent_channel_id", flat=True)
        .first()
    )
    places = {run.channel_id, *([parent] if parent else [])}
    denied = bool(places & config.denied_channels)
    allowed = not config.allowed_channels or bool(places & config.allowed_channels)
    return Check(allowed and not denied, {"denied": denied, "allowed": allowed})


def under_guild_cap(run: TriggerRun) -> Check:
    """Fewer speculative turns in this guild in the last hour than its cap."""
    config = _config(run)
    # Two channels of one guild may be weighed at once: the lock (held to commit) makes the count and the
    # turn it allows one step, so the cap is never overrun.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"{SPECULATIVE_TRIGGER}:{run.guild_id}"])
    fired = Trigger.objects.filter(
        kind=SPECULATIVE_TRIGGER,
        guild_id=run.guild_id,
        status=TriggerStatus.DONE,
        finished_at__gte=timezone.now() - timedelta(hours=1),
        result__fired=True,
    ).count()
    return Check(fired < config.per_guild_per_hour, {"last_hour": fired, "cap": config.per_guild_per_hour})


def activity_in_band(run: TriggerRun) -> Check:
    """The channel's rolling average (messages per hour over the window) is lively enough, and not busy."""
    config = _config(run)
    window = timedelta(hours=config.activity_window_hours)
    count = Transcript.objects.filter(channel_id=run.channel_id, created_at__gte=timezone.now() - window).count()
    per_hour = count / max(config.activity_window_hours, 1e-9)
    holds = config.min_activity_per_hour <= per_hour <= config.max_activity_per_hour
    return Check(
        holds, {"per_hour": round(per_hour, 3), "band": [config.min_activity_per_hour, config.max_activity_per_hour]}
    )


def budget_left(run: TriggerRun) -> Check:
    """Enough of the guild's budget is left this period (a guild without a budget has all of it)."""
    from gateway.client import budget_remaining_fraction

    config = _config(run)
    fraction = budget_remaining_fraction(run.guild_id)
    remaining = 1.0 if fraction is None else fraction
    return Check(remaining >= config.min_budget, {"remaining": round(remaining, 4), "min": config.min_budget})


def bot_quiet_long_enough(run: TriggerRun) -> Check:
    """The bot has not spoken in this channel for a while."""
    config = _config(run)
    last = (
        DispositionDecision.objects.filter(bot_id=_bot_id(run), channel_id=run.channel_id, beat_count__gt=0)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    minutes = None if last is None else (timezone.now() - last).total_seconds() / 60
    holds = minutes is None or minutes >= config.bot_quiet_minutes
    return Check(
        holds, {"minutes_since": None if minutes is None else round(minutes, 1), "min": config.bot_quiet_minutes}
    )


def local_hour(moment: datetime, zone_name: str) -> int:
    """The hour of `moment` in a time zone (the server's when the name is unknown)."""
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo(settings.TIME_ZONE)
    return moment.astimezone(zone).hour


def awake_hours(run: TriggerRun) -> Check:
    """The hour of day in the guild's time zone is within the bot's speaking hours (9-23, or 22-2 across midnight)."""
    config = _config(run)
    hour = local_hour(timezone.now(), str(run.payload.get("time_zone", settings.TIME_ZONE)))
    first, last = config.first_hour, config.last_hour
    holds = first <= hour <= last if first <= last else hour >= first or hour <= last
    return Check(holds, {"local_hour": hour, "hours": f"{first}-{last}", "time_zone": run.payload.get("time_zone")})


def seeded_roll(run: TriggerRun) -> Check:
    """A roll with the trigger's logged seed comes in under the bot's chance."""
    config = _config(run)
    seed = int(run.payload["seed"])
    roll = random.Random(seed).random()  # noqa: S311 - reproducible behaviour, not security
    return Check(roll < config.chance, {"seed": seed, "roll": round(roll, 6), "chance": config.chance})


PARTS = (
    not_a_dm,
    not_muted,
    channel_allowed,
    under_guild_cap,
    activity_in_band,
    budget_left,
    bot_quiet_long_enough,
    awake_hours,
    seeded_roll,
)


def fire_speculative(run: TriggerRun) -> Outcome:
    """Every part held: hand the bot an unprompted turn in the channel."""
    config = _config(run)
    seed = int(run.payload["seed"])
    deliver_turn(
        ScheduledTurn(
            trigger_id=run.id,
            bot_id=_bot_id(run),
            guild_id=run.guild_id,
            channel_id=run.channel_id,
            trigger_kind=TriggerKind.SPECULATIVE,
            seed=seed,
            expires_at=expiry_for(config.turn_expiry_seconds),
        )
    )
    return Outcome(result={"fired": True, "seed": seed})
