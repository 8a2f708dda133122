"""/metrics: turns, decisions, gateway calls and cost, the reactor's queue and lateness, errors, from Postgres."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families

from dispositions.models import DispositionDecision, Persona
from dispositions.tests.factories import make_decision
from gateway.choices import Outcome, Purpose
from gateway.models import UsageEvent
from observability.choices import ErrorSource
from observability.models import ErrorEvent
from reactor.choices import TriggerStatus
from reactor.models import Trigger

pytestmark = pytest.mark.django_db

TOKEN = "scrape-token-0123456789"


def _samples(body: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
    }


@pytest.fixture
def world(db):
    call_command("loaddata", "default_persona", verbosity=0)
    default_persona = Persona.objects.get(name="Dit")
    now = timezone.now()
    for seed, end in enumerate(["spoke", "spoke", "error"]):
        decision = make_decision(persona=default_persona, seed=seed)
        DispositionDecision.objects.filter(pk=decision.pk).update(outcome={"end": end})
    make_decision(persona=default_persona, seed=9)  # still under way: no ending yet
    for purpose, outcome, cost in [
        (Purpose.SYNTH_LOW, Outcome.OK, "0.0012"),
        (Purpose.SYNTH_LOW, Outcome.OK, "0.0008"),
        (Purpose.SYNTH_LOW, Outcome.TIMEOUT, "0"),
        (Purpose.ROUTER_CLASSIFY, Outcome.OK, "0.0001"),
    ]:
        UsageEvent.objects.create(request_id="r", purpose=purpose, attempt=1, outcome=outcome, cost_usd=Decimal(cost))
    Trigger.objects.create(kind="k", status=TriggerStatus.PENDING, due_at=now - timedelta(seconds=30))
    Trigger.objects.create(kind="k", status=TriggerStatus.PENDING, due_at=now + timedelta(hours=1))
    Trigger.objects.create(kind="k", status=TriggerStatus.DEAD, due_at=now - timedelta(hours=1))
    Trigger.objects.create(
        kind="k", status=TriggerStatus.DONE, due_at=now - timedelta(seconds=4), started_at=now - timedelta(seconds=2)
    )
    ErrorEvent.objects.create(fingerprint="a", exception_type="E", source=ErrorSource.TURN, count=5)
    ErrorEvent.objects.create(fingerprint="b", exception_type="E", source=ErrorSource.TURN, count=2)
    return now


def test_metrics_count_the_deployment_from_the_database(client, settings, world, django_assert_num_queries):
    settings.DIT_METRICS_TOKEN = TOKEN

    with django_assert_num_queries(5):
        response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})

    assert response.status_code == 200
    assert response["Content-Type"] == CONTENT_TYPE_LATEST
    samples = _samples(response.content)
    assert samples[("dit_turns_total", (("ending", "spoke"),))] == 2
    assert samples[("dit_turns_total", (("ending", "error"),))] == 1
    assert samples[("dit_turns_total", (("ending", "unfinished"),))] == 1
    assert sum(v for (name, _), v in samples.items() if name == "dit_decisions_total") == 4
    assert samples[("dit_gateway_calls_total", (("outcome", "ok"), ("purpose", "synth-low")))] == 2
    assert samples[("dit_gateway_calls_total", (("outcome", "timeout"), ("purpose", "synth-low")))] == 1
    assert samples[("dit_gateway_cost_usd_total", (("purpose", "synth-low"),))] == pytest.approx(0.002)
    assert samples[("dit_gateway_cost_usd_total", (("purpose", "router-classify"),))] == pytest.approx(0.0001)
    assert samples[("dit_reactor_triggers", (("status", "pending"),))] == 2
    assert samples[("dit_reactor_triggers", (("status", "dead"),))] == 1
    assert samples[("dit_reactor_triggers", (("status", "running"),))] == 0
    assert ("dit_reactor_triggers", (("status", "done"),)) not in samples
    assert samples[("dit_reactor_overdue_seconds", (("status", "pending"),))] >= 30
    assert samples[("dit_reactor_overdue_seconds", (("status", "enqueued"),))] == 0
    assert samples[("dit_reactor_start_lateness_seconds", (("stat", "max"),))] == pytest.approx(2, abs=0.01)
    assert samples[("dit_errors_total", (("source", "turn"),))] == 7


def test_metrics_answer_staff_and_the_token_only(client, settings, owner, member):
    settings.DIT_METRICS_TOKEN = TOKEN

    anonymous = client.get("/metrics")
    wrong = client.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
    client.force_login(member)
    signed_in = client.get("/metrics")
    client.force_login(owner)
    staff = client.get("/metrics")

    assert anonymous.status_code == wrong.status_code == signed_in.status_code == 401
    assert anonymous.json()["error"]["code"] == "not_authenticated"
    assert anonymous["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert staff.status_code == 200
    assert b"dit_turns_total" in staff.content


def test_without_a_token_set_no_bearer_is_accepted(client, settings):
    settings.DIT_METRICS_TOKEN = ""

    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 401
