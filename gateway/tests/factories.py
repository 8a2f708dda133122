"""factory-boy factories of the gateway models."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import factory
from django.utils import timezone

from gateway.choices import Purpose
from gateway.models import BudgetEnvelope, GatewayPolicy, ModelPrice, PolicyFallback, Provider, UsageEvent


def _store_api_key(provider: Provider, create: bool, extracted: Any, **kwargs: Any) -> None:
    provider.set_api_key(extracted if extracted is not None else f"sk-{provider.name}")
    if create:
        provider.save(update_fields=["api_key_ciphertext"])


class ProviderFactory(factory.django.DjangoModelFactory[Provider]):
    class Meta:
        model = Provider
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"provider-{n}")
    base_url = "http://127.0.0.1:9/v1"
    connect_timeout_seconds = 2.0
    timeout_seconds = 5.0
    api_key = factory.PostGeneration(_store_api_key)


class ModelPriceFactory(factory.django.DjangoModelFactory[ModelPrice]):
    class Meta:
        model = ModelPrice

    model = "stub-model"
    input_usd_per_million = Decimal("1.00")
    output_usd_per_million = Decimal("2.00")


class GatewayPolicyFactory(factory.django.DjangoModelFactory[GatewayPolicy]):
    class Meta:
        model = GatewayPolicy

    purpose = Purpose.SYNTH_MID
    primary_model = "primary-model"
    primary_provider = factory.SubFactory(ProviderFactory)


class PolicyFallbackFactory(factory.django.DjangoModelFactory[PolicyFallback]):
    class Meta:
        model = PolicyFallback

    policy = factory.SubFactory(GatewayPolicyFactory)
    position = factory.Sequence(lambda n: n + 1)
    model = "fallback-model"
    provider = factory.SubFactory(ProviderFactory)


class BudgetEnvelopeFactory(factory.django.DjangoModelFactory[BudgetEnvelope]):
    class Meta:
        model = BudgetEnvelope

    guild_id = factory.Sequence(lambda n: f"{900000 + n}")
    period_start = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))
    period_end = factory.LazyAttribute(lambda o: o.period_start + timedelta(days=1))
    refresh_at = factory.LazyAttribute(lambda o: o.period_end)
    allocated_usd = Decimal("10.00")


class UsageEventFactory(factory.django.DjangoModelFactory[UsageEvent]):
    class Meta:
        model = UsageEvent

    request_id = factory.Sequence(lambda n: f"req-{n}")
    purpose = Purpose.SYNTH_MID
    model = "stub-model"
    provider = "default"
    attempt = 1
    outcome = "ok"
    input_tokens = 10
    output_tokens = 5
    cost_usd = Decimal("0.001")
    latency_ms = 20
