"""The reactor API: events, triggers and follow-ups to read, lineage, counts for dashboards, requeue for staff."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from reactor.choices import EventKind, TriggerStatus
from reactor.models import Trigger
from reactor.services import emit_event, schedule

pytestmark = pytest.mark.usefixtures("probes")


def _dead() -> object:
    trigger_id = schedule("probe.timer", due_at=timezone.now())
    Trigger.objects.filter(pk=trigger_id).update(status=TriggerStatus.DEAD, attempts=3, last_error="boom")
    return trigger_id


def test_the_trigger_list_filters_by_status_in_a_fixed_number_of_queries(member_client, django_assert_num_queries):
    dead = [_dead() for _ in range(5)]
    for _ in range(5):
        schedule("probe.timer", due_at=timezone.now())

    with django_assert_num_queries(2):
        response = member_client.get(reverse("reactor-trigger-list"), {"status": "dead"})

    assert response.status_code == 200
    assert response.json()["count"] == 5
    assert {row["id"] for row in response.json()["results"]} == {str(pk) for pk in dead}
    assert response.json()["results"][0]["last_error"] == "boom"


def test_the_event_list_filters_by_kind_in_a_fixed_number_of_queries(member_client, django_assert_num_queries):
    for _ in range(4):
        emit_event(EventKind.BOT_SPOKE, {"probe": True}, guild_id="g", channel_id="c")
    emit_event(EventKind.TURN_FINISHED, {"probe": True}, guild_id="g", channel_id="c")

    with django_assert_num_queries(2):
        response = member_client.get(reverse("reactor-event-list"), {"kind": "bot.spoke"})

    assert response.json()["count"] == 4


def test_counts_by_status_for_dashboards(member_client):
    _dead()
    schedule("probe.timer", due_at=timezone.now())

    body = member_client.get(reverse("reactor-counts")).json()

    assert body["triggers"]["dead"] == 1
    assert body["triggers"]["pending"] == 1
    assert body["triggers"]["running"] == 0
    assert body["dead_by_kind"] == {"probe.timer": 1}
    assert body["oldest_due_pending_seconds"] >= 0
    assert set(body["followups"]) >= {"scheduled", "fired", "aborted"}


def test_staff_requeue_a_dead_trigger_and_members_may_not(owner_client, member_client):
    dead = _dead()
    url = reverse("reactor-trigger-requeue", args=[dead])

    refused = member_client.post(url)
    accepted = owner_client.post(url)

    assert refused.status_code == 403
    assert accepted.status_code == 200
    assert accepted.json()["status"] == "pending"


def test_requeueing_a_live_trigger_is_a_clear_conflict(owner_client):
    trigger_id = schedule("probe.timer", due_at=timezone.now())

    response = owner_client.post(reverse("reactor-trigger-requeue", args=[trigger_id]))

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "trigger_not_requeueable"


def test_an_events_lineage_lists_the_triggers_it_caused(member_client):
    event = emit_event(EventKind.REACTION_ADDED, {"probe": True, "emoji": "🔥"}, guild_id="g", channel_id="c")
    assert event is not None

    body = member_client.get(reverse("reactor-event-lineage", args=[event.pk])).json()

    assert (body["kind"], body["id"]) == ("event", str(event.pk))
    assert {child["label"] for child in body["children"]} == {"probe.on_reaction", "probe.both", "probe.either"}


def test_anonymous_readers_are_refused(api_client):
    assert api_client.get(reverse("reactor-trigger-list")).status_code == 401
