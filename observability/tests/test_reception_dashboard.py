"""The reception page's chart: per disposition, how the turns that spoke landed, the same numbers as the
decisions API's reception aggregate."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from dispositions.models import DispositionDecision, Persona
from dispositions.services import reception_record
from dispositions.tests.factories import make_decision

pytestmark = pytest.mark.django_db

CHART = "/api/dashboard/reception/"


def spoke(seed: int, *receptions: str) -> DispositionDecision:
    decision = make_decision(persona=Persona.objects.get(name="Dit"), seed=seed)
    DispositionDecision.objects.filter(pk=decision.pk).update(beat_count=1, chosen_slug="quick-react")
    for n, kind in enumerate(receptions):
        reception_record(decision_id=decision.pk, kind=kind, key=f"{kind}:{n}", message_id="m", at=timezone.now())
    return decision


@pytest.fixture
def landed():
    call_command("loaddata", "default_persona", verbosity=0)
    spoke(1, "reaction", "reaction", "reply")
    spoke(2, "silence")
    spoke(3, "quote")
    spoke(4)


def test_staff_see_each_dispositions_reception(admin_client, landed):
    chart = admin_client.get(CHART).json()

    assert chart["labels"] == ["quick-react"]
    assert {series["label"]: series["data"] for series in chart["datasets"]} == {
        "reaction": [1.0],
        "reply": [1.0],
        "quote": [1.0],
        "silence": [1.0],
    }
    (row,) = chart["rows"]
    assert (row["spoke"], row["engaged"], row["engaged_rate"]) == (4, 2, 0.5)
    assert admin_client.get("/dashboard/reception/").status_code == 200


def test_the_chart_and_the_decisions_endpoint_give_the_same_numbers(admin_client, landed):
    (row,) = admin_client.get(CHART).json()["rows"]
    (api,) = admin_client.get(reverse("decision-reception")).json()["by_disposition"]

    assert row == api


def test_someone_who_is_not_staff_is_sent_to_sign_in(client, member, landed):
    client.force_login(member)

    response = client.get("/dashboard/reception/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_a_turn_that_said_nothing_is_not_counted(admin_client, landed):
    make_decision(persona=Persona.objects.get(name="Dit"), seed=9)  # silent: no beat

    assert [row["spoke"] for row in admin_client.get(CHART).json()["rows"]] == [4]
