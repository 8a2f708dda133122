"""From a purpose and a scope to an ordered list of routes (model on provider), with prices and quotas.

Policies resolve most specific first: bot and guild, then bot, then guild, then global. With no policy,
the purpose's tier picks a model on the default provider configured by OPENAI_BASE_URL/OPENAI_API_KEY.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Prefetch, Q

from gateway.choices import PURPOSE_TIERS, Tier
from gateway.errors import GatewayNotConfigured
from gateway.models import GatewayPolicy, ModelPrice, PolicyFallback, Provider

DEFAULT_PROVIDER_KEY = "default"
DEFAULT_PROVIDER_NAME = "default"
OPENAI_BASE_URL = "https://api.openai.com/v1"
# The OpenAI client insists on a key; local servers such as Ollama accept any.
PLACEHOLDER_API_KEY = "no-key"
# Model names that mean "whatever the policy says" when a client must send one (the OpenAI SDK does).
AUTO_MODELS = frozenset({"", "auto", "dit", "dit-auto"})

# Models known to suit each kind of provider, used when DIT_MODEL_<TIER> is empty.
MODEL_DEFAULTS: dict[str, dict[Tier, str]] = {
    "openai": {
        Tier.LOW: "gpt-4o-mini",
        Tier.MID: "gpt-4.1-mini",
        Tier.HIGH: "gpt-4.1",
        Tier.EMBED: "text-embedding-3-small",
    },
    "openrouter": {
        Tier.LOW: "openai/gpt-4o-mini",
        Tier.MID: "openai/gpt-4.1-mini",
        Tier.HIGH: "openai/gpt-4.1",
        Tier.EMBED: "openai/text-embedding-3-small",
    },
    "ollama": {
        Tier.LOW: "llama3.2",
        Tier.MID: "llama3.2",
        Tier.HIGH: "llama3.1",
        Tier.EMBED: "nomic-embed-text",
    },
}
TIER_SETTINGS: dict[Tier, str] = {
    Tier.LOW: "DIT_MODEL_LOW",
    Tier.MID: "DIT_MODEL_MID",
    Tier.HIGH: "DIT_MODEL_HIGH",
    Tier.EMBED: "DIT_MODEL_EMBED",
}
# A process reuses a resolved plan while the configuration version in Redis is unchanged (every save of a
# provider, price, policy or fallback bumps it), and never longer than this, in case a change bypassed
# the model signals (a bulk update in a shell).
PLAN_MAX_AGE_SECONDS = 30.0
PLAN_CACHE_LIMIT = 4096
NOT_CONFIGURED = (
    "No model provider is configured: set OPENAI_BASE_URL and OPENAI_API_KEY (see docs/gateway.md), "
    "or add a Provider and a GatewayPolicy in admin"
)


@dataclass(frozen=True)
class Endpoint:
    """Where and how to reach one provider; `key` names it in cooldown state and client caches."""

    key: str
    name: str
    base_url: str
    api_key: str = field(repr=False)
    connect_timeout: float
    timeout: float


@dataclass(frozen=True)
class Price:
    """USD per million tokens in and out."""

    input_per_million: Decimal
    output_per_million: Decimal

    def cost(self, *, input_tokens: int, output_tokens: int) -> Decimal:
        """The USD cost of these token counts."""
        total = self.input_per_million * input_tokens + self.output_per_million * output_tokens
        return total / Decimal(1_000_000)


@dataclass(frozen=True)
class Route:
    """One model on one provider, with its price when one is known."""

    model: str
    endpoint: Endpoint
    price: Price | None

    def cost(self, *, input_tokens: int, output_tokens: int) -> Decimal:
        """The USD cost on this route; zero when no price is configured."""
        if self.price is None:
            return Decimal(0)
        return self.price.cost(input_tokens=input_tokens, output_tokens=output_tokens)


@dataclass(frozen=True)
class CallPlan:
    """Everything decided before the first attempt."""

    purpose: str
    routes: tuple[Route, ...]
    policy_id: int | None = None
    requests_per_minute: int | None = None
    tokens_per_day: int | None = None


def provider_family(base_url: str) -> str:
    """Which kind of provider a base URL points at: openrouter, ollama or openai (the default)."""
    parts = urlsplit(base_url)
    host = (parts.hostname or "").lower()
    if host.endswith("openrouter.ai"):
        return "openrouter"
    if parts.port == 11434 or "ollama" in host:
        return "ollama"
    return "openai"


def default_endpoint() -> Endpoint | None:
    """The provider configured by OPENAI_BASE_URL / OPENAI_API_KEY, or None when neither is set."""
    base_url = settings.OPENAI_BASE_URL.strip()
    api_key = settings.OPENAI_API_KEY.strip()
    if not base_url and not api_key:
        return None
    return Endpoint(
        key=DEFAULT_PROVIDER_KEY,
        name=DEFAULT_PROVIDER_NAME,
        base_url=(base_url or OPENAI_BASE_URL).rstrip("/"),
        api_key=api_key or PLACEHOLDER_API_KEY,
        connect_timeout=min(5.0, float(settings.DIT_GATEWAY_TIMEOUT_SECONDS)),
        timeout=float(settings.DIT_GATEWAY_TIMEOUT_SECONDS),
    )


def tier_model(tier: Tier, *, base_url: str) -> str:
    """The model of a tier: DIT_MODEL_<TIER> when set, else the default for this kind of provider."""
    configured: str = getattr(settings, TIER_SETTINGS[tier], "").strip()
    return configured or MODEL_DEFAULTS[provider_family(base_url)][tier]


def provider_endpoint(provider: Provider) -> Endpoint:
    """The endpoint of a provider row (decrypts its key)."""
    return Endpoint(
        key=f"provider:{provider.pk}",
        name=provider.name,
        base_url=provider.base_url.rstrip("/"),
        api_key=provider.reveal_api_key() or PLACEHOLDER_API_KEY,
        connect_timeout=provider.connect_timeout_seconds,
        timeout=provider.timeout_seconds,
    )


def resolve_policy(*, purpose: str, bot_id: int | None, guild_id: str | None) -> GatewayPolicy | None:
    """The most specific policy for this purpose and scope: bot and guild, bot, guild, then global."""
    bot_scope = Q(bot_id__isnull=True) if bot_id is None else Q(bot_id__isnull=True) | Q(bot_id=bot_id)
    guild_scope = Q(guild_id__isnull=True) if guild_id is None else Q(guild_id__isnull=True) | Q(guild_id=guild_id)
    candidates = list(
        GatewayPolicy.objects.filter(Q(purpose=purpose), bot_scope, guild_scope)
        .select_related("primary_provider")
        .prefetch_related(
            Prefetch("fallbacks", queryset=PolicyFallback.objects.select_related("provider").order_by("position"))
        )
    )
    if not candidates:
        return None
    return max(candidates, key=lambda policy: policy.specificity)


def _prices(pairs: list[tuple[str, Endpoint]]) -> dict[tuple[str, str], Price]:
    """Prices for (model, endpoint key) pairs: a provider's own price wins over a price for any provider."""
    models = {model for model, _ in pairs}
    found: dict[tuple[str, str], Price] = {}
    generic: dict[str, Price] = {}
    for row in ModelPrice.objects.filter(model__in=models):
        price = Price(row.input_usd_per_million, row.output_usd_per_million)
        if row.provider_id is None:
            generic[row.model] = price
        else:
            found[(row.model, f"provider:{row.provider_id}")] = price
    return {
        (model, endpoint.key): found.get((model, endpoint.key)) or generic[model]
        for model, endpoint in pairs
        if (model, endpoint.key) in found or model in generic
    }


