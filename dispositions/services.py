"""Writes of the dispositions app: deciding a turn, logging the decision, replays and what-ifs."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from asgiref.sync import async_to_sync

from dispositions.models import DecisionReception, DispositionDecision, SubagentRun
from dispositions.router import aroute_turn, route_turn
from dispositions.selectors import aload_routing_candidates, load_routing_candidates
from dispositions.specs import (
    DispositionSpec,
    Moment,
    PersonaSpec,
    RouterConfig,
    RouterInputs,
    RoutingResult,
    TieBreaker,
)
from dit_project.errors import ApplicationError

logger = logging.getLogger(__name__)

_SEED_BITS = 63  # fits a signed bigint column
# The change stamp of personas, dispositions and weights: a running host reloads its candidates when it moves.
ROUTING_STAMP = "routing"


def new_seed() -> int:
    """A fresh stochasticity seed for a decision."""
    return secrets.randbits(_SEED_BITS)


def decision_fields(
    *,
    inputs: RouterInputs,
    result: RoutingResult,
    guild_id: str,
    channel_id: str,
    bot_id: int,
    inbound_message_id: str,
    router_latency_ms: float,
    trigger_id: UUID | None = None,
) -> dict[str, Any]:
    """The columns of a decision row for a routing result and its inputs."""
    if not 0 <= result.seed < 2**_SEED_BITS:
        raise ApplicationError(
            f"Seed {result.seed} does not fit the decision log: use 0 <= seed < 2**63.", code="bad_seed"
        )
    chosen = result.chosen
    return {
        "guild_id": guild_id,
        "channel_id": channel_id,
        "bot_id": bot_id,
        "inbound_message_id": inbound_message_id,
        "trigger_id": trigger_id,
        "persona_id": inputs.persona.id,
        "trigger_kind": inputs.moment.trigger,
        "candidate_scores": [row.as_dict() for row in result.scores],
        "gates": list(result.gates),
        "chosen_disposition_id": chosen.id,
        "chosen_slug": chosen.slug,
        "stochasticity_seed": result.seed,
        "temperature": result.temperature,
        "dimensions_used": {**chosen.dimensions(), "context_strategy": result.context_strategy},
        "context_strategy_used": result.context_strategy,
        "context_strategy_off_axis": result.off_axis,
        # What actually ran, not the plan: research subagents are recorded here once fan-out runs them.
        "subagents_fired": [],
        "output_shape": chosen.output_shape,
        "tiebreak_ran": result.tiebreak_ran,
        "tiebreak_options": list(result.tiebreak.options) if result.tiebreak else [],
        "tiebreak_answer": result.tiebreak.answer if result.tiebreak else None,
        "router_inputs": inputs.as_dict(),
        "router_latency_ms": router_latency_ms,
    }


def record_decision(
    *,
    moment: Moment,
    persona: PersonaSpec,
    candidates: Sequence[DispositionSpec],
    config: RouterConfig,
    result: RoutingResult,
    guild_id: str,
    channel_id: str,
    bot_id: int,
    inbound_message_id: str = "",
    router_latency_ms: float = 0.0,
    trigger_id: UUID | None = None,
) -> DispositionDecision:
    """Write a routing decision with its full inputs, so it can be replayed.

    `trigger_id` is the reactor trigger of a turn it started (self-followup, speculative); the database
    allows one decision per bot and trigger, so a turn handed over twice is decided once.
    """
    inputs = RouterInputs(moment=moment, persona=persona, candidates=tuple(candidates), config=config)
    return DispositionDecision.objects.create(
        **decision_fields(
            inputs=inputs,
            result=result,
            guild_id=guild_id,
            channel_id=channel_id,
            bot_id=bot_id,
            inbound_message_id=inbound_message_id,
            router_latency_ms=router_latency_ms,
            trigger_id=trigger_id,
        )
    )


def decide_turn(
    *,
    moment: Moment,
    persona_id: int,
    config: RouterConfig,
    seed: int | None = None,
    tiebreaker: TieBreaker | None = None,
    guild_id: str,
    channel_id: str,
    bot_id: int,
    inbound_message_id: str = "",
    trigger_id: UUID | None = None,
) -> DispositionDecision:
    """Load the persona's candidates, route the turn and log the decision (sync callers)."""
    persona, candidates = load_routing_candidates(persona_id)
    seed = new_seed() if seed is None else seed
    started = time.perf_counter()
    if tiebreaker is None:
        result = route_turn(moment, persona, candidates, config, seed=seed)
    else:
        result = async_to_sync(aroute_turn)(moment, persona, candidates, config, seed=seed, tiebreaker=tiebreaker)
    latency_ms = (time.perf_counter() - started) * 1000
    return record_decision(
        moment=moment,
        persona=persona,
        candidates=candidates,
        config=config,
        result=result,
        guild_id=guild_id,
        channel_id=channel_id,
        bot_id=bot_id,
        inbound_message_id=inbound_message_id,
        router_latency_ms=latency_ms,
        trigger_id=trigger_id,
    )


