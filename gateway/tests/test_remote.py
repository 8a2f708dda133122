"""With DIT_GATEWAY_URL set, the same client calls go to a remote gateway over HTTP."""

from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync

from gateway import client as gateway
from gateway.errors import BudgetExhausted, GatewayNotConfigured, UpstreamUnavailable
from gateway.models import UsageEvent
from gateway.services import gateway_token_create
from gateway.tests.factories import BudgetEnvelopeFactory, ModelPriceFactory

pytestmark = pytest.mark.integration

HELLO = [{"role": "user", "content": "hello"}]


@pytest.fixture
def remote(gateway_server, gateway_on_openai_server, settings):
    """This process as a bot whose gateway is `gateway_server`; the gateway's provider is the local model server."""
    _, token = gateway_token_create(bot_id=21)
    settings.DIT_GATEWAY_URL = f"{gateway_server}/v1"
    settings.DIT_GATEWAY_TOKEN = token
    settings.DIT_BOT_ID = 21
    return gateway_on_openai_server


def test_complete_goes_to_the_remote_gateway_with_no_code_change(remote):
    ModelPriceFactory.create(model="gpt-4.1-mini", input_usd_per_million=Decimal(1), output_usd_per_million=Decimal(1))
    remote.queue_reply("over the wire", usage=(300, 200))

    completion = async_to_sync(gateway.complete)(purpose="synth-mid", messages=HELLO, guild_id="g9")

    assert completion.text == "over the wire"
    assert (completion.provider, completion.input_tokens, completion.output_tokens) == ("default", 300, 200)
    assert completion.cost_usd == Decimal("0.0005")
    event = UsageEvent.objects.get()
    assert (event.bot_id, event.guild_id, event.request_id) == (21, "g9", completion.request_id)


def test_stream_goes_to_the_remote_gateway(remote):
    remote.queue_reply("piece by piece")

    async def run():
        return [text async for text in gateway.stream(purpose="synth-low", messages=HELLO)]

    assert "".join(async_to_sync(run)()) == "piece by piece"
    assert UsageEvent.objects.get().streamed is True


def test_embed_goes_to_the_remote_gateway(remote):
    embeddings = async_to_sync(gateway.embed)(inputs=["sky"])

    assert embeddings.vectors[0] == pytest.approx(remote.embedding_for("sky"))
    assert embeddings.provider == "default"


def test_remote_errors_arrive_as_the_same_error_classes(remote):
    BudgetEnvelopeFactory.create(guild_id="broke", allocated_usd=Decimal(1), spent_usd=Decimal(1))

    with pytest.raises(BudgetExhausted, match="used up"):
        async_to_sync(gateway.complete)(purpose="synth-mid", messages=HELLO, guild_id="broke")


def test_the_budget_fraction_is_asked_of_the_remote_gateway(remote):
    BudgetEnvelopeFactory.create(guild_id="half", allocated_usd=Decimal(2), spent_usd=Decimal(1))

    assert gateway.budget_remaining_fraction("half") == pytest.approx(0.5)
    assert async_to_sync(gateway.abudget_remaining_fraction)("half") == pytest.approx(0.5)
    assert gateway.budget_remaining_fraction("unknown") is None


def test_a_remote_gateway_without_a_token_names_the_setting(settings):
    settings.DIT_GATEWAY_URL = "http://127.0.0.1:9/v1"

    with pytest.raises(GatewayNotConfigured, match="DIT_GATEWAY_TOKEN"):
        async_to_sync(gateway.complete)(purpose="synth-mid", messages=HELLO)


def test_an_unreachable_remote_gateway_is_upstream_unavailable(settings):
    settings.DIT_GATEWAY_URL = "http://127.0.0.1:9/v1"
    settings.DIT_GATEWAY_TOKEN = "dit_whatever"

    with pytest.raises(UpstreamUnavailable, match="did not answer"):
        async_to_sync(gateway.complete)(purpose="synth-mid", messages=HELLO)
