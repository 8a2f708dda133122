from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync

from gateway import client as gateway
from gateway.choices import Tier
from gateway.errors import GatewayNotConfigured
from gateway.models import Provider
from gateway.routing import default_endpoint, plan_call, provider_family, tier_model
from gateway.tests.factories import (
    GatewayPolicyFactory,
    ModelPriceFactory,
    PolicyFallbackFactory,
    ProviderFactory,
)

pytestmark = pytest.mark.django_db


def routes_of(purpose="synth-mid", bot_id=None, guild_id=None, model=None):
    plan = plan_call(purpose=purpose, bot_id=bot_id, guild_id=guild_id, model=model)
    return [(route.model, route.endpoint.name) for route in plan.routes]


@pytest.fixture
def scoped_policies():
    """One synth-mid policy per scope, each naming its scope as the model."""
    provider = ProviderFactory.create(name="p")
    for bot_id, guild_id, name in [(None, None, "global"), (None, "g", "guild"), (7, None, "bot"), (7, "g", "both")]:
        GatewayPolicyFactory.create(bot_id=bot_id, guild_id=guild_id, primary_model=name, primary_provider=provider)


@pytest.mark.parametrize(
    ("bot_id", "guild_id", "expected"),
    [(7, "g", "both"), (7, "other", "bot"), (8, "g", "guild"), (None, "g", "guild"), (8, None, "global")],
)
def test_the_most_specific_policy_wins(scoped_policies, bot_id, guild_id, expected):
    assert routes_of(bot_id=bot_id, guild_id=guild_id)[0][0] == expected


def test_a_policy_for_another_purpose_does_not_apply(scoped_policies, settings):
    settings.OPENAI_API_KEY = "sk-x"

    assert routes_of(purpose="synth-high", bot_id=7, guild_id="g") == [("gpt-4.1", "default")]


def test_fallbacks_follow_the_primary_in_position_order_and_inactive_providers_are_skipped():
    policy = GatewayPolicyFactory.create(primary_model="a", primary_provider=ProviderFactory.create(name="one"))
    PolicyFallbackFactory.create(policy=policy, position=3, model="d", provider=ProviderFactory.create(name="three"))
    PolicyFallbackFactory.create(policy=policy, position=1, model="b", provider=ProviderFactory.create(name="two"))
    PolicyFallbackFactory.create(
        policy=policy, position=2, model="c", provider=ProviderFactory.create(name="off", is_active=False)
    )

    assert routes_of() == [("a", "one"), ("b", "two"), ("d", "three")]


def test_a_route_without_provider_uses_the_default_provider(settings):
    settings.OPENAI_BASE_URL = "http://127.0.0.1:11434/v1"
    policy = GatewayPolicyFactory.create(primary_model="a", primary_provider=ProviderFactory.create(name="one"))
    PolicyFallbackFactory.create(policy=policy, position=1, model="local", provider=None)

    assert routes_of() == [("a", "one"), ("local", "default")]


def test_a_policy_whose_only_route_is_the_unset_default_provider_names_the_settings():
    GatewayPolicyFactory.create(primary_model="a", primary_provider=None)

    with pytest.raises(GatewayNotConfigured, match="OPENAI_BASE_URL"):
        plan_call(purpose="synth-mid", bot_id=None, guild_id=None)


def test_a_requested_model_is_tried_first_on_the_primary_provider():
    policy = GatewayPolicyFactory.create(primary_model="a", primary_provider=ProviderFactory.create(name="one"))
    PolicyFallbackFactory.create(policy=policy, position=1, model="b", provider=ProviderFactory.create(name="two"))

    assert routes_of(model="special") == [("special", "one"), ("a", "one"), ("b", "two")]
    assert routes_of(model="auto") == [("a", "one"), ("b", "two")]
    assert routes_of(model="a") == [("a", "one"), ("b", "two")]


def test_a_price_for_the_provider_wins_over_a_price_for_any_provider():
    one, two = ProviderFactory.create(name="one"), ProviderFactory.create(name="two")
    policy = GatewayPolicyFactory.create(primary_model="m", primary_provider=one)
    PolicyFallbackFactory.create(policy=policy, position=1, model="m", provider=two)
    ModelPriceFactory.create(model="m", provider=None, input_usd_per_million=Decimal(1))
    ModelPriceFactory.create(model="m", provider=one, input_usd_per_million=Decimal(5))

    plan = plan_call(purpose="synth-mid", bot_id=None, guild_id=None)

    assert [route.price.input_per_million if route.price else None for route in plan.routes] == [Decimal(5), Decimal(1)]