def _policy_pairs(policy: GatewayPolicy, default: Endpoint | None) -> list[tuple[str, Endpoint]]:
    steps: list[tuple[str, Provider | None]] = [(policy.primary_model, policy.primary_provider)]
    steps += [(fallback.model, fallback.provider) for fallback in policy.fallbacks.all()]
    pairs: list[tuple[str, Endpoint]] = []
    for model, provider in steps:
        if provider is None:
            if default is None:
                continue
            pairs.append((model, default))
        elif provider.is_active:
            pairs.append((model, provider_endpoint(provider)))
    if not pairs:
        raise GatewayNotConfigured(
            f"The {policy.purpose} policy for {policy.scope_label} has no usable route: its providers are inactive "
            "or it names the default provider while OPENAI_BASE_URL and OPENAI_API_KEY are unset"
        )
    return pairs


def plan_call(*, purpose: str, bot_id: int | None, guild_id: str | None, model: str | None = None) -> CallPlan:
    """Resolve the routes of one call; `model` (if not an auto name) is tried first on the primary's provider."""
    default = default_endpoint()
    policy = resolve_policy(purpose=purpose, bot_id=bot_id, guild_id=guild_id)
    if policy is not None:
        pairs = _policy_pairs(policy, default)
    elif default is not None:
        pairs = [(tier_model(PURPOSE_TIERS[purpose], base_url=default.base_url), default)]
    else:
        raise GatewayNotConfigured(NOT_CONFIGURED)
    if model is not None and model.strip().lower() not in AUTO_MODELS:
        pairs.insert(0, (model.strip(), pairs[0][1]))
    unique: list[tuple[str, Endpoint]] = []
    for pair in pairs:
        if all(pair[0] != model_seen or pair[1].key != endpoint.key for model_seen, endpoint in unique):
            unique.append(pair)
    prices = _prices(unique)
    routes = tuple(Route(model, endpoint, prices.get((model, endpoint.key))) for model, endpoint in unique)
    if policy is None:
        return CallPlan(purpose=purpose, routes=routes)
    return CallPlan(
        purpose=purpose,
        routes=routes,
        policy_id=policy.pk,
        requests_per_minute=policy.requests_per_minute,
        tokens_per_day=policy.tokens_per_day,
    )


