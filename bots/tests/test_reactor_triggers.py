"""The bots app's other reactor triggers: mute expiry, and the events the host emits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from bots.host.models import ChannelMute
from bots.tests.factories import BotFactory
from bots.triggers import MUTE_EXPIRY_TRIGGER, arm_active_mutes
from reactor.choices import EventKind
from reactor.models import ReactorEvent, Trigger
from reactor.tests.running import run_inline, waiting

pytestmark = pytest.mark.django_db


def _mute(bot, **fields) -> ChannelMute:
    values: dict[str, object] = {"guild_id": "g-1", "channel_id": "c-1", "source": "phrase", "muted_by": "alice (u:1)"}
    values.update(fields)
    values.setdefault("until", timezone.now() + timedelta(hours=1))
    return ChannelMute.objects.create(bot=bot, **values)


def test_a_new_mute_is_given_its_expiry_timer():
    mute = _mute(BotFactory.create())

    trigger = waiting(MUTE_EXPIRY_TRIGGER)
    assert (trigger.due_at, trigger.payload, trigger.channel_id) == (mute.until, {"mute_id": mute.pk}, "c-1")


def test_at_its_end_a_mute_records_its_expiry_as_an_event():
    mute = _mute(BotFactory.create())
    ChannelMute.objects.filter(pk=mute.pk).update(
        created_at=timezone.now() - timedelta(hours=2), until=timezone.now() - timedelta(seconds=1)
    )

    run_inline(waiting(MUTE_EXPIRY_TRIGGER).pk)

    event = ReactorEvent.objects.get(kind=EventKind.MUTE_EXPIRED)
    assert (event.channel_id, event.payload["mute_id"]) == ("c-1", mute.pk)


def test_a_lifted_mute_expires_silently_and_an_extended_one_waits_for_its_new_end():
    bot = BotFactory.create()
    lifted = _mute(bot, lifted_at=timezone.now())
    extended = _mute(bot, channel_id="c-2")
    later = timezone.now() + timedelta(hours=3)
    ChannelMute.objects.filter(pk=extended.pk).update(until=later)

    for trigger in list(Trigger.objects.filter(kind=MUTE_EXPIRY_TRIGGER)):
        run_inline(trigger.pk)

    assert not ReactorEvent.objects.filter(kind=EventKind.MUTE_EXPIRED).exists()
    assert lifted.lifted_at is not None
    assert Trigger.objects.get(payload__mute_id=lifted.pk).result == {
        "mute": "lifted",
        "lifted_at": lifted.lifted_at.isoformat(),
    }
    assert waiting(MUTE_EXPIRY_TRIGGER, payload__mute_id=extended.pk).due_at == later


def test_the_dispatchers_arming_covers_mutes_written_without_a_timer():
    mute = _mute(BotFactory.create())
    Trigger.objects.all().delete()

    arm_active_mutes()
    arm_active_mutes()

    assert list(Trigger.objects.filter(kind=MUTE_EXPIRY_TRIGGER).values_list("payload", flat=True)) == [
        {"mute_id": mute.pk}
    ]