def test_policy_quotas_travel_with_the_plan():
    GatewayPolicyFactory.create(requests_per_minute=5, tokens_per_day=1000)

    plan = plan_call(purpose="synth-mid", bot_id=None, guild_id=None)

    assert (plan.requests_per_minute, plan.tokens_per_day) == (5, 1000)


def test_provider_keys_are_decrypted_only_into_the_endpoint():
    GatewayPolicyFactory.create(primary_provider=ProviderFactory.create(name="k", api_key="sk-secret-123"))

    endpoint = plan_call(purpose="synth-mid", bot_id=None, guild_id=None).routes[0].endpoint

    assert endpoint.api_key == "sk-secret-123"
    assert "sk-secret-123" not in repr(endpoint)
    assert "sk-secret-123" not in Provider.objects.get(name="k").api_key_ciphertext


@pytest.mark.parametrize(
    ("base_url", "family", "low_model"),
    [
        ("https://openrouter.ai/api/v1", "openrouter", "openai/gpt-4o-mini"),
        ("http://localhost:11434/v1", "ollama", "llama3.2"),
        ("https://api.openai.com/v1", "openai", "gpt-4o-mini"),
    ],
)
def test_tier_defaults_suit_the_kind_of_provider(base_url, family, low_model):
    assert provider_family(base_url) == family
    assert tier_model(Tier.LOW, base_url=base_url) == low_model


def test_a_tier_setting_overrides_the_default(settings):
    settings.DIT_MODEL_LOW = "my-small-model"

    assert tier_model(Tier.LOW, base_url="https://openrouter.ai/api/v1") == "my-small-model"


def test_the_default_provider_needs_only_a_key_for_openai_or_only_a_url_for_ollama(settings):
    settings.OPENAI_API_KEY = "sk-abc"
    openai_endpoint = default_endpoint()
    assert openai_endpoint is not None
    assert openai_endpoint.base_url == "https://api.openai.com/v1"

    settings.OPENAI_API_KEY = ""
    settings.OPENAI_BASE_URL = "http://localhost:11434/v1/"
    ollama_endpoint = default_endpoint()
    assert ollama_endpoint is not None
    assert (ollama_endpoint.base_url, ollama_endpoint.api_key) == ("http://localhost:11434/v1", "no-key")

    settings.OPENAI_BASE_URL = ""
    assert default_endpoint() is None


HELLO = [{"role": "user", "content": "hello"}]


def test_a_repeated_call_reuses_its_plan_and_only_writes_its_usage(gateway_on_openai_server, django_assert_num_queries):
    async_to_sync(gateway.complete)(purpose="synth-mid", messages=HELLO)

    with django_assert_num_queries(1) as captured:
        async_to_sync(gateway.complete)(purpose="synth-mid", messages=HELLO)

    assert captured.captured_queries[0]["sql"].startswith('INSERT INTO "gateway_usageevent"')


def test_changing_a_policy_takes_effect_on_the_next_call(gateway_on_openai_server, provider_on):
    policy = GatewayPolicyFactory.create(primary_model="before", primary_provider=provider_on(gateway_on_openai_server))
    async_to_sync(gateway.complete)(purpose="synth-mid", messages=HELLO)

    policy.primary_model = "after"
    policy.save(update_fields=["primary_model"])
    async_to_sync(gateway.complete)(purpose="synth-mid", messages=HELLO)

    assert [request.body["model"] for request in gateway_on_openai_server.chat_requests] == ["before", "after"]


def test_adding_a_policy_takes_effect_on_the_next_call(gateway_on_openai_server, provider_on):
    async_to_sync(gateway.complete)(purpose="synth-mid", messages=HELLO)

    GatewayPolicyFactory.create(primary_model="from-policy", primary_provider=provider_on(gateway_on_openai_server))
    async_to_sync(gateway.complete)(purpose="synth-mid", messages=HELLO)

    assert [request.body["model"] for request in gateway_on_openai_server.chat_requests] == [
        "gpt-4.1-mini",
        "from-policy",
    ]
