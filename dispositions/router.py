"""The disposition router: hard gates, heuristic signals, persona and budget pressure, seeded sampling.

Plain Python on frozen dataclasses (`dispositions.specs`): no database, no Django settings, no network at
call time. The only source of chance is `random.Random(seed)`, so a decision replays exactly from its logged
inputs, seed and (when the optional classifier tie-break ran) its logged answer.

A score is the persona's weight times the factors of `dispositions.factors` that apply, each leaving a
reason behind. Probabilities are `score ** (1 / temperature)`, normalised: a low temperature sharpens
towards the top score, a high one flattens towards uniform.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable

from dispositions.choices import LIVE_WINDOW_STRATEGIES, ContextStrategy
from dispositions.factors import candidate_factors, elimination, estimate_cost, listening_odds, read_moment, turn_gates
from dispositions.specs import (
    SILENT_FALLBACK,
    CandidateScore,
    DispositionSpec,
    Moment,
    PersonaSpec,
    RouterConfig,
    RoutingResult,
    ScoredTurn,
    TieBreak,
    TieBreaker,
)

__all__ = [
    "aroute_turn",
    "build_tiebreak_prompt",
    "estimate_cost",
    "finish_routing",
    "route_turn",
    "score_candidates",
    "tiebreak_options",
]


def score_candidates(
    moment: Moment,
    persona: PersonaSpec,
    candidates: Iterable[DispositionSpec],
    config: RouterConfig,
) -> ScoredTurn:
    """Apply gates, signals and pressures to every candidate; deterministic, no chance involved."""
    reading = read_moment(moment, config)
    by_slug: dict[str, DispositionSpec] = {}
    rows: list[CandidateScore] = []
    silent_rows: list[int] = []
    speaking_weight = 0.0
    for spec in candidates:
        by_slug[spec.slug] = spec
        cost = estimate_cost(spec)
        eliminated = elimination(spec, reading, persona, cost)
        if eliminated is not None:
            rows.append(CandidateScore(spec.slug, 0.0, 0.0, cost, (), eliminated, spec.id))
            continue
        weight = persona.weight(spec.slug)
        score = weight
        reasons = [f"persona weight x{weight:.2f}"]
        if spec.is_silent:
            silent_rows.append(len(rows))
        else:
            speaking_weight += weight
        for factor in candidate_factors(spec, reading, cost):
            score *= factor.multiplier
            reasons.append(factor.reason)
        rows.append(CandidateScore(spec.slug, score, 0.0, cost, tuple(reasons), None, spec.id))

    odds = listening_odds(reading, speaking_weight=speaking_weight, silent_count=len(silent_rows))
    if odds is not None:
        for index in silent_rows:
            row = rows[index]
            rows[index] = CandidateScore(
                row.slug,
                row.score * odds.multiplier,
                0.0,
                row.cost,
                (*row.reasons, odds.reason),
                None,
                row.disposition_id,
            )
    return ScoredTurn(
        scores=tuple(rows),
        gates=turn_gates(reading),
        candidates=by_slug,
        budget_pressure=reading.budget_pressure,
        addressed=moment.addressed,
    )


def _probabilities(scored: ScoredTurn, temperature: float) -> tuple[CandidateScore, ...]:
    live = [row.score for row in scored.scores if row.score > 0]
    if not live:
        return scored.scores
    # score ** (1/T), computed relative to the top score in log space so a cold temperature cannot overflow.
    top = math.log(max(live))
    weights = [math.exp((math.log(row.score) - top) / temperature) if row.score > 0 else 0.0 for row in scored.scores]
    total = sum(weights)
    return tuple(
        CandidateScore(row.slug, row.score, w / total, row.cost, row.reasons, row.eliminated_by, row.disposition_id)
        for row, w in zip(scored.scores, weights, strict=True)
    )


def tiebreak_options(scored: ScoredTurn, config: RouterConfig) -> tuple[str, ...]:
    """The tight top cluster a classifier should break, or () when none is needed."""
    if not config.tiebreak_enabled:
        return ()
    cluster = scored.tight_cluster(config.tiebreak_margin)
    return cluster if len(cluster) > 1 else ()


def build_tiebreak_prompt(moment: Moment, scored: ScoredTurn, options: Iterable[str]) -> str:
    """A short classification prompt: the moment, then one line per option."""
    lines = [
        "Pick how a group-chat participant should handle this turn.",
        f"Trigger: {moment.trigger}.",
    ]
    if moment.message_text:
        lines.append(f"Latest message: {moment.message_text[:500]}")
    if moment.question_detected or moment.unanswered_questions:
        lines.append(f"Open questions: {moment.unanswered_questions + int(moment.question_detected)}.")
    if moment.heated_disagreement:
        lines.append("The room is in a heated disagreement.")
    lines.append("Options:")
    for slug in options:
        spec = scored.candidates[slug]
        lines.append(
            f"- {slug}: {spec.reasoning_depth} reasoning, {spec.voice} voice, {spec.output_shape}, "
            f"{spec.context_strategy} context, {spec.risk_appetite}"
        )
    lines.append("Answer with exactly one option name.")
    return "\n".join(lines)


def finish_routing(
    scored: ScoredTurn,
    config: RouterConfig,
    *,
    seed: int,
    tiebreak_answer: str | None = None,
    tiebreak_consulted: bool = False,
) -> RoutingResult:
    """Sample (or apply a consulted tie-break's answer), then roll for an off-axis context strategy."""
    rng = random.Random(seed)  # noqa: S311 -- chance for variety, not secrecy: it must replay from the seed
    # Draws happen in a fixed order whatever the branch, so replays consume the same stream.
    draw = rng.random()
    offaxis_draw = rng.random()
    scores = _probabilities(scored, config.temperature)

    tiebreak: TieBreak | None = None
    options = tiebreak_options(scored, config) if tiebreak_consulted else ()
    chosen_slug: str | None = None
    if options:
        applied = tiebreak_answer in options
        tiebreak = TieBreak(options=options, answer=tiebreak_answer, applied=applied)
        if applied:
            chosen_slug = tiebreak_answer
    if chosen_slug is None:
        cumulative = 0.0
        for row in scores:
            if row.probability <= 0:
                continue
            cumulative += row.probability
            chosen_slug = row.slug
            if draw < cumulative:
                break

    if chosen_slug is None:
        chosen, fallback = SILENT_FALLBACK, True
    else:
        chosen, fallback = scored.candidates[chosen_slug], False

    strategy, off_axis = chosen.context_strategy, False
    if not chosen.is_silent and offaxis_draw < config.off_axis_rate:
        excluded = {chosen.context_strategy, ContextStrategy.NONE}
        if scored.budget_pressure:
            excluded.add(ContextStrategy.FULL_RICH)
        pool = LIVE_WINDOW_STRATEGIES if scored.addressed else ContextStrategy.values
        alternatives = [value for value in pool if value not in excluded]
        strategy, off_axis = alternatives[rng.randrange(len(alternatives))], True

    return RoutingResult(
        chosen=chosen,
        scores=scores,
        gates=scored.gates,
        seed=seed,
        temperature=config.temperature,
        context_strategy=strategy,
        off_axis=off_axis,
        tiebreak=tiebreak,
        fallback=fallback,
    )


def route_turn(
    moment: Moment,
    persona: PersonaSpec,
    candidates: Iterable[DispositionSpec],
    config: RouterConfig,
    *,
    seed: int,
    tiebreak_answer: str | None = None,
    tiebreak_consulted: bool = False,
) -> RoutingResult:
    """Choose a disposition without calling anything; a logged tie-break answer replays a tie-broken decision."""
    scored = score_candidates(moment, persona, candidates, config)
    return finish_routing(
        scored, config, seed=seed, tiebreak_answer=tiebreak_answer, tiebreak_consulted=tiebreak_consulted
    )


async def aroute_turn(
    moment: Moment,
    persona: PersonaSpec,
    candidates: Iterable[DispositionSpec],
    config: RouterConfig,
    *,
    seed: int,
    tiebreaker: TieBreaker | None = None,
) -> RoutingResult:
    """Choose a disposition, asking `tiebreaker` when the top scores are within the configured margin."""
    scored = score_candidates(moment, persona, candidates, config)
    answer: str | None = None
    options = tiebreak_options(scored, config)
    consulted = bool(options) and tiebreaker is not None
    if consulted and tiebreaker is not None:
        answer = await tiebreaker(build_tiebreak_prompt(moment, scored, options), list(options))
    return finish_routing(scored, config, seed=seed, tiebreak_answer=answer, tiebreak_consulted=consulted)
