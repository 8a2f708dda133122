from decimal import Decimal
from types import SimpleNamespace

import pytest
from asgiref.sync import async_to_sync

from gateway import client as gateway
from gateway.choices import Outcome
from gateway.cooldowns import cooldown_seconds, provider_failed
from gateway.errors import BadRequest, StreamInterrupted, UpstreamRejected, UpstreamUnavailable
from gateway.models import UsageEvent
from gateway.tests.factories import GatewayPolicyFactory, ModelPriceFactory, PolicyFallbackFactory
from tests.servers.openai_server import Reply

pytestmark = pytest.mark.django_db

HELLO = [{"role": "user", "content": "hello"}]


@pytest.fixture
def routes(openai_server_factory, provider_on):
    """A synth-mid policy: model-a on `primary`, then model-b on `fallback`, each on its own local server."""
    primary_server, fallback_server = openai_server_factory(), openai_server_factory()
    primary = provider_on(primary_server, name="primary", timeout_seconds=0.5)
    fallback = provider_on(fallback_server, name="fallback")
    policy = GatewayPolicyFactory.create(purpose="synth-mid", primary_model="model-a", primary_provider=primary)
    PolicyFallbackFactory.create(policy=policy, position=1, model="model-b", provider=fallback)
    fallback_server.default_reply = Reply(text="from the fallback")
    return SimpleNamespace(
        primary=primary_server, fallback=fallback_server, primary_provider=primary, fallback_provider=fallback
    )


def complete(**kwargs):
    return async_to_sync(gateway.complete)(purpose="synth-mid", messages=HELLO, **kwargs)


def attempts():
    return list(UsageEvent.objects.order_by("attempt").values_list("attempt", "provider", "model", "outcome"))


FAULTS = {
    "500": (lambda server: server.queue_fault(500), Outcome.SERVER_ERROR),
    "503": (lambda server: server.queue_fault(503), Outcome.SERVER_ERROR),
    "429 without Retry-After": (lambda server: server.queue_fault(429), Outcome.RATE_LIMITED),
    "timeout": (lambda server: server.queue_slow(5.0), Outcome.TIMEOUT),
    "dropped connection": (lambda server: server.queue_drop(), Outcome.CONNECTION_ERROR),
    "invalid JSON": (lambda server: server.queue_invalid_json(), Outcome.INVALID_RESPONSE),
}


@pytest.mark.parametrize("fault", FAULTS.keys())
def test_a_failing_primary_fails_over_to_the_fallback(routes, fault):
    inject, outcome = FAULTS[fault]
    inject(routes.primary)

    completion = complete()

    assert completion.text == "from the fallback"
    assert (completion.provider, completion.model, completion.attempts) == ("fallback", "model-b", 2)
    assert routes.fallback.chat_requests[0].body["model"] == "model-b"
    assert attempts() == [(1, "primary", "model-a", outcome), (2, "fallback", "model-b", Outcome.OK)]


def test_each_attempt_records_its_own_usage_and_cost(routes):
    ModelPriceFactory.create(model="model-b", input_usd_per_million=Decimal(2), output_usd_per_million=Decimal(8))
    routes.primary.queue_fault(500)
    routes.fallback.queue_reply("fine", usage=(100, 50))

    complete(guild_id="5")

    failed, succeeded = UsageEvent.objects.order_by("attempt")
    assert (failed.cost_usd, failed.input_tokens, failed.error.startswith("500")) == (0, 0, True)
    assert (succeeded.cost_usd, succeeded.input_tokens, succeeded.output_tokens) == (Decimal("0.0006"), 100, 50)
    assert failed.request_id == succeeded.request_id


def test_a_429_with_a_short_retry_after_waits_and_retries_the_same_route(routes):
    routes.primary.queue_fault(429, retry_after=0.05)
    routes.primary.queue_reply("second time lucky")

    completion = complete()

    assert completion.text == "second time lucky"
    assert len(routes.primary.chat_requests) == 2
    assert routes.fallback.chat_requests == []
    assert attempts() == [(1, "primary", "model-a", Outcome.RATE_LIMITED), (2, "primary", "model-a", Outcome.OK)]


def test_a_429_with_a_retry_after_beyond_the_cap_skips_to_the_fallback_and_cools_the_primary(routes, redis_keys):
    routes.primary.queue_fault(429, retry_after=90)

    assert complete().provider == "fallback"
    assert complete().provider == "fallback"

    assert len(routes.primary.chat_requests) == 1
    assert f"cooldown:provider:{routes.primary_provider.pk}" in redis_keys()


def test_a_400_is_not_retried(routes):
    routes.primary.queue_fault(400, message="messages[0].content is too long")

    with pytest.raises(BadRequest, match="too long"):
        complete()

    assert routes.fallback.chat_requests == []
    assert attempts() == [(1, "primary", "model-a", Outcome.REJECTED)]


def test_a_provider_refusing_the_key_is_not_retried_and_the_error_says_to_check_it(routes):
    routes.primary.require_api_key = "sk-other"

    with pytest.raises(UpstreamRejected, match="API key"):
        complete()

    assert routes.fallback.chat_requests == []


def test_a_provider_that_keeps_failing_is_cooled_down_and_skipped(routes, redis_keys):
    routes.primary.queue_fault(500)
    routes.primary.queue_fault(503)

    complete()
    assert f"cooldown:provider:{routes.primary_provider.pk}" not in redis_keys()
    complete()
    assert f"cooldown:provider:{routes.primary_provider.pk}" in redis_keys()
    third = complete()

    assert third.provider == "fallback"
    assert third.attempts == 1
    assert len(routes.primary.chat_requests) == 2
    assert len(routes.fallback.chat_requests) == 3


