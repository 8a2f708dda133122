"""Reads of the dispositions app: routing candidates for a persona, decision aggregates, research ignore rates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Avg, Count, Exists, FloatField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, JSONObject

from dispositions.choices import ReceptionKind
from dispositions.models import (
    DecisionReception,
    Disposition,
    DispositionDecision,
    Persona,
    PersonaDispositionWeight,
    SubagentRun,
)
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


@dataclass(frozen=True, slots=True)
class PersonaIgnoreRate:
    """One research persona over a window: its runs, how many failed, and how often the reply left it unused."""

    persona: str
    runs: int
    failed: int
    measured: int
    ignored: int
    mean_uptake: float | None

    @property
    def ignore_rate(self) -> float | None:
        """The share of measured runs whose payload the reply ignored (None before any was measured)."""
        return self.ignored / self.measured if self.measured else None


def subagent_ignore_rates(
    *, since: datetime, until: datetime, guild_id: str | None = None, channel_id: str | None = None
) -> list[PersonaIgnoreRate]:
    """Per research persona, its runs in `[since, until)` and its ignore rate (one query)."""
    runs = SubagentRun.objects.filter(created_at__gte=since, created_at__lt=until)
    if guild_id:
        runs = runs.filter(decision__guild_id=guild_id)
    if channel_id:
        runs = runs.filter(decision__channel_id=channel_id)
    rows = (
        runs.order_by()
        .values("persona")
        .annotate(
            runs=Count("id"),
            failed=Count("id", filter=~Q(error="")),
            measured=Count("id", filter=Q(ignored__isnull=False)),
            ignored_count=Count("id", filter=Q(ignored=True)),
            mean_uptake=Avg("uptake"),
        )
        .order_by("persona")
    )
    return [
        PersonaIgnoreRate(
            persona=row["persona"],
            runs=row["runs"],
            failed=row["failed"],
            measured=row["measured"],
            ignored=row["ignored_count"],
            mean_uptake=row["mean_uptake"],
        )
        for row in rows
    ]


def with_reception(decisions: QuerySet[DispositionDecision]) -> QuerySet[DispositionDecision]:
    """Decisions annotated with `reception_rows`: how each landed, in order, read in the same query."""
    rows = (
        DecisionReception.objects.filter(decision=OuterRef("pk"))
        .order_by("at", "id")
        .values(
            json=JSONObject(
                kind="kind",
                message_id="message_id",
                by_message_id="by_message_id",
                user_id="user_id",
                at="at",
                detail="detail",
            )
        )
    )
    return decisions.annotate(reception_rows=ArraySubquery(rows))


@dataclass(frozen=True, slots=True)
class DispositionReception:
    """How one disposition's turns that spoke landed: how many spoke, and how many got each kind of reception."""

    disposition: str
    spoke: int
    reaction: int
    reply: int
    quote: int
    silence: int
    engaged: int

    @property
    def engaged_rate(self) -> float | None:
        """The share of turns that spoke that got a reaction, a reply or a quote (None: none spoke)."""
        return self.engaged / self.spoke if self.spoke else None


@dataclass(frozen=True, slots=True)
class ReceptionAggregate:
    """Reception per disposition over a window."""

    since: datetime
    until: datetime
    by_disposition: tuple[DispositionReception, ...]


def reception_aggregate(
    *, since: datetime, until: datetime, guild_id: str | None = None, channel_id: str | None = None
) -> ReceptionAggregate:
    """Decisions in `[since, until)` that sent something, per disposition: how many got each kind of reception
    (a decision counts once per kind) and how many got any engagement (one query)."""
    decisions = DispositionDecision.objects.filter(created_at__gte=since, created_at__lt=until, beat_count__gt=0)
    if guild_id:
        decisions = decisions.filter(guild_id=guild_id)
    if channel_id:
        decisions = decisions.filter(channel_id=channel_id)
    marks = {
        kind: Exists(DecisionReception.objects.filter(decision=OuterRef("pk"), kind=kind))
        for kind in ReceptionKind.values
    }
    engaged = Exists(
        DecisionReception.objects.filter(
            decision=OuterRef("pk"),
            kind__in=(ReceptionKind.REACTION, ReceptionKind.REPLY, ReceptionKind.QUOTE),
        )
    )
    rows = (
        decisions.order_by()
        .annotate(**{f"has_{kind}": mark for kind, mark in marks.items()}, has_engaged=engaged)
        .values("chosen_slug")
        .annotate(
            spoke=Count("id"),
            **{kind: Count("id", filter=Q(**{f"has_{kind}": True})) for kind in [*marks, "engaged"]},
        )
        .order_by("-spoke", "chosen_slug")
    )
    return ReceptionAggregate(
        since=since,
        until=until,
        by_disposition=tuple(
            DispositionReception(
                disposition=row["chosen_slug"],
                spoke=row["spoke"],
                reaction=row["reaction"],
                reply=row["reply"],
                quote=row["quote"],
                silence=row["silence"],
                engaged=row["engaged"],
            )
            for row in rows
        ),
    )
