"""Every 429 the gateway answers says when to come back: Retry-After matches when the quota or budget renews."""

import json
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from gateway.services import gateway_token_create
from gateway.tests.factories import BudgetEnvelopeFactory, GatewayPolicyFactory

pytestmark = pytest.mark.django_db

HELLO = [{"role": "user", "content": "hello"}]


@pytest.fixture
def headers(db):
    _, plaintext = gateway_token_create(bot_id=31, label="tests")
    return {"HTTP_AUTHORIZATION": f"Bearer {plaintext}", "HTTP_X_DIT_PURPOSE": "synth-mid", "HTTP_X_DIT_GUILD": "g-ra"}


def chat(client, headers):
    body = json.dumps({"model": "auto", "messages": HELLO})
    return client.post("/v1/chat/completions", data=body, content_type="application/json", **headers)


def test_a_used_up_minute_quota_answers_429_with_retry_after_until_the_next_minute(
    client, headers, gateway_on_openai_server, provider_on
):
    GatewayPolicyFactory.create(primary_provider=provider_on(gateway_on_openai_server), requests_per_minute=1)

    assert chat(client, headers).status_code == 200
    before = time.time()
    refused = chat(client, headers)
    after = time.time()

    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "quota_exceeded"
    retry_after = int(refused["Retry-After"])
    # The minute window renews at the next multiple of 60 s since the epoch.
    assert 60 - int(before % 60) - 1 <= retry_after <= 60 - int(after % 60) + 1
    assert refused.json()["error"]["retry_after"] == retry_after


def test_a_used_up_token_quota_answers_429_with_retry_after_until_midnight_utc(
    client, headers, gateway_on_openai_server, provider_on
):
    GatewayPolicyFactory.create(primary_provider=provider_on(gateway_on_openai_server), tokens_per_day=1)

    refused = chat(client, headers)

    assert refused.status_code == 429
    now = timezone.now()
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    assert abs(int(refused["Retry-After"]) - (midnight - now).total_seconds()) <= 2


def test_an_exhausted_budget_answers_429_with_retry_after_until_the_period_refreshes(
    client, headers, gateway_on_openai_server
):
    envelope = BudgetEnvelopeFactory.create(
        guild_id="g-ra",
        allocated_usd=Decimal("1"),
        spent_usd=Decimal("1"),
        period_start=timezone.now() - timedelta(hours=22),
        period_end=timezone.now() + timedelta(hours=2),
    )

    refused = chat(client, headers)

    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "budget_exhausted"
    expected = (envelope.refresh_at - timezone.now()).total_seconds()
    assert abs(int(refused["Retry-After"]) - expected) <= 2