@dataclass(frozen=True, slots=True)
class Routed:
    """A routing result with everything it was given and how long it took, ready to be recorded."""

    inputs: RouterInputs
    result: RoutingResult
    latency_ms: float


async def aroute(
    *,
    moment: Moment,
    persona: PersonaSpec,
    candidates: Sequence[DispositionSpec],
    config: RouterConfig,
    seed: int,
    tiebreaker: TieBreaker | None = None,
) -> Routed:
    """Route a turn over loaded candidates, asking the tie-breaker on a close call; nothing is written."""
    started = time.perf_counter()
    result = await aroute_turn(moment, persona, candidates, config, seed=seed, tiebreaker=tiebreaker)
    latency_ms = (time.perf_counter() - started) * 1000
    inputs = RouterInputs(moment=moment, persona=persona, candidates=tuple(candidates), config=config)
    return Routed(inputs=inputs, result=result, latency_ms=latency_ms)


async def adecide_turn(
    *,
    moment: Moment,
    persona_id: int,
    config: RouterConfig,
    seed: int | None = None,
    tiebreaker: TieBreaker | None = None,
    guild_id: str,
    channel_id: str,
    bot_id: int,
    inbound_message_id: str = "",
    trigger_id: UUID | None = None,
) -> DispositionDecision:
    """Async twin of `decide_turn`, using the ORM's async methods, for the host's event loop."""
    persona, candidates = await aload_routing_candidates(persona_id)
    routed = await aroute(
        moment=moment,
        persona=persona,
        candidates=candidates,
        config=config,
        seed=new_seed() if seed is None else seed,
        tiebreaker=tiebreaker,
    )
    return await DispositionDecision.objects.acreate(
        **decision_fields(
            inputs=routed.inputs,
            result=routed.result,
            guild_id=guild_id,
            channel_id=channel_id,
            bot_id=bot_id,
            inbound_message_id=inbound_message_id,
            router_latency_ms=routed.latency_ms,
            trigger_id=trigger_id,
        )
    )


class ReplayError(ApplicationError):
    """A logged decision cannot be rebuilt into router inputs."""

    code = "decision_not_replayable"
    status = 422


def decision_inputs(decision: DispositionDecision) -> RouterInputs:
    """Router inputs rebuilt from a decision row."""
    try:
        return RouterInputs.from_dict(decision.router_inputs)
    except (TypeError, ValueError, KeyError) as exc:
        raise ReplayError(f"Decision {decision.pk} has router inputs that cannot be rebuilt: {exc}") from exc


@dataclass(frozen=True, slots=True)
class ReplayOutcome:
    """A replayed decision beside the original."""

    decision_id: int
    original_slug: str
    original_strategy: str
    result: RoutingResult

    @property
    def matches(self) -> bool:
        """True when the replay chose the same disposition and context strategy."""
        return self.result.chosen.slug == self.original_slug and self.result.context_strategy == self.original_strategy