def test_a_success_clears_the_failure_count(routes, redis_keys):
    routes.primary.queue_fault(500)
    complete()
    assert redis_keys()[f"failures:provider:{routes.primary_provider.pk}"] == "1"

    assert complete().provider == "primary"

    assert f"failures:provider:{routes.primary_provider.pk}" not in redis_keys()


def test_cooldowns_grow_with_each_failure_up_to_the_cap(settings):
    settings.DIT_GATEWAY_COOLDOWN_BASE_SECONDS = 5
    settings.DIT_GATEWAY_COOLDOWN_MAX_SECONDS = 60

    seen = [async_to_sync(provider_failed)("provider:x") for _ in range(6)]

    assert seen == [0.0, 5.0, 10.0, 20.0, 40.0, 60.0]
    assert [cooldown_seconds(n) for n in range(1, 7)] == seen


def test_when_every_provider_cools_down_the_call_fails_fast(routes):
    async_to_sync(provider_failed)(f"provider:{routes.primary_provider.pk}", retry_after=60)
    async_to_sync(provider_failed)(f"provider:{routes.fallback_provider.pk}", retry_after=60)

    with pytest.raises(UpstreamUnavailable, match="cooling down") as caught:
        complete()

    assert caught.value.code == "upstream_unavailable"
    assert routes.primary.requests == routes.fallback.requests == []
    assert attempts() == [(0, "primary", "model-a", Outcome.COOLING_DOWN)]


def test_when_every_route_fails_each_attempt_is_recorded(routes):
    routes.primary.queue_fault(500)
    routes.fallback.queue_fault(502)

    with pytest.raises(UpstreamUnavailable, match="All 2 attempts"):
        complete()

    assert attempts() == [
        (1, "primary", "model-a", Outcome.SERVER_ERROR),
        (2, "fallback", "model-b", Outcome.SERVER_ERROR),
    ]


def stream_text(**kwargs):
    async def run():
        received = []
        try:
            async for text in gateway.stream(purpose="synth-mid", messages=HELLO, **kwargs):
                received.append(text)
        except Exception as exc:  # noqa: BLE001 - handed back for the test to assert on
            return received, exc
        return received, None

    return async_to_sync(run)()


def test_a_stream_that_fails_before_it_starts_fails_over(routes):
    routes.primary.queue_fault(503)
    routes.fallback.queue_reply("streamed from fallback")

    received, error = stream_text()

    assert error is None
    assert "".join(received) == "streamed from fallback"
    assert attempts() == [(1, "primary", "model-a", Outcome.SERVER_ERROR), (2, "fallback", "model-b", Outcome.OK)]


def test_a_stream_that_breaks_before_its_first_token_fails_over(routes):
    routes.primary.queue_reply("never seen", drop_after_chunks=0)
    routes.fallback.queue_reply("second route")

    received, error = stream_text()

    assert error is None
    assert "".join(received) == "second route"


def test_a_stream_that_breaks_after_its_first_token_hands_the_error_to_the_caller(routes):
    routes.primary.queue_reply("a b c d", drop_after_chunks=2)

    received, error = stream_text()

    assert received == ["a", " b"]
    assert isinstance(error, StreamInterrupted)
    assert routes.fallback.chat_requests == []
    assert attempts() == [(1, "primary", "model-a", Outcome.STREAM_INTERRUPTED)]


def test_another_model_on_a_failing_provider_is_still_tried_until_the_provider_cools_down(
    openai_server_factory, provider_on
):
    server = openai_server_factory()
    provider = provider_on(server, name="only")
    policy = GatewayPolicyFactory.create(purpose="synth-mid", primary_model="model-a", primary_provider=provider)
    PolicyFallbackFactory.create(policy=policy, position=1, model="model-b", provider=provider)
    server.queue_fault(500)
    server.queue_reply("model b answered")

    assert complete().text == "model b answered"
    assert [request.body["model"] for request in server.chat_requests] == ["model-a", "model-b"]


def test_a_stream_that_ends_without_a_finish_reason_after_its_first_token_is_an_interrupted_stream(routes):
    routes.primary.queue_reply("a b c d", end_after_chunks=2)

    received, error = stream_text()

    assert received == ["a", " b"]
    assert isinstance(error, StreamInterrupted)
    assert "without a finish reason" in error.message
    assert routes.fallback.chat_requests == []
    assert attempts() == [(1, "primary", "model-a", Outcome.STREAM_INTERRUPTED)]


def test_a_stream_that_ends_cleanly_before_its_first_token_fails_over(routes):
    routes.primary.queue_reply("never seen", end_after_chunks=0)
    routes.fallback.queue_reply("second route")

    received, error = stream_text()

    assert error is None
    assert "".join(received) == "second route"
    assert attempts() == [
        (1, "primary", "model-a", Outcome.STREAM_INTERRUPTED),
        (2, "fallback", "model-b", Outcome.OK),
    ]


def test_an_in_process_call_while_redis_is_down_is_a_clear_503_and_holds_no_budget(routes, settings):
    import socket

    from gateway.errors import StateUnavailable
    from gateway.models import BudgetEnvelope
    from gateway.tests.factories import BudgetEnvelopeFactory

    envelope = BudgetEnvelopeFactory.create(guild_id="g-down")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]
    shared, settings.REDIS_URL = settings.REDIS_URL, f"redis://127.0.0.1:{dead}/0"
    try:
        with pytest.raises(StateUnavailable, match="Redis is not answering") as caught:
            complete(guild_id="g-down")
    finally:
        settings.REDIS_URL = shared

    assert (caught.value.status, caught.value.extra["service"]) == (503, "redis")
    assert BudgetEnvelope.objects.get(pk=envelope.pk).reserved_usd == 0
    assert routes.primary.chat_requests == []
