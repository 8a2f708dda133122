"""Reads of the gateway: tenant tokens, budget fractions, usage events and the usage summary."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, QuerySet, Sum
from django.utils import timezone

from gateway.models import BudgetEnvelope, GatewayToken, UsageEvent
from gateway.services import token_hash


def gateway_token_find(plaintext: str) -> GatewayToken | None:
    """The live (not revoked) token with this plain text, or None."""
    if not plaintext:
        return None
    return GatewayToken.objects.filter(token_hash=token_hash(plaintext), revoked_at__isnull=True).first()


def budget_remaining_fraction(guild_id: str, *, now: datetime | None = None) -> float | None:
    """The share of the guild's current budget still free (0.0 to 1.0); None when it has no budget.

    A period that has ended counts as renewed (full), as it will be on the next call.
    """
    moment = now or timezone.now()
    envelope = (
        BudgetEnvelope.objects.filter(guild_id=guild_id, period_start__lte=moment).order_by("-period_start").first()
    )
    if envelope is None:
        return None
    if moment >= envelope.refresh_at:
        return 1.0 if envelope.allocated_usd > 0 else 0.0
    return envelope.remaining_fraction


def usage_event_list() -> QuerySet[UsageEvent]:
    """Usage events, newest first, with the policy that routed them."""
    return UsageEvent.objects.select_related("policy").order_by("-created_at", "-id")


@dataclass(frozen=True)
class UsageSummaryRow:
    """Totals for one purpose and model over a window."""

    purpose: str
    model: str
    requests: int
    attempts: int
    input_tokens: int
    output_tokens: int
    cost_usd: Decimal


def usage_summary(
    *, since: datetime, until: datetime, guild_id: str | None = None, bot_id: int | None = None
) -> list[UsageSummaryRow]:
    """Cost and tokens per purpose and model in [since, until), most expensive first."""
    events = UsageEvent.objects.filter(created_at__gte=since, created_at__lt=until).exclude(model="")
    if guild_id is not None:
        events = events.filter(guild_id=guild_id)
    if bot_id is not None:
        events = events.filter(bot_id=bot_id)
    rows = (
        events.values("purpose", "model")
        .annotate(
            requests=Count("request_id", distinct=True),
            attempts=Count("id"),
            input_tokens=Sum("input_tokens"),
            output_tokens=Sum("output_tokens"),
            cost_usd=Sum("cost_usd"),
        )
        .order_by("-cost_usd", "purpose", "model")
    )
    return [
        UsageSummaryRow(
            purpose=row["purpose"],
            model=row["model"],
            requests=row["requests"],
            attempts=row["attempts"],
            input_tokens=row["input_tokens"] or 0,
            output_tokens=row["output_tokens"] or 0,
            cost_usd=row["cost_usd"] or Decimal(0),
        )
        for row in rows
    ]
