from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from gateway.models import BudgetEnvelope
from gateway.tests.factories import BudgetEnvelopeFactory, UsageEventFactory

pytestmark = pytest.mark.django_db

EVENTS = "/api/gateway/usage-events/"
ENVELOPES = "/api/gateway/budget-envelopes/"
SUMMARY = "/api/gateway/usage-summary/"


def envelope_body(*, days):
    """A request body opening a 5 USD budget for guild g, starting now and ending `days` later."""
    now = timezone.now()
    return {
        "guild_id": "g",
        "period_start": now.isoformat(),
        "period_end": (now + timedelta(days=days)).isoformat(),
        "allocated_usd": "5",
    }


def test_usage_events_need_a_signed_in_user(api_client):
    assert api_client.get(EVENTS).status_code == 401


def test_usage_events_filter_by_guild_purpose_and_time(member_client):
    now = timezone.now()
    keep = UsageEventFactory.create(guild_id="g1", purpose="extract", created_at=now - timedelta(hours=1))
    UsageEventFactory.create(guild_id="g1", purpose="synth-mid", created_at=now - timedelta(hours=1))
    UsageEventFactory.create(guild_id="g2", purpose="extract", created_at=now - timedelta(hours=1))
    UsageEventFactory.create(guild_id="g1", purpose="extract", created_at=now - timedelta(days=3))

    response = member_client.get(
        EVENTS, {"guild_id": "g1", "purpose": "extract", "since": (now - timedelta(days=1)).isoformat()}
    )

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [keep.pk]
    assert response.json()["results"][0]["cost_usd"] == "0.00100000"


def test_the_usage_event_list_runs_a_fixed_number_of_queries(member_client, django_assert_num_queries):
    UsageEventFactory.create_batch(15)

    with django_assert_num_queries(2):
        response = member_client.get(EVENTS)

    assert response.json()["count"] == 15


def test_usage_events_cannot_be_written(owner_client):
    assert owner_client.post(EVENTS, {"purpose": "extract"}).status_code == 405


def test_budget_envelopes_are_readable_by_members_with_their_remaining_share(member_client):
    BudgetEnvelopeFactory.create(guild_id="g", allocated_usd=Decimal(4), spent_usd=Decimal(1))

    rows = member_client.get(ENVELOPES, {"guild_id": "g"}).json()["results"]

    assert [(row["guild_id"], row["remaining_fraction"]) for row in rows] == [("g", 0.75)]


def test_members_cannot_open_budgets(member_client):
    response = member_client.post(ENVELOPES, envelope_body(days=1))

    assert response.status_code == 403
    assert not BudgetEnvelope.objects.exists()


def test_staff_open_and_resize_a_budget(owner_client):
    created = owner_client.post(ENVELOPES, envelope_body(days=7))
    assert created.status_code == 201
    envelope = BudgetEnvelope.objects.get()
    assert envelope.refresh_at == envelope.period_end

    resized = owner_client.patch(f"{ENVELOPES}{envelope.pk}/", {"allocated_usd": "8.5"})

    assert resized.status_code == 200
    envelope.refresh_from_db()
    assert envelope.allocated_usd == Decimal("8.5")
    assert Decimal(resized.json()["spent_usd"]) == 0


def test_a_period_that_ends_before_it_starts_is_refused_naming_the_field(owner_client):
    response = owner_client.post(ENVELOPES, envelope_body(days=-1))

    assert response.status_code == 400
    assert "period_end" in response.json()["error"]["fields"]
    assert not BudgetEnvelope.objects.exists()


def test_the_usage_summary_adds_cost_per_purpose_and_model_over_the_window(member_client):
    now = timezone.now()
    for request_id, cost in (("r1", "0.10"), ("r2", "0.20")):
        UsageEventFactory.create(
            request_id=request_id,
            purpose="synth-high",
            model="big",
            cost_usd=Decimal(cost),
            created_at=now - timedelta(hours=2),
        )
    UsageEventFactory.create(
        request_id="r1",
        attempt=2,
        outcome="server_error",
        purpose="synth-high",
        model="big",
        cost_usd=0,
        created_at=now - timedelta(hours=2),
    )
    UsageEventFactory.create(
        purpose="extract", model="small", cost_usd=Decimal("0.01"), created_at=now - timedelta(hours=1)
    )
    UsageEventFactory.create(
        purpose="extract", model="small", cost_usd=Decimal("5"), created_at=now - timedelta(days=2)
    )

    body = member_client.get(SUMMARY).json()

    rows = [
        (row["purpose"], row["model"], row["requests"], row["attempts"], Decimal(row["cost_usd"]))
        for row in body["rows"]
    ]
    assert rows == [("synth-high", "big", 2, 3, Decimal("0.30")), ("extract", "small", 1, 1, Decimal("0.01"))]
    assert Decimal(body["total_cost_usd"]) == Decimal("0.31")


def test_the_usage_summary_narrows_to_a_guild_and_window(member_client):
    now = timezone.now()
    UsageEventFactory.create(guild_id="a", cost_usd=Decimal("1"), created_at=now - timedelta(days=5))
    UsageEventFactory.create(guild_id="b", cost_usd=Decimal("2"), created_at=now - timedelta(days=5))

    body = member_client.get(
        SUMMARY, {"guild_id": "a", "since": (now - timedelta(days=6)).isoformat(), "until": now.isoformat()}
    ).json()

    assert Decimal(body["total_cost_usd"]) == Decimal("1")


def test_a_summary_window_that_ends_before_it_starts_is_a_clear_error(member_client):
    now = timezone.now()
    response = member_client.get(SUMMARY, {"since": now.isoformat(), "until": (now - timedelta(hours=1)).isoformat()})

    assert response.status_code == 400
    assert response.json()["error"]["message"] == "since must be before until"


@pytest.mark.parametrize("value", ["2024-01-01T00:00:00+23:59:59", "2024-01-01T00:00:00-20:00"])
def test_usage_events_filter_by_a_time_with_an_offset_postgresql_cannot_store(member_client, value):
    UsageEventFactory.create()

    response = member_client.get("/api/gateway/usage-events/", {"since": value})

    assert response.status_code == 200
    assert response.json()["count"] == 1


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+23:00", "9999-12-31T23:59:59-23:00"])
def test_usage_events_filtered_by_a_time_out_of_range_in_utc_are_a_400(member_client, value):
    response = member_client.get("/api/gateway/usage-events/", {"until": value})

    assert response.status_code == 400
    assert "until" in response.json()["error"]["fields"]


def test_a_second_envelope_for_the_same_guild_and_period_start_is_a_400_naming_the_conflict(owner_client):
    body = envelope_body(days=7)
    assert owner_client.post(ENVELOPES, body).status_code == 201

    duplicate = owner_client.post(ENVELOPES, body)

    assert duplicate.status_code == 400
    error = duplicate.json()["error"]
    assert error["code"] == "invalid"
    assert "already exists" in error["message"]
    assert BudgetEnvelope.objects.count() == 1


def test_the_usage_summary_schema_describes_the_object_it_returns(member_client):
    schema = member_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    response = schema["paths"][SUMMARY]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    component = schema["components"]["schemas"][response["$ref"].rsplit("/", 1)[1]]

    body = member_client.get(SUMMARY).json()

    assert component["type"] == "object"
    assert set(component["required"]) == set(body) == {"since", "until", "total_cost_usd", "rows"}
    assert component["properties"]["rows"]["type"] == "array"
