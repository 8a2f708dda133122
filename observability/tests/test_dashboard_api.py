"""The dashboard's aggregate endpoints: staff only, one error shape, each chart's numbers from the rows."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from dispositions.models import SubagentRun
from dispositions.tests.factories import (
    DispositionFactory,
    PersonaDispositionWeightFactory,
    PersonaFactory,
    make_decision,
)
from gateway.choices import Outcome, Purpose
from gateway.models import BudgetEnvelope
from gateway.tests.factories import BudgetEnvelopeFactory, UsageEventFactory
from observability.dashboard.pages import CHARTS
from reactor.choices import TriggerStatus
from reactor.models import Trigger

pytestmark = pytest.mark.django_db


@pytest.fixture
def moderator_client(moderator):
    client = APIClient()
    client.force_authenticate(moderator)
    return client


def routed_persona():
    persona = PersonaFactory()
    PersonaDispositionWeightFactory(persona=persona, disposition=DispositionFactory(slug="quick-react"))
    return persona


@pytest.mark.parametrize("slug", [*CHARTS, "decisions"])
def test_every_dashboard_endpoint_is_refused_to_a_member_in_the_one_error_shape(member_client, slug):
    response = member_client.get(f"/api/dashboard/{slug}/")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize("slug", [*CHARTS, "decisions"])
def test_every_dashboard_endpoint_asks_an_anonymous_caller_to_sign_in(api_client, slug):
    response = api_client.get(f"/api/dashboard/{slug}/")
    assert response.status_code == 401
    assert "error" in response.json()


def test_a_window_out_of_range_is_a_400_naming_the_field(moderator_client):
    response = moderator_client.get("/api/dashboard/dispositions/?days=365")
    assert response.status_code == 400
    assert "days" in response.json()["error"]["fields"]


def test_the_disposition_chart_counts_decisions_per_chosen_slug(moderator_client):
    persona = routed_persona()
    for seed in (1, 2, 3):
        make_decision(persona=persona, seed=seed)

    data = moderator_client.get("/api/dashboard/dispositions/?days=1").json()

    assert [series["label"] for series in data["datasets"]] == ["quick-react"]
    assert sum(data["datasets"][0]["data"]) == 3
    # Every hour of the day is a bucket, the empty ones as zero.
    assert len(data["labels"]) in (24, 25)
    assert len(data["labels"]) == len(data["datasets"][0]["data"])


def test_the_disposition_chart_is_per_day_past_two_days(moderator_client):
    make_decision(persona=routed_persona(), seed=1)

    data = moderator_client.get("/api/dashboard/dispositions/?days=7").json()

    assert len(data["labels"]) in (7, 8)
    assert data["labels"][-1] == timezone.now().strftime("%Y-%m-%d")
    assert data["datasets"][0]["data"][-1] == 1


def test_usage_is_summed_per_purpose_and_per_guild_with_failed_attempts_counted(moderator_client):
    UsageEventFactory(purpose=Purpose.SYNTH_MID, guild_id="g-1", cost_usd=Decimal("0.25"))
    UsageEventFactory(purpose=Purpose.SYNTH_MID, guild_id="g-2", cost_usd=Decimal("0.50"))
    UsageEventFactory(purpose=Purpose.EMBED, guild_id="g-1", cost_usd=Decimal("0"), outcome=Outcome.TIMEOUT)

    by_purpose = moderator_client.get("/api/dashboard/usage-by-purpose/").json()
    by_guild = moderator_client.get("/api/dashboard/usage-by-guild/").json()

    assert by_purpose["labels"] == ["synth-mid", "embed"]
    assert by_purpose["datasets"][0]["data"] == [0.75, 0.0]
    assert [row["failed"] for row in by_purpose["rows"]] == [0, 1]
    assert by_guild["labels"] == ["g-2", "g-1"]
    assert [row["calls"] for row in by_guild["rows"]] == [1, 2]


def test_usage_outside_the_window_is_left_out(moderator_client):
    UsageEventFactory(cost_usd=Decimal("1"), created_at=timezone.now() - timedelta(days=3))

    data = moderator_client.get("/api/dashboard/usage-by-purpose/?days=1").json()

    assert data["labels"] == []


def test_budget_burn_shows_spent_and_reserved_against_the_allocation(moderator_client):
    BudgetEnvelopeFactory(guild_id="g-1", allocated_usd=Decimal("10"))
    BudgetEnvelope.objects.filter(guild_id="g-1").update(spent_usd=Decimal("2.5"), reserved_usd=Decimal("0.5"))

    data = moderator_client.get("/api/dashboard/budget/").json()

    assert {series["label"]: series["data"] for series in data["datasets"]} == {
        "Allocated": [10.0],
        "Spent": [2.5],
        "Reserved": [0.5],
    }
    assert data["rows"][0]["burn_percent"] == 25.0


def test_triggers_are_stacked_by_status_and_dead_letters_listed_with_their_error(moderator_client):
    Trigger.objects.create(kind="bots.followup", status=TriggerStatus.DONE)
    Trigger.objects.create(kind="bots.followup", status=TriggerStatus.DEAD, last_error="boom: model down")
    Trigger.objects.create(kind="memory.extract", status=TriggerStatus.PENDING)

    triggers = moderator_client.get("/api/dashboard/triggers/").json()
    dead = moderator_client.get("/api/dashboard/dead-letters/").json()

    assert triggers["labels"] == ["bots.followup", "memory.extract"]
    assert {series["label"]: series["data"] for series in triggers["datasets"]} == {
        "pending": [0.0, 1.0],
        "done": [1.0, 0.0],
        "dead": [1.0, 0.0],
    }
    assert dead["labels"] == ["bots.followup"]
    assert [row["last_error"] for row in dead["rows"]] == ["boom: model down"]


def test_research_runs_are_split_into_used_ignored_and_failed_per_persona(moderator_client):
    decision = make_decision(persona=routed_persona(), seed=3)
    for name, ignored, error in (
        ("comedian", False, ""),
        ("comedian", True, ""),
        ("comedian", None, "timed out"),
        ("contrarian", True, ""),
    ):
        SubagentRun.objects.create(
            decision=decision, persona=name, ignored=ignored, uptake=None if ignored is None else 0.5, error=error
        )

    answer = moderator_client.get("/api/dashboard/subagents/").json()

    assert answer["labels"] == ["comedian", "contrarian"]
    assert {series["label"]: series["data"] for series in answer["datasets"]} == {
        "Used": [1.0, 0.0],
        "Ignored": [1.0, 1.0],
        "Failed": [1.0, 0.0],
    }
    assert [row["ignore_rate"] for row in answer["rows"]] == [0.5, 1.0]


def test_the_live_list_shows_the_newest_decision_first_with_its_top_scores(moderator_client):
    persona = routed_persona()
    first = make_decision(persona=persona, seed=1)
    second = make_decision(persona=persona, seed=2, channel_id="c-2")

    rows = moderator_client.get("/api/dashboard/decisions/?limit=5").json()

    assert [row["id"] for row in rows] == [second.pk, first.pk]
    assert rows[0]["channel_id"] == "c-2"
    assert rows[0]["top_scores"][0]["slug"] == "quick-react"


def test_the_live_list_costs_one_query(moderator_client, django_assert_num_queries):
    persona = routed_persona()
    for seed in range(5):
        make_decision(persona=persona, seed=seed)
    with django_assert_num_queries(1):
        # force_authenticate: no session or user read, only the list itself.
        rows = moderator_client.get("/api/dashboard/decisions/").json()
    assert len(rows) == 5


def test_the_schema_documents_every_dashboard_endpoint(moderator_client):
    schema = moderator_client.get("/api/schema/?format=json").json()
    for slug in [*CHARTS, "decisions"]:
        operation = schema["paths"][f"/api/dashboard/{slug}/"]["get"]
        assert operation["tags"] == ["dashboard"]
        assert "403" in operation["responses"]


def test_a_dashboard_page_sends_a_member_to_the_admin_login(client, member):
    client.force_login(member)
    for path in ["/dashboard/", "/dashboard/usage/"]:
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


def test_each_chart_page_names_the_endpoints_it_draws_from(client, moderator):
    client.force_login(moderator)
    response = client.get("/dashboard/triggers/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-endpoint="/api/dashboard/triggers/"' in html
    assert 'data-endpoint="/api/dashboard/dead-letters/"' in html
    assert "observability/vendor/chart.umd.min.js" in html


def test_an_unknown_dashboard_page_is_a_404(client, moderator):
    client.force_login(moderator)
    assert client.get("/dashboard/nope/").status_code == 404


def test_the_admin_links_staff_to_the_dashboard(client, moderator):
    client.force_login(moderator)
    assert 'href="/dashboard/"' in client.get("/admin/").content.decode()
