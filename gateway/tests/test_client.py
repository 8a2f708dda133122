from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync

from gateway import client as gateway
from gateway.choices import Outcome
from gateway.errors import BadRequest, GatewayNotConfigured
from gateway.models import UsageEvent
from gateway.tests.factories import ModelPriceFactory
from tests.servers.openai_server import ToolCallSpec

pytestmark = pytest.mark.django_db

HELLO = [{"role": "user", "content": "hello there"}]


def collect_stream(**kwargs):
    async def run():
        return [text async for text in gateway.stream(**kwargs)]

    return async_to_sync(run)()


def test_complete_returns_the_reply_with_its_usage_and_cost(gateway_on_openai_server):
    ModelPriceFactory.create(model="gpt-4.1-mini", input_usd_per_million=Decimal(1), output_usd_per_million=Decimal(4))
    gateway_on_openai_server.queue_reply("Hi, friends", usage=(1000, 500))

    completion = async_to_sync(gateway.complete)(purpose="synth-mid", messages=HELLO, guild_id="77", bot_id=5)

    assert completion.text == "Hi, friends"
    assert (completion.model, completion.provider) == ("gpt-4.1-mini", "default")
    assert (completion.input_tokens, completion.output_tokens) == (1000, 500)
    assert completion.cost_usd == Decimal("0.003")
    assert completion.finish_reason == "stop"
    event = UsageEvent.objects.get()
    assert (event.request_id, event.attempt, event.outcome) == (completion.request_id, 1, Outcome.OK)
    assert (event.bot_id, event.guild_id, event.purpose) == (5, "77", "synth-mid")
    assert event.cost_usd == Decimal("0.003")


def test_the_purpose_picks_the_tier_model_on_the_default_provider(gateway_on_openai_server, settings):
    settings.DIT_MODEL_HIGH = "big-model"

    async_to_sync(gateway.complete)(purpose="synth-high", messages=HELLO)
    async_to_sync(gateway.complete)(purpose="router-classify", messages=HELLO)

    sent = [request.body["model"] for request in gateway_on_openai_server.chat_requests]
    assert sent == ["big-model", "gpt-4o-mini"]
    assert gateway_on_openai_server.chat_requests[0].headers["authorization"] == "Bearer sk-local-test"


def test_parameters_reach_the_provider(gateway_on_openai_server):
    tools = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}]

    async_to_sync(gateway.complete)(
        purpose="extract",
        messages=HELLO,
        max_tokens=42,
        temperature=0.3,
        response_format={"type": "json_object"},
        tools=tools,
    )

    body = gateway_on_openai_server.chat_requests[0].body
    assert body["max_tokens"] == 42
    assert body["temperature"] == 0.3
    assert body["response_format"] == {"type": "json_object"}
    assert body["tools"] == tools


def test_tool_calls_come_back_as_values(gateway_on_openai_server):
    gateway_on_openai_server.queue_reply("", tool_calls=[ToolCallSpec("lookup", '{"q": "cats"}', id="call_9")])

    completion = async_to_sync(gateway.complete)(purpose="subagent-research", messages=HELLO)

    assert completion.finish_reason == "tool_calls"
    assert [(call.id, call.name, call.arguments) for call in completion.tool_calls] == [
        ("call_9", "lookup", '{"q": "cats"}')
    ]


def test_stream_yields_the_text_deltas_and_records_usage(gateway_on_openai_server):
    gateway_on_openai_server.queue_reply("one two three", usage=(7, 3))

    deltas = collect_stream(purpose="synth-low", messages=HELLO, guild_id="9")

    assert deltas == ["one", " two", " three"]
    assert gateway_on_openai_server.chat_requests[0].body["stream_options"] == {"include_usage": True}
    event = UsageEvent.objects.get()
    assert (event.outcome, event.streamed, event.input_tokens, event.output_tokens) == (Outcome.OK, True, 7, 3)


def test_embed_returns_one_vector_per_input_in_order(gateway_on_openai_server):
    embeddings = async_to_sync(gateway.embed)(inputs=["apples", "pears"], guild_id="3")

    assert embeddings.vectors == (
        pytest.approx(gateway_on_openai_server.embedding_for("apples")),
        pytest.approx(gateway_on_openai_server.embedding_for("pears")),
    )
    assert embeddings.model == "text-embedding-3-small"
    request = gateway_on_openai_server.embedding_requests[0]
    assert request.body["input"] == ["apples", "pears"]
    assert UsageEvent.objects.get().purpose == "embed"


def test_with_no_provider_a_call_says_which_settings_to_set(db):
    with pytest.raises(GatewayNotConfigured) as caught:
        async_to_sync(gateway.complete)(purpose="synth-mid", messages=HELLO)

    assert "OPENAI_BASE_URL" in caught.value.message
    assert "OPENAI_API_KEY" in caught.value.message
    assert caught.value.code == "gateway_not_configured"


def test_an_unknown_purpose_is_a_bad_request_listing_the_purposes(gateway_on_openai_server):
    with pytest.raises(BadRequest) as caught:
        async_to_sync(gateway.complete)(purpose="poetry", messages=HELLO)

    assert "synth-mid" in caught.value.message
    assert gateway_on_openai_server.requests == []


def test_messages_without_a_role_are_refused_before_any_call(gateway_on_openai_server):
    with pytest.raises(BadRequest, match=r"messages\[0\]"):
        async_to_sync(gateway.complete)(purpose="synth-mid", messages=[{"content": "no role"}])

    assert gateway_on_openai_server.requests == []


def test_the_bot_id_defaults_to_dit_bot_id(gateway_on_openai_server, settings):
    settings.DIT_BOT_ID = 31

    async_to_sync(gateway.complete)(purpose="synth-mid", messages=HELLO)

    assert UsageEvent.objects.get().bot_id == 31
