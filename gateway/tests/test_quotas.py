import asyncio

import pytest
from asgiref.sync import async_to_sync

from gateway import client as gateway
from gateway.choices import Outcome
from gateway.errors import QuotaExceeded
from gateway.models import UsageEvent
from gateway.quotas import quota_acquire
from gateway.routing import CallPlan
from gateway.tests.factories import GatewayPolicyFactory
from tests.servers.openai_server import Reply

pytestmark = pytest.mark.django_db

HELLO = [{"role": "user", "content": "hello"}]


@pytest.fixture
def policy_on_server(gateway_on_openai_server, provider_on):
    def make(**quotas):
        return GatewayPolicyFactory.create(primary_provider=provider_on(gateway_on_openai_server), **quotas)

    return make


def call(**kwargs):
    return async_to_sync(gateway.complete)(purpose="synth-mid", messages=HELLO, **kwargs)


def test_requests_per_minute_are_enforced_per_bot_and_guild(gateway_on_openai_server, policy_on_server):
    policy_on_server(requests_per_minute=2)

    call(bot_id=1, guild_id="a")
    call(bot_id=1, guild_id="a")
    with pytest.raises(QuotaExceeded, match="2 requests per minute") as caught:
        call(bot_id=1, guild_id="a")
    call(bot_id=1, guild_id="b")

    assert caught.value.code == "quota_exceeded"
    assert len(gateway_on_openai_server.chat_requests) == 3
    assert UsageEvent.objects.filter(outcome=Outcome.QUOTA_EXCEEDED).count() == 1


def test_concurrent_calls_never_pass_the_minute_quota(gateway_on_openai_server, policy_on_server):
    policy_on_server(requests_per_minute=5)

    async def many():
        coroutines = [gateway.complete(purpose="synth-mid", messages=HELLO, guild_id="c") for _ in range(12)]
        return await asyncio.gather(*coroutines, return_exceptions=True)

    results = async_to_sync(many)()

    assert sum(isinstance(result, QuotaExceeded) for result in results) == 7
    assert len(gateway_on_openai_server.chat_requests) == 5


def test_tokens_per_day_count_real_usage_and_refuse_what_would_pass_the_limit(
    gateway_on_openai_server, policy_on_server
):
    policy_on_server(tokens_per_day=100)
    gateway_on_openai_server.default_reply = Reply(text="x", usage=(30, 30))

    call(guild_id="t", max_tokens=20)
    with pytest.raises(QuotaExceeded, match="tokens per day"):
        call(guild_id="t", max_tokens=40)
    call(guild_id="t", max_tokens=10)

    assert len(gateway_on_openai_server.chat_requests) == 2


def test_a_plan_without_a_policy_has_no_quota():
    ticket = async_to_sync(quota_acquire)(
        plan=CallPlan(purpose="synth-mid", routes=()), bot_id=1, guild_id="x", estimated_tokens=10**9
    )

    assert ticket.tokens_key is None
