"""The /v1/ endpoints, served by uvicorn and called with the real openai client, as any bot would."""

from decimal import Decimal

import httpx
import openai
import pytest

from gateway.choices import Outcome
from gateway.models import UsageEvent
from gateway.services import gateway_token_create, gateway_token_revoke
from gateway.tests.factories import (
    BudgetEnvelopeFactory,
    GatewayPolicyFactory,
    ModelPriceFactory,
    PolicyFallbackFactory,
)
from tests.servers.openai_server import ToolCallSpec

pytestmark = pytest.mark.integration

HELLO = [{"role": "user", "content": "hello"}]


def error_body(error: openai.APIError) -> dict:
    """The `error` object of the gateway's reply, as the SDK kept it."""
    assert isinstance(error.body, dict)
    return error.body


@pytest.fixture
def token(gateway_server):
    _, plaintext = gateway_token_create(bot_id=11, label="tests")
    return plaintext


@pytest.fixture
def client(gateway_server, gateway_on_openai_server, token):
    """An OpenAI SDK client pointed at the gateway, as bot 11 in guild g1, purpose synth-mid."""
    with openai.OpenAI(
        base_url=f"{gateway_server}/v1",
        api_key=token,
        max_retries=0,
        timeout=20,
        default_headers={"x-dit-purpose": "synth-mid", "x-dit-guild": "g1"},
    ) as sdk:
        yield sdk


def test_the_openai_client_completes_through_the_gateway(client, gateway_on_openai_server):
    ModelPriceFactory.create(model="gpt-4.1-mini", input_usd_per_million=Decimal(2), output_usd_per_million=Decimal(6))
    gateway_on_openai_server.queue_reply("Hello from upstream", usage=(500, 100))

    response = client.chat.completions.create(model="auto", messages=HELLO)

    assert response.choices[0].message.content == "Hello from upstream"
    assert response.choices[0].finish_reason == "stop"
    assert (response.usage.prompt_tokens, response.usage.completion_tokens) == (500, 100)
    assert response.model_extra["dit"]["provider"] == "default"
    assert Decimal(response.model_extra["dit"]["cost_usd"]) == Decimal("0.0016")
    event = UsageEvent.objects.get()
    assert (event.bot_id, event.guild_id, event.purpose, event.outcome) == (11, "g1", "synth-mid", Outcome.OK)
    assert event.cost_usd == Decimal("0.0016")
    assert response.id == f"chatcmpl-{event.request_id}"


def test_the_openai_client_streams_through_the_gateway(client, gateway_on_openai_server):
    gateway_on_openai_server.queue_reply("streaming is fun", usage=(4, 3))

    stream = client.chat.completions.create(
        model="auto", messages=HELLO, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)

    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert text == "streaming is fun"
    assert [chunk.choices[0].finish_reason for chunk in chunks if chunk.choices][-1] == "stop"
    assert chunks[-1].usage.completion_tokens == 3
    assert len({chunk.id for chunk in chunks}) == 1
    event = UsageEvent.objects.get()
    assert (event.streamed, event.outcome, event.output_tokens) == (True, Outcome.OK, 3)


def test_a_stream_relays_tool_calls(client, gateway_on_openai_server):
    gateway_on_openai_server.queue_reply("", tool_calls=[ToolCallSpec("search", '{"q": "x"}')])

    chunks = list(client.chat.completions.create(model="auto", messages=HELLO, stream=True))

    calls = [call for chunk in chunks if chunk.choices for call in chunk.choices[0].delta.tool_calls or []]
    assert [(call.function.name, call.function.arguments) for call in calls] == [("search", '{"q": "x"}')]
    assert all(chunk.usage is None for chunk in chunks)


def test_the_openai_client_embeds_through_the_gateway(client, gateway_on_openai_server):
    # The SDK asks for base64 by default and decodes it; the gateway asks its provider for floats.
    result = client.embeddings.create(model="auto", input=["red", "blue"])

    assert [item.embedding for item in result.data] == [
        pytest.approx(gateway_on_openai_server.embedding_for("red")),
        pytest.approx(gateway_on_openai_server.embedding_for("blue")),
    ]
    assert gateway_on_openai_server.embedding_requests[0].body["encoding_format"] == "float"
    assert UsageEvent.objects.get().purpose == "embed"


def test_models_lists_auto_and_the_tier_models(client):
    ids = [model.id for model in client.models.list()]

    assert ids[0] == "auto"
    assert {"gpt-4o-mini", "gpt-4.1-mini", "gpt-4.1", "text-embedding-3-small"} <= set(ids)