def _rerun(decision: DispositionDecision, inputs: RouterInputs) -> RoutingResult:
    # The logged tie-break answer stands in for the classifier, so a replay never calls a model.
    return route_turn(
        inputs.moment,
        inputs.persona,
        inputs.candidates,
        inputs.config,
        seed=decision.stochasticity_seed,
        tiebreak_answer=decision.tiebreak_answer,
        tiebreak_consulted=decision.tiebreak_ran,
    )


def replay(decision: DispositionDecision) -> ReplayOutcome:
    """Re-run the router on a decision's logged inputs, seed and tie-break answer."""
    result = _rerun(decision, decision_inputs(decision))
    return ReplayOutcome(
        decision_id=decision.pk,
        original_slug=decision.chosen_slug,
        original_strategy=decision.context_strategy_used,
        result=result,
    )


def what_if(decision: DispositionDecision, weights: Mapping[str, float]) -> RoutingResult:
    """What the router would have chosen for this decision with other persona weights (nothing is saved)."""
    inputs = decision_inputs(decision)
    known = {spec.slug for spec in inputs.candidates}
    unknown = sorted(set(weights) - known)
    if unknown:
        raise ApplicationError(
            f"Weights name dispositions that were not candidates: {', '.join(unknown)}.", code="unknown_disposition"
        )
    try:
        persona = inputs.persona.with_weights(weights)
    except ValueError as exc:
        raise ApplicationError(str(exc), code="invalid_weight") from exc
    return _rerun(decision, RouterInputs(inputs.moment, persona, inputs.candidates, inputs.config))


def record_turn_outcome(
    *,
    decision: DispositionDecision,
    beat_count: int | None = None,
    latency_ms: float | None = None,
    cost_usd: Decimal | None = None,
    model_used: str | None = None,
    interruption: str | None = None,
    scheduled_followup_id: int | None = None,
    outcome: Mapping[str, Any] | None = None,
) -> DispositionDecision:
    """Store what the host did after the decision; only the given fields are written."""
    changes: dict[str, Any] = {
        "beat_count": beat_count,
        "latency_ms": latency_ms,
        "cost_usd": cost_usd,
        "model_used": model_used,
        "interruption": interruption,
        "scheduled_followup_id": scheduled_followup_id,
        "outcome": dict(outcome) if outcome is not None else None,
    }
    update_fields = [name for name, value in changes.items() if value is not None]
    for name in update_fields:
        setattr(decision, name, changes[name])
    if update_fields:
        decision.full_clean(exclude=[f.name for f in DispositionDecision._meta.fields if f.name not in update_fields])
        decision.save(update_fields=update_fields)
    return decision


def reception_record(
    *,
    decision_id: int,
    kind: str,
    key: str,
    message_id: str,
    at: datetime,
    by_message_id: str = "",
    user_id: str = "",
    detail: Mapping[str, Any] | None = None,
) -> bool:
    """Record how one of a decision's messages landed; False when that reception was recorded already."""
    # The unique (decision, key) constraint settles a race between two runs of one watcher.
    _, created = DecisionReception.objects.get_or_create(
        decision_id=decision_id,
        key=key,
        defaults={
            "kind": kind,
            "message_id": message_id,
            "by_message_id": by_message_id,
            "user_id": user_id,
            "at": at,
            "detail": dict(detail or {}),
        },
    )
    return created


def record_subagent_run(
    *,
    decision: DispositionDecision,
    persona: str,
    input_payload: Mapping[str, Any],
    output_payload: Mapping[str, Any] | None = None,
    latency_ms: float | None = None,
    cost_usd: Decimal = Decimal(0),
    model_used: str = "",
    error: str = "",
) -> SubagentRun:
    """Log one research persona's run during a turn's fan-out."""
    run = SubagentRun(
        decision=decision,
        persona=persona,
        input_payload=dict(input_payload),
        output_payload=dict(output_payload or {}),
        latency_ms=latency_ms,
        cost_usd=cost_usd,
        model_used=model_used,
        error=error,
    )
    run.full_clean(exclude=["decision"])
    run.save()
    return run
