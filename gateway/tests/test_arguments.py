"""Every /v1 argument is checked before anything is reserved: a wrong one is an OpenAI-style 400, never a 500."""

import json
from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync

from gateway import client as gateway
from gateway.errors import BadRequest
from gateway.models import BudgetEnvelope, UsageEvent
from gateway.services import budget_reserve, gateway_token_create
from gateway.tests.factories import BudgetEnvelopeFactory, GatewayPolicyFactory, ModelPriceFactory

pytestmark = pytest.mark.django_db

HELLO = [{"role": "user", "content": "hello"}]


@pytest.fixture
def headers(db):
    _, plaintext = gateway_token_create(bot_id=21, label="tests")
    return {
        "HTTP_AUTHORIZATION": f"Bearer {plaintext}",
        "HTTP_X_DIT_PURPOSE": "synth-mid",
        "HTTP_X_DIT_GUILD": "g-args",
    }


@pytest.fixture
def priced_policy(gateway_on_openai_server, provider_on):
    """A synth-mid policy at $0.10 a token either way, on the local model server."""
    ModelPriceFactory.create(
        model="priced", input_usd_per_million=Decimal("100000"), output_usd_per_million=Decimal("100000")
    )
    return GatewayPolicyFactory.create(primary_model="priced", primary_provider=provider_on(gateway_on_openai_server))


def post(client, headers, body, path="/v1/chat/completions"):
    return client.post(path, data=json.dumps(body), content_type="application/json", **headers)


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"max_tokens": "abc"}, "max_tokens"),
        ({"max_tokens": [1]}, "max_tokens"),
        ({"max_tokens": -100000}, "max_tokens"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"max_tokens": True}, "max_tokens"),
        ({"max_completion_tokens": 2.5}, "max_completion_tokens"),
        ({"temperature": "hot"}, "temperature"),
        ({"temperature": 7}, "temperature"),
        ({"top_p": -1}, "top_p"),
        ({"stop": ["a", "b", "c", "d", "e"]}, "stop"),
        ({"tools": "lookup"}, "tools"),
        ({"stream_options": "yes"}, "stream_options"),
        ({"messages": [{"role": "wizard", "content": "hi"}]}, "messages"),
        ({"messages": [{"role": "user", "content": 5}]}, "messages"),
        ({"seed": "x"}, "seed"),
    ],
)
def test_a_wrong_chat_argument_is_an_openai_style_400_and_nothing_is_reserved_or_sent(
    client, headers, priced_policy, gateway_on_openai_server, extra, param
):
    envelope = BudgetEnvelopeFactory.create(guild_id="g-args", allocated_usd=Decimal("10"))

    response = post(client, headers, {"model": "auto", "messages": HELLO, **extra})

    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert (error["type"], error["code"], error["param"]) == ("invalid_request_error", "bad_request", param)
    envelope.refresh_from_db()
    assert envelope.reserved_usd == 0
    assert UsageEvent.objects.count() == 0
    assert gateway_on_openai_server.chat_requests == []


@pytest.mark.parametrize(("extra", "param"), [({"dimensions": -1}, "dimensions"), ({"model": 5}, "model")])
def test_a_wrong_embeddings_argument_is_an_openai_style_400(client, headers, extra, param):
    response = post(client, headers, {"input": ["a"], **extra}, path="/v1/embeddings")

    assert response.status_code == 400
    assert response.json()["error"]["param"] == param


def test_a_negative_max_tokens_cannot_free_room_that_calls_in_flight_hold(
    client, headers, priced_policy, gateway_on_openai_server
):
    # $9 of $10 are held by calls in flight; a negative hold would let more calls in.
    envelope = BudgetEnvelopeFactory.create(guild_id="g-args", allocated_usd=Decimal("10"), reserved_usd=Decimal("9"))

    refused = post(client, headers, {"model": "auto", "messages": HELLO, "max_tokens": -100000})

    assert refused.status_code == 400
    envelope.refresh_from_db()
    assert envelope.reserved_usd == Decimal("9")
    assert gateway_on_openai_server.chat_requests == []


def test_an_in_process_call_checks_its_arguments_before_reserving(priced_policy, gateway_on_openai_server):
    envelope = BudgetEnvelopeFactory.create(guild_id="g-args", allocated_usd=Decimal("10"))

    with pytest.raises(BadRequest, match="max_tokens"):
        async_to_sync(gateway.complete)(purpose="synth-mid", messages=HELLO, guild_id="g-args", max_tokens=-5)

    assert BudgetEnvelope.objects.get(pk=envelope.pk).reserved_usd == 0
    assert gateway_on_openai_server.chat_requests == []


def test_a_negative_budget_hold_is_refused():
    BudgetEnvelopeFactory.create(guild_id="g-neg", allocated_usd=Decimal("10"), reserved_usd=Decimal("9"))

    with pytest.raises(BadRequest, match="negative"):
        budget_reserve(guild_id="g-neg", amount=Decimal("-5"))

    assert BudgetEnvelope.objects.get(guild_id="g-neg").reserved_usd == Decimal("9")


def test_a_body_past_the_gateway_limit_is_an_openai_style_413(client, headers, settings, gateway_on_openai_server):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    body = {"model": "auto", "messages": [{"role": "user", "content": "x" * 20_000}]}

    response = post(client, headers, body)

    assert response.status_code == 413
    error = response.json()["error"]
    assert (error["code"], error["limit"]) == ("payload_too_large", 10_000)
    assert gateway_on_openai_server.chat_requests == []