def test_failover_through_http_records_every_attempt(client, openai_server_factory, provider_on):
    primary, fallback = openai_server_factory(), openai_server_factory()
    policy = GatewayPolicyFactory.create(purpose="synth-mid", primary_model="a", primary_provider=provider_on(primary))
    PolicyFallbackFactory.create(policy=policy, model="b", provider=provider_on(fallback))
    primary.queue_fault(503)
    fallback.queue_reply("rescued")

    response = client.chat.completions.create(model="auto", messages=HELLO)

    assert response.choices[0].message.content == "rescued"
    assert response.model_extra["dit"]["attempts"] == 2
    outcomes = list(UsageEvent.objects.order_by("attempt").values_list("attempt", "model", "outcome"))
    assert outcomes == [(1, "a", Outcome.SERVER_ERROR), (2, "b", Outcome.OK)]


def test_a_stream_broken_after_its_first_token_ends_with_an_error_the_sdk_raises(client, gateway_on_openai_server):
    gateway_on_openai_server.queue_reply("one two three", drop_after_chunks=1)

    received: list[str] = []
    stream = client.chat.completions.create(model="auto", messages=HELLO, stream=True)
    with pytest.raises(openai.APIError) as caught:
        received.extend(chunk.choices[0].delta.content or "" for chunk in stream)

    assert "".join(received) == "one"
    assert error_body(caught.value)["code"] == "stream_interrupted"


@pytest.mark.parametrize("authorization", [{"Authorization": "Bearer not-a-token"}, {}])
def test_a_missing_or_unknown_token_is_a_401_with_an_openai_shaped_body(gateway_server, authorization):
    response = httpx.post(
        f"{gateway_server}/v1/chat/completions",
        json={"model": "auto", "messages": HELLO},
        headers={"x-dit-purpose": "synth-mid", **authorization},
    )

    assert response.status_code == 401
    error = response.json()["error"]
    assert (error["type"], error["code"]) == ("authentication_error", "invalid_api_key")
    assert error["message"]


def test_the_sdk_raises_authentication_error_for_a_revoked_token(client, token):
    from gateway.models import GatewayToken

    gateway_token_revoke(token=GatewayToken.objects.get())

    with pytest.raises(openai.AuthenticationError):
        client.chat.completions.create(model="auto", messages=HELLO)


def test_a_missing_purpose_is_a_clear_400(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="auto", messages=HELLO, extra_headers={"x-dit-purpose": ""})

    assert "x-dit-purpose" in caught.value.message
    assert error_body(caught.value)["param"] == "x-dit-purpose"


def test_an_exhausted_budget_is_a_429_with_code_budget_exhausted(client, gateway_on_openai_server):
    BudgetEnvelopeFactory.create(guild_id="g1", allocated_usd=Decimal("1"), spent_usd=Decimal("1"))

    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model="auto", messages=HELLO)

    assert caught.value.status_code == 429
    assert error_body(caught.value)["code"] == "budget_exhausted"
    assert gateway_on_openai_server.chat_requests == []


def test_a_token_may_not_speak_for_another_bot(client):
    with pytest.raises(openai.PermissionDeniedError, match="belongs to bot 11"):
        client.chat.completions.create(model="auto", messages=HELLO, extra_headers={"x-dit-bot": "12"})


def test_a_body_that_is_not_json_is_a_400_naming_the_problem(gateway_server, token):
    response = httpx.post(
        f"{gateway_server}/v1/chat/completions",
        content=b"{nope",
        headers={"Authorization": f"Bearer {token}", "x-dit-purpose": "synth-mid", "Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert "not valid JSON" in response.json()["error"]["message"]


def test_only_post_is_allowed_on_chat_completions(gateway_server, token):
    response = httpx.get(f"{gateway_server}/v1/chat/completions", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_a_stream_the_provider_ends_without_a_finish_reason_ends_with_an_error_event_not_done(
    gateway_server, gateway_on_openai_server, token
):
    gateway_on_openai_server.queue_reply("one two three", end_after_chunks=1)

    response = httpx.post(
        f"{gateway_server}/v1/chat/completions",
        json={"model": "auto", "messages": HELLO, "stream": True},
        headers={"Authorization": f"Bearer {token}", "x-dit-purpose": "synth-mid"},
        timeout=20,
    )

    events = [line.removeprefix("data: ") for line in response.text.splitlines() if line.startswith("data: ")]
    assert "[DONE]" not in events
    assert '"code":"stream_interrupted"' in events[-1]
    assert list(UsageEvent.objects.values_list("outcome", flat=True)) == [Outcome.STREAM_INTERRUPTED]
