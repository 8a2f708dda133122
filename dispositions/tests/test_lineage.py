"""The dispositions side of reactor lineage: event, trigger, the decision it produced, the follow-ups it scheduled."""

from __future__ import annotations

import pytest
from django.utils import timezone

from dispositions.models import DispositionDecision
from dispositions.tests.factories import (
    DispositionFactory,
    PersonaDispositionWeightFactory,
    PersonaFactory,
    make_decision,
)
from reactor.choices import EventKind
from reactor.lineage import event_lineage, trigger_lineage
from reactor.models import ReactorEvent, SelfFollowupSchedule, Trigger

pytestmark = pytest.mark.django_db


def _decision(**fields) -> DispositionDecision:
    persona = PersonaFactory.create()
    PersonaDispositionWeightFactory.create(persona=persona, disposition=DispositionFactory.create())
    decision = make_decision(persona=persona, seed=len(fields) + DispositionDecision.objects.count())
    DispositionDecision.objects.filter(pk=decision.pk).update(**fields)
    decision.refresh_from_db()
    return decision


def _flatten(node) -> list[tuple[str, str]]:
    found = [(node.kind, node.label)]
    for child in node.children:
        found.extend(_flatten(child))
    return found


def test_the_lineage_runs_from_the_event_through_the_trigger_to_its_decision_and_follow_up():
    event = ReactorEvent.objects.create(kind=EventKind.MESSAGE_INGESTED, guild_id="g", channel_id="c", payload={})
    trigger = Trigger.objects.create(kind="bots.speculative", parent_event=event, due_at=timezone.now())
    decision = _decision(trigger_id=trigger.pk, trigger_kind="speculative")
    SelfFollowupSchedule.objects.create(
        parent_decision_id=decision.pk,
        bot_id=1,
        channel_id="c",
        bias="go-deeper",
        scheduled_for=timezone.now(),
        seed=1,
        roll=0.1,
        window_min_seconds=1,
        window_max_seconds=2,
    )

    steps = _flatten(event_lineage(event))

    assert [kind for kind, _ in steps] == ["event", "trigger", "decision", "followup"]
    assert steps[2][1] == f"decision #{decision.pk} (speculative) -> {decision.chosen_slug}"
    assert _flatten(trigger_lineage(trigger)) == steps


def test_a_message_event_leads_to_the_reactive_decision_that_answered_it():
    decision = _decision()
    event = ReactorEvent.objects.create(
        kind=EventKind.MESSAGE_INGESTED,
        guild_id="g",
        channel_id="c",
        payload={"message_id": decision.inbound_message_id},
    )

    steps = _flatten(event_lineage(event))

    assert steps == [
        ("event", "message.ingested in c"),
        ("decision", f"decision #{decision.pk} (reactive) -> {decision.chosen_slug}"),
    ]
