"""Speculative turns: a quiet channel, then a composite per bot that fires only when every part holds."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from bots.host.models import ChannelMute
from bots.scheduled_turns import ScheduledTurn
from bots.speculative import QUIET_TRIGGER, SPECULATIVE_TRIGGER, local_hour
from bots.tests.factories import BotFactory, GuildFactory
from bots.tests.reactorkit import CHANNEL, GUILD, decision_of
from memory.ingest import ingest_message
from memory.tests.factories import IngestMessageFactory, TranscriptFactory
from reactor.choices import DeliveryStatus, TriggerStatus
from reactor.models import Delivery, Trigger
from reactor.tests.running import run_inline, waiting

pytestmark = pytest.mark.django_db

EVERYTHING_ALLOWED = {
    "SPECULATIVE_ENABLED": "true",
    "SPECULATIVE_HOURS": "0-23",
    "SPECULATIVE_CHANCE": "1",
    "SPECULATIVE_MIN_ACTIVITY_PER_HOUR": "1",
    "SPECULATIVE_PER_GUILD_PER_HOUR": "2",
}


@pytest.fixture
def speaks_unprompted(monkeypatch):
    """Bots read undeclared SPECULATIVE_* keys from the environment: allow everything but what a test changes."""
    for key, value in EVERYTHING_ALLOWED.items():
        monkeypatch.setenv(key, value)
    return monkeypatch


@pytest.fixture
def bot():
    bot = BotFactory.create()
    GuildFactory.create(bot=bot, external_id=GUILD, time_zone="Europe/Berlin")
    return bot


def _lively(channel=CHANNEL, count=12) -> None:
    now = timezone.now()
    for n in range(count):
        TranscriptFactory.create(guild_id=GUILD, channel_id=channel, created_at=now - timedelta(minutes=25 + n * 10))


def _evaluate(channel=CHANNEL) -> Trigger:
    """The channel went quiet: run its quiet timer, then the bot's composite."""
    from reactor.services import schedule

    quiet = schedule(QUIET_TRIGGER, due_at=timezone.now(), guild_id=GUILD, channel_id=channel)
    run_inline(quiet)
    composite = waiting(SPECULATIVE_TRIGGER, channel_id=channel)
    run_inline(composite.pk)
    composite.refresh_from_db()
    return composite


def _parts(trigger: Trigger) -> dict[str, bool]:
    return {check["part"]: check["holds"] for check in trigger.result["checks"]}


@override_settings(DIT_SPECULATIVE_QUIET_MINUTES=0.05)
def test_guild_messages_keep_pushing_the_channels_quiet_timer_and_dms_never_start_one():
    ingest_message(IngestMessageFactory.build(guild_id=GUILD, channel_id=CHANNEL))
    first = waiting(QUIET_TRIGGER).due_at
    # Further apart than the timer's granularity (1% of its 3 s silence).
    time.sleep(0.05)
    ingest_message(IngestMessageFactory.build(guild_id=GUILD, channel_id=CHANNEL))
    ingest_message(IngestMessageFactory.build(dm=True))

    timer = waiting(QUIET_TRIGGER)
    assert timer.channel_id == CHANNEL
    assert first is not None
    assert timer.due_at is not None
    assert timer.due_at > first
    assert Trigger.objects.filter(kind=QUIET_TRIGGER).count() == 1


def test_when_every_part_holds_the_bot_gets_an_unprompted_turn_logged_with_its_seed(speaks_unprompted, bot):
    _lively()

    trigger = _evaluate()

    assert trigger.status == TriggerStatus.DONE
    assert trigger.result["fired"] is True
    assert set(_parts(trigger).values()) == {True}
    assert list(_parts(trigger)) == [
        "not_a_dm",
        "not_muted",
        "channel_allowed",
        "under_guild_cap",
        "activity_in_band",
        "budget_left",
        "bot_quiet_long_enough",
        "awake_hours",
        "seeded_roll",
    ]
    roll = next(check for check in trigger.result["checks"] if check["part"] == "seeded_roll")
    assert roll["seed"] == trigger.payload["seed"] == trigger.result["seed"]
    turn = ScheduledTurn.from_payload(Delivery.objects.get(pk=trigger.pk).payload)
    assert (turn.trigger_kind, turn.bot_id, turn.channel_id, turn.seed) == (
        "speculative",
        bot.pk,
        CHANNEL,
        roll["seed"],
    )
    assert trigger.payload["config"]["chance"] == 1.0


