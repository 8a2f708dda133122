"""Errors captured where they happen: a bot's turn, a reactor trigger's run, a web request; then browsed."""

from __future__ import annotations

import uuid

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bots.host.stages import deliver
from bots.host.tests.hostkit import make_disposition, make_persona, reply_json
from dispositions.choices import OutputShape
from dispositions.models import DispositionDecision
from observability import capture
from observability.choices import ErrorSource
from observability.models import ErrorEvent
from reactor.choices import TriggerStatus
from reactor.declare import Outcome, TriggerRun, registry, trigger
from reactor.execution import RunEnd, run_trigger
from reactor.models import Trigger
from reactor.services import schedule

FAILING_KIND = "observability_test.fails"


def _failing_effect(run: TriggerRun) -> Outcome:
    raise KeyError("the effect looked up a key that is not there")


if registry.get(FAILING_KIND) is None:
    trigger(FAILING_KIND, max_attempts=1)(_failing_effect)


async def _speaking_persona():
    def build():
        persona = make_persona()
        make_disposition(persona, "quick-react", shape=OutputShape.SINGLE_LINE)
        return persona

    return await sync_to_async(build)()


async def test_a_turn_that_fails_is_captured_with_its_decision_guild_and_channel(
    make_rig, gateway_on_openai_server, monkeypatch
):
    async def platform_fell_over(*args, **kwargs):
        raise ConnectionResetError("the platform hung up mid-send")

    monkeypatch.setattr(deliver, "deliver", platform_fell_over)
    rig = await make_rig(persona=await _speaking_persona())
    gateway_on_openai_server.queue_reply(reply_json("never sent"))
    gateway_on_openai_server.queue_reply(reply_json("never sent either"))

    await rig.say("general", "alice", "@dit hello?")
    await rig.say("general", "alice", "@dit hello again?")
    assert await sync_to_async(capture.flush)()

    decisions = [d async for d in DispositionDecision.objects.order_by("id")]
    assert [d.outcome["end"] for d in decisions] == ["error", "error"]
    event = await ErrorEvent.objects.aget()
    channel = rig.adapter.channel("general")
    assert event.count == 2
    assert event.source == ErrorSource.TURN
    assert event.exception_type == "builtins.ConnectionResetError"
    assert event.logger_name == "bots.host.pipeline"
    assert event.context == {
        "guild_id": "local-guild",
        "channel_id": channel.id,
        "decision_id": str(decisions[-1].pk),
    }
    assert "the platform hung up mid-send" in event.last_traceback


@pytest.mark.django_db(transaction=True)
def test_a_trigger_run_that_fails_for_good_is_captured_with_its_trigger_and_task():
    trigger_id = schedule(FAILING_KIND, due_at=timezone.now(), guild_id="g-7", channel_id="c-7")
    Trigger.objects.filter(pk=trigger_id).update(status=TriggerStatus.ENQUEUED)

    report = run_trigger(trigger_id)
    assert capture.flush()

    assert report.end == RunEnd.DEAD
    event = ErrorEvent.objects.get()
    assert event.source == ErrorSource.TASK
    assert event.exception_type == "builtins.KeyError"
    assert event.location == "observability/tests/test_sources.py:_failing_effect"
    assert event.context == {
        "trigger_id": str(trigger_id),
        "task": f"reactor:{FAILING_KIND}",
        "guild_id": "g-7",
        "channel_id": "c-7",
    }


@pytest.mark.django_db(transaction=True)
@pytest.mark.urls("observability.tests.urls")
def test_a_request_that_fails_is_captured_with_its_path_but_not_its_query():
    client = Client(raise_request_exception=False)

    first = client.get("/broken/", {"token": "abc-secret-123"})
    second = client.get("/broken/")
    assert capture.flush()

    assert (first.status_code, second.status_code) == (500, 500)
    event = ErrorEvent.objects.get()
    assert event.count == 2
    assert event.source == ErrorSource.REQUEST
    assert event.exception_type == "builtins.ZeroDivisionError"
    assert event.context == {"request_path": "/broken/"}
    assert "abc-secret-123" not in str(event.context)


def _event(**overrides):
    values = {
        "fingerprint": uuid.uuid4().hex,
        "exception_type": "builtins.RuntimeError",
        "location": "bots/host/pipeline.py:_speak",
        "message": "boom",
        "source": ErrorSource.TURN,
        "count": 3,
        "last_traceback": "Traceback (most recent call last):\n  boom <here>",
        "context": {"channel_id": "c-1", "decision_id": "9"},
        **overrides,
    }
    return ErrorEvent.objects.create(**values)


@pytest.mark.django_db
def test_admin_lists_errors_with_count_and_filters_by_source(admin_client, django_assert_num_queries):
    _event()
    _event(source=ErrorSource.REQUEST, exception_type="builtins.ZeroDivisionError", count=1)
    changelist = reverse("admin:observability_errorevent_changelist")
    admin_client.get(changelist)  # warm the session

    with django_assert_num_queries(8):
        page = admin_client.get(changelist)
    for _ in range(20):
        _event()
    with django_assert_num_queries(8):
        admin_client.get(changelist)
    by_source = admin_client.get(changelist, {"source__exact": "request"})

    assert page.status_code == 200
    html = page.content.decode()
    assert "column-count" in html
    assert "column-first_seen" in html
    assert "column-last_seen" in html
    assert [e.exception_type for e in by_source.context["cl"].result_list] == ["builtins.ZeroDivisionError"]


@pytest.mark.django_db
def test_admin_shows_an_errors_traceback_and_context(admin_client):
    event = _event()

    html = admin_client.get(reverse("admin:observability_errorevent_change", args=[event.pk])).content.decode()

    assert "Traceback (most recent call last):\n  boom &lt;here&gt;" in html
    assert "&quot;decision_id&quot;: &quot;9&quot;" in html
    assert "Add error event" not in html


@pytest.mark.django_db
def test_the_errors_endpoint_is_for_staff_only(owner_client, member_client, api_client, django_assert_num_queries):
    for _ in range(3):
        _event()
    _event(source=ErrorSource.REQUEST, count=1)

    with django_assert_num_queries(2):
        listing = owner_client.get("/api/errors/")
    by_source = owner_client.get("/api/errors/", {"source": "request"})

    assert listing.status_code == 200
    assert listing.json()["count"] == 4
    assert {"count", "first_seen", "last_seen", "last_traceback", "context"} <= set(listing.json()["results"][0])
    assert by_source.json()["count"] == 1
    assert member_client.get("/api/errors/").status_code == 403
    assert api_client.get("/api/errors/").status_code == 401
    assert owner_client.post("/api/errors/", {}).status_code == 405


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["2024-01-01T00:00:00-22:52", "2024-01-01T00:00:00+23:59:59"])
def test_errors_filter_by_a_time_with_an_offset_postgresql_cannot_store(owner_client, value):
    _event()

    response = owner_client.get("/api/errors/", {"since": value})

    assert response.status_code == 200
    assert response.json()["count"] == 1
