"""Budget envelopes refresh at each period boundary through a reactor timer, never a cron."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from gateway.models import BudgetEnvelope
from gateway.services import REFRESH_TRIGGER, budget_envelope_create, budget_envelope_update
from gateway.tests.factories import BudgetEnvelopeFactory
from gateway.triggers import arm_every_budget
from reactor.choices import EventKind, TriggerStatus
from reactor.execution import RunEnd
from reactor.models import ReactorEvent, Trigger
from reactor.tests.running import run_inline, waiting

pytestmark = pytest.mark.django_db


def test_creating_a_budget_times_its_refresh_at_the_period_end():
    now = timezone.now()
    envelope = budget_envelope_create(
        guild_id="g-1", period_start=now, period_end=now + timedelta(days=30), allocated_usd=Decimal(5)
    )

    trigger = waiting(REFRESH_TRIGGER)
    assert trigger.due_at == envelope.refresh_at
    assert (trigger.dedupe_key, trigger.guild_id, trigger.payload) == (
        f"{REFRESH_TRIGGER}:g-1",
        "g-1",
        {"guild_id": "g-1"},
    )


def test_moving_the_period_end_moves_the_timer():
    now = timezone.now()
    envelope = budget_envelope_create(
        guild_id="g-1", period_start=now, period_end=now + timedelta(days=30), allocated_usd=Decimal(5)
    )

    budget_envelope_update(envelope=envelope, period_end=now + timedelta(days=7))

    assert waiting(REFRESH_TRIGGER).due_at == now + timedelta(days=7)
    assert Trigger.objects.filter(kind=REFRESH_TRIGGER).count() == 1


def test_at_the_boundary_the_next_period_opens_with_its_own_timer_and_event():
    now = timezone.now()
    BudgetEnvelopeFactory.create(
        guild_id="g-1", period_start=now - timedelta(days=1), period_end=now - timedelta(minutes=1)
    )
    arm_every_budget()
    first = waiting(REFRESH_TRIGGER)

    assert run_inline(first.pk).end == RunEnd.DONE

    fresh = BudgetEnvelope.objects.filter(guild_id="g-1").order_by("-period_start").first()
    assert fresh is not None
    assert fresh.period_start == now - timedelta(minutes=1)
    first.refresh_from_db()
    assert first.status == TriggerStatus.DONE
    assert first.result["opened"] == fresh.pk
    assert waiting(REFRESH_TRIGGER).due_at == fresh.refresh_at
    event = ReactorEvent.objects.get(kind=EventKind.BUDGET_PERIOD_OPENED)
    assert (event.guild_id, event.payload["envelope_id"]) == ("g-1", fresh.pk)


def test_a_period_opened_on_first_use_leaves_the_timer_waiting_for_the_new_boundary():
    now = timezone.now()
    BudgetEnvelopeFactory.create(
        guild_id="g-1", period_start=now - timedelta(hours=1), period_end=now + timedelta(hours=5)
    )
    arm_every_budget()
    early = waiting(REFRESH_TRIGGER)

    run_inline(early.pk)

    early.refresh_from_db()
    assert early.result["waiting_for"] == (now + timedelta(hours=5)).isoformat()
    assert BudgetEnvelope.objects.filter(guild_id="g-1").count() == 1
    assert waiting(REFRESH_TRIGGER).due_at == now + timedelta(hours=5)


def test_the_dispatchers_arming_gives_every_guild_with_a_budget_one_timer():
    now = timezone.now()
    for guild in ("g-1", "g-2"):
        BudgetEnvelopeFactory.create(guild_id=guild, period_start=now, period_end=now + timedelta(days=1))

    arm_every_budget()
    arm_every_budget()

    assert sorted(Trigger.objects.filter(kind=REFRESH_TRIGGER).values_list("guild_id", flat=True)) == ["g-1", "g-2"]
