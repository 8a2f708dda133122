"""Reads of the dispositions app: routing candidates for a persona and decision aggregates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, FloatField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from dispositions.models import Disposition, DispositionDecision, Persona, PersonaDispositionWeight
from dispositions.specs import DispositionSpec, PersonaSpec
from dit_project.errors import NotFound


def persona_spec(persona: Persona, weights: dict[str, float]) -> PersonaSpec:
    """The router's view of a persona row with its weights keyed by disposition slug."""
    return PersonaSpec(
        id=persona.pk,
        name=persona.name,
        eligible_voices=frozenset(persona.eligible_voices),
        weights=weights,
        wake_words=tuple(persona.wake_words),
        banned_phrases=tuple(persona.banned_phrases),
        never_do=tuple(persona.never_do),
        soul_text=persona.soul_text,
    )


# What `DispositionSpec.from_row` reads: plain values, no model instances on the routing path.
_SPEC_FIELDS = (
    "id",
    "slug",
    "name",
    "reasoning_depth",
    "context_strategy",
    "voice",
    "output_shape",
    "search_posture",
    "risk_appetite",
    "fanout_plan",
    "speculative_only",
    "followup_bias",
    "followup_probability",
    "followup_window_min_seconds",
    "followup_window_max_seconds",
)


def _weighted_candidates(persona_id: int) -> QuerySet[Disposition, dict[str, Any]]:
    # The weight comes along in the same query; a disposition the persona has no row for weighs 1.0.
    weight = PersonaDispositionWeight.objects.filter(persona_id=persona_id, disposition_id=OuterRef("pk")).values(
        "weight"
    )[:1]
    return (
        Disposition.objects.filter(enabled=True)
        .annotate(persona_weight=Coalesce(Subquery(weight, output_field=FloatField()), Value(1.0)))
        .order_by("slug")
        .values(*_SPEC_FIELDS, "persona_weight")
    )


def _specs(persona: Persona, rows: list[dict[str, Any]]) -> tuple[PersonaSpec, list[DispositionSpec]]:
    weights = {row["slug"]: float(row["persona_weight"]) for row in rows}
    return persona_spec(persona, weights), [DispositionSpec.from_row(row, id=row["id"]) for row in rows]


def load_routing_candidates(persona_id: int) -> tuple[PersonaSpec, list[DispositionSpec]]:
    """The persona and its enabled candidate dispositions, in two queries."""
    try:
        persona = Persona.objects.get(pk=persona_id)
    except Persona.DoesNotExist:
        raise NotFound(f"Persona {persona_id} does not exist.") from None
    return _specs(persona, list(_weighted_candidates(persona_id)))


async def aload_routing_candidates(persona_id: int) -> tuple[PersonaSpec, list[DispositionSpec]]:
    """Async twin of `load_routing_candidates` for the host's event loop."""
    try:
        persona = await Persona.objects.aget(pk=persona_id)
    except Persona.DoesNotExist:
        raise NotFound(f"Persona {persona_id} does not exist.") from None
    return _specs(persona, [d async for d in _weighted_candidates(persona_id)])


@dataclass(frozen=True, slots=True)
class DecisionAggregate:
    """Counts of decisions per chosen disposition and per output shape over a window."""

    since: datetime
    until: datetime
    total: int
    by_disposition: tuple[tuple[str, int], ...]
    by_output_shape: tuple[tuple[str, int], ...]


def decision_aggregate(
    *, since: datetime, until: datetime, guild_id: str | None = None, channel_id: str | None = None
) -> DecisionAggregate:
    """Decisions in `[since, until)` counted per disposition and per output shape (two queries)."""
    decisions = DispositionDecision.objects.filter(created_at__gte=since, created_at__lt=until)
    if guild_id:
        decisions = decisions.filter(guild_id=guild_id)
    if channel_id:
        decisions = decisions.filter(channel_id=channel_id)
    per_slug = decisions.order_by().values("chosen_slug").annotate(count=Count("id")).order_by("-count", "chosen_slug")
    per_shape = (
        decisions.order_by().values("output_shape").annotate(count=Count("id")).order_by("-count", "output_shape")
    )
    by_disposition = tuple((row["chosen_slug"], row["count"]) for row in per_slug)
    return DecisionAggregate(
        since=since,
        until=until,
        total=sum(count for _, count in by_disposition),
        by_disposition=by_disposition,
        by_output_shape=tuple((row["output_shape"], row["count"]) for row in per_shape),
    )