def test_a_bot_that_does_not_speak_unprompted_is_not_considered(bot):
    _lively()
    from reactor.services import schedule

    run_inline(schedule(QUIET_TRIGGER, due_at=timezone.now(), guild_id=GUILD, channel_id=CHANNEL))

    assert not Trigger.objects.filter(kind=SPECULATIVE_TRIGGER).exists()


def _not_fired(trigger: Trigger, part: str) -> None:
    assert trigger.result["held"] is False
    assert "fired" not in trigger.result
    assert _parts(trigger)[part] is False
    assert not Delivery.objects.exists()


def test_never_in_a_muted_channel(speaks_unprompted, bot):
    _lively()
    ChannelMute.objects.create(
        bot=bot,
        guild_id=GUILD,
        channel_id=CHANNEL,
        source="phrase",
        muted_by="alice",
        until=timezone.now() + timedelta(hours=1),
    )

    _not_fired(_evaluate(), "not_muted")


def test_never_in_a_denied_channel(speaks_unprompted, bot):
    speaks_unprompted.setenv("DENIED_CHANNELS", f"c-other,{CHANNEL}")
    _lively()

    _not_fired(_evaluate(), "channel_allowed")


def test_never_in_a_dm(speaks_unprompted, bot):
    TranscriptFactory.create(guild_id="", is_dm=True, channel_id=CHANNEL)
    _lively()

    _not_fired(_evaluate(), "not_a_dm")


def test_not_past_the_guilds_cap_per_hour(speaks_unprompted, bot):
    speaks_unprompted.setenv("SPECULATIVE_PER_GUILD_PER_HOUR", "1")
    _lively("c-one")
    _lively("c-two")

    first = _evaluate("c-one")
    second = _evaluate("c-two")

    assert first.result["fired"] is True
    assert second.result["held"] is False
    assert _parts(second)["under_guild_cap"] is False
    assert Delivery.objects.filter(status=DeliveryStatus.WAITING).count() == 1


def test_not_in_a_dead_channel(speaks_unprompted, bot):
    _lively(count=2)

    _not_fired(_evaluate(), "activity_in_band")


def test_not_when_the_budget_is_low(speaks_unprompted, bot):
    from decimal import Decimal

    from gateway.tests.factories import BudgetEnvelopeFactory

    now = timezone.now()
    BudgetEnvelopeFactory.create(
        guild_id=GUILD,
        period_start=now - timedelta(hours=1),
        period_end=now + timedelta(hours=1),
        allocated_usd=Decimal(1),
        spent_usd=Decimal("0.9"),
    )
    _lively()

    _not_fired(_evaluate(), "budget_left")


def test_not_soon_after_the_bot_spoke_in_the_channel(speaks_unprompted, bot):
    _lively()
    decision_of(bot, channel_id=CHANNEL, beats=1)

    _not_fired(_evaluate(), "bot_quiet_long_enough")


def test_not_outside_the_bots_hours_in_the_guilds_time_zone(speaks_unprompted, bot):
    hour = local_hour(timezone.now(), "Europe/Berlin")
    speaks_unprompted.setenv("SPECULATIVE_HOURS", f"{(hour + 2) % 24}-{(hour + 3) % 24}")
    _lively()

    trigger = _evaluate()

    _not_fired(trigger, "awake_hours")
    hours = next(check for check in trigger.result["checks"] if check["part"] == "awake_hours")
    assert (hours["local_hour"], hours["time_zone"]) == (hour, "Europe/Berlin")


def test_not_when_the_seeded_roll_misses(speaks_unprompted, bot):
    speaks_unprompted.setenv("SPECULATIVE_CHANCE", "0")
    _lively()

    _not_fired(_evaluate(), "seeded_roll")