@dataclass(frozen=True)
class CachedPlan:
    """A plan resolved under one configuration version."""

    version: str
    stored_at: float
    plan: CallPlan


# Plans by scope and by every setting they depend on; checked against the Redis version on each call.
_plans: dict[tuple[object, ...], CachedPlan] = {}


def plan_cache_key(*, purpose: str, bot_id: int | None, guild_id: str | None, model: str | None) -> tuple[object, ...]:
    """What a plan depends on besides the database: the call's scope and the settings read by plan_call."""
    return (
        settings.DIT_GATEWAY_REDIS_PREFIX,
        settings.DATABASES["default"]["NAME"],
        settings.OPENAI_BASE_URL,
        settings.OPENAI_API_KEY,
        *(getattr(settings, name) for name in TIER_SETTINGS.values()),
        settings.DIT_GATEWAY_TIMEOUT_SECONDS,
        purpose,
        bot_id,
        guild_id,
        model,
    )


def cached_plan(cache_key: tuple[object, ...]) -> CachedPlan | None:
    """A remembered plan young enough to reuse if its version still holds."""
    entry = _plans.get(cache_key)
    if entry is None or time.monotonic() - entry.stored_at > PLAN_MAX_AGE_SECONDS:
        return None
    return entry


def remember_plan(cache_key: tuple[object, ...], *, version: str, plan: CallPlan) -> None:
    """Keep a plan for reuse under this configuration version."""
    if len(_plans) >= PLAN_CACHE_LIMIT:
        _plans.clear()
    _plans[cache_key] = CachedPlan(version=version, stored_at=time.monotonic(), plan=plan)


def known_models() -> list[tuple[str, str]]:
    """(model, provider name) pairs the gateway may route to, for `GET /v1/models`."""
    seen: dict[str, str] = {}
    default = default_endpoint()
    if default is not None:
        for tier in Tier:
            seen.setdefault(tier_model(tier, base_url=default.base_url), default.name)
    for policy in GatewayPolicy.objects.select_related("primary_provider"):
        seen.setdefault(policy.primary_model, policy.primary_provider.name if policy.primary_provider else "default")
    for fallback in PolicyFallback.objects.select_related("provider"):
        seen.setdefault(fallback.model, fallback.provider.name if fallback.provider else "default")
    return sorted(seen.items())
