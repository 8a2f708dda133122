"""The disposition router: hard gates, heuristic signals, persona and budget pressure, seeded sampling.

Plain Python on frozen dataclasses: no database, no Django settings, no network at call time. The
only source of chance is `random.Random(seed)`, so a decision replays exactly from its logged inputs,
seed and (when the optional classifier tie-break ran) its logged answer.

A score is a product of multipliers starting at 1.0; each multiplier that is not 1.0 leaves a reason
behind. Probabilities are `score ** (1 / temperature)`, normalised: a low temperature sharpens towards
the top score, a high one flattens towards uniform.
"""

from __future__ import annotations

import math
import random
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, Self

from dispositions.choices import (
    AddressKind,
    ContextStrategy,
    FollowupBias,
    OutputShape,
    ReasoningDepth,
    ResearchPersona,
    RiskAppetite,
    SearchPosture,
    TriggerKind,
    Voice,
)

TieBreaker = Callable[[str, list[str]], Awaitable[str | None]]
"""An async classifier asked to pick one of `options` for `prompt`; None when it has no answer."""

SILENT_LISTEN = "silent-listen"

_TRIGGERS = frozenset(TriggerKind.values)
_ADDRESS_KINDS = frozenset(AddressKind.values)
_BIASES = frozenset(FollowupBias.values)
# Being named, mentioned or replied to is a direct address; a message in the bot's thread is not.
_DIRECT_ADDRESS = frozenset({AddressKind.MENTION, AddressKind.REPLY, AddressKind.NAME})
_UNPROMPTED = frozenset({TriggerKind.SPECULATIVE, TriggerKind.SELF_FOLLOWUP})
_ANSWERING_SHAPES = frozenset({OutputShape.SINGLE_LINE, OutputShape.MULTI_LINE, OutputShape.BURST})
_LONG_SHAPES = frozenset({OutputShape.MULTI_LINE, OutputShape.BURST})

# Relative cost units: one low-tier single-line synthesizer call is 1.0.
_DEPTH_COST: dict[str, float] = {ReasoningDepth.LOW: 1.0, ReasoningDepth.MEDIUM: 3.0, ReasoningDepth.HIGH: 8.0}
_SHAPE_COST: dict[str, float] = {
    OutputShape.SILENT: 0.0,
    OutputShape.REACT_ONLY: 0.5,
    OutputShape.SINGLE_LINE: 1.0,
    OutputShape.MULTI_LINE: 1.5,
    OutputShape.BURST: 2.0,
}
_SUBAGENT_COST = 1.5
_STRATEGY_COST: dict[str, float] = {
    ContextStrategy.FULL_RICH: 3.0,
    ContextStrategy.ARCHIVE_TOPIC_DEEP: 1.0,
    ContextStrategy.ARCHIVE_PERSON_DEEP: 1.0,
}

# Affinities (0..1.5) of dimension values to each heuristic signal. They are summed per candidate and
# capped, so a disposition whose voice, strategy and posture all fit the moment gains the most.
_QUESTION_VOICE: dict[str, float] = {Voice.FACT_DROP: 1.0, Voice.DEADPAN: 0.8, Voice.SINCERE: 0.4}
_QUESTION_STRATEGY: dict[str, float] = {
    ContextStrategy.UNANSWERED: 0.6,
    ContextStrategy.LIVE_LORE: 0.5,
    ContextStrategy.ARCHIVE_TOPIC_DEEP: 0.5,
    ContextStrategy.LIVE_LORE_DOSSIERS: 0.4,
    ContextStrategy.FULL_RICH: 0.3,
}
_CALLBACK_STRATEGY: dict[str, float] = {ContextStrategy.CALLBACK_PRIMED: 1.0}
_CALLBACK_POSTURE: dict[str, float] = {SearchPosture.CALLBACK_HUNT: 0.6, SearchPosture.SETUP_PAYOFF: 0.4}
_CALLBACK_VOICE: dict[str, float] = {Voice.NOSTALGIC: 0.3}
_LULL_VOICE: dict[str, float] = {Voice.OBSERVATIONAL: 1.0, Voice.NOSTALGIC: 0.5, Voice.FACT_DROP: 0.3}
_LULL_STRATEGY: dict[str, float] = {
    ContextStrategy.SERENDIPITY: 0.5,
    ContextStrategy.BOT_HISTORY: 0.5,
    ContextStrategy.TIME_SHIFTED: 0.5,
    ContextStrategy.EPOCHS_ONLY: 0.5,
    ContextStrategy.CALLBACK_PRIMED: 0.3,
}
_HEAT_STRATEGY: dict[str, float] = {ContextStrategy.CONTRASTING: 1.0}
_HEAT_POSTURE: dict[str, float] = {SearchPosture.CONTRADICTION_HUNT: 0.5}
_HEAT_VOICE: dict[str, float] = {Voice.SINCERE: 0.5}
_AFFINITY_CAP = 1.5

# Self-followup bias: (dimension, value, multiplier). A follow-up earns its place against the moment
# like any turn, so these tilt the field rather than pick the disposition.
_BIAS_RULES: dict[str, tuple[tuple[str, str, float], ...]] = {
    FollowupBias.GO_DEEPER: (
        ("reasoning_depth", ReasoningDepth.HIGH, 3.0),
        ("reasoning_depth", ReasoningDepth.MEDIUM, 1.5),
        ("reasoning_depth", ReasoningDepth.LOW, 0.4),
        ("context_strategy", ContextStrategy.FULL_RICH, 1.5),
        ("context_strategy", ContextStrategy.ARCHIVE_TOPIC_DEEP, 1.5),
    ),
    FollowupBias.SELF_CORRECT: (
        ("voice", Voice.DEADPAN, 3.0),
        ("reasoning_depth", ReasoningDepth.LOW, 2.0),
        ("reasoning_depth", ReasoningDepth.HIGH, 0.5),
    ),
    FollowupBias.CONTRARIAN_SELF: (
        ("voice", Voice.CONTRARIAN, 4.0),
        ("voice", Voice.SHARP, 1.5),
    ),
    FollowupBias.ADD_NUANCE: (
        ("voice", Voice.SINCERE, 2.0),
        ("voice", Voice.OBSERVATIONAL, 2.0),
        ("output_shape", OutputShape.MULTI_LINE, 1.5),
        ("output_shape", OutputShape.BURST, 1.5),
    ),
    FollowupBias.CALLBACK_LATER: (
        ("context_strategy", ContextStrategy.CALLBACK_PRIMED, 3.0),
        ("search_posture", SearchPosture.CALLBACK_HUNT, 2.0),
    ),
}


def _check_unit(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be between 0 and 1, got {value!r}")


def _check_choice(name: str, value: str, allowed: Iterable[str]) -> None:
    allowed = frozenset(allowed)
    if value not in allowed:
        raise ValueError(f"{name} must be one of {sorted(allowed)}, got {value!r}")


def _strict_kwargs(cls: type, data: Mapping[str, Any]) -> dict[str, Any]:
    """Keep the keys `cls` declares; unknown keys are an error naming them."""
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ValueError(f"unknown {cls.__name__} fields: {', '.join(unknown)}")
    return dict(data)


def _field_values(value: Any) -> dict[str, Any]:
    """Every field of a flat dataclass by name."""
    return {f.name: getattr(value, f.name) for f in fields(value)}


@dataclass(frozen=True, slots=True)
class FollowupHint:
    """Whether and how the reactor should consider a self-followup after the turn."""

    probability: float
    bias: str
    window_min_seconds: int
    window_max_seconds: int

    def __post_init__(self) -> None:
        _check_unit("followup probability", self.probability)
        _check_choice("followup bias", self.bias, _BIASES)
        if not 0 <= self.window_min_seconds <= self.window_max_seconds:
            window = f"{self.window_min_seconds}..{self.window_max_seconds}"
            raise ValueError(f"followup window must satisfy 0 <= min <= max, got {window}")

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return _field_values(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Rebuild from `as_dict` output."""
        return cls(**_strict_kwargs(cls, data))


@dataclass(frozen=True, slots=True)
class DispositionSpec:
    """A point in the behaviour space, as the router sees it."""

    slug: str
    reasoning_depth: str
    context_strategy: str
    voice: str
    output_shape: str
    search_posture: str
    risk_appetite: str
    fanout_plan: tuple[str, ...] = ()
    followup_hint: FollowupHint | None = None
    speculative_only: bool = False
    name: str = ""
    id: int | None = None

    def __post_init__(self) -> None:
        _check_choice("reasoning_depth", self.reasoning_depth, ReasoningDepth.values)
        _check_choice("context_strategy", self.context_strategy, ContextStrategy.values)
        _check_choice("voice", self.voice, Voice.values)
        _check_choice("output_shape", self.output_shape, OutputShape.values)
        _check_choice("search_posture", self.search_posture, SearchPosture.values)
        _check_choice("risk_appetite", self.risk_appetite, RiskAppetite.values)
        for persona in self.fanout_plan:
            _check_choice("fanout_plan item", persona, ResearchPersona.values)

    @property
    def is_silent(self) -> bool:
        """True when the disposition produces no output at all."""
        return self.output_shape == OutputShape.SILENT

    def dimensions(self) -> dict[str, Any]:
        """The seven dimensions, JSON-ready."""
        return {
            "reasoning_depth": self.reasoning_depth,
            "context_strategy": self.context_strategy,
            "voice": self.voice,
            "output_shape": self.output_shape,
            "search_posture": self.search_posture,
            "risk_appetite": self.risk_appetite,
            "followup_hint": self.followup_hint.as_dict() if self.followup_hint else None,
        }

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        data = self.dimensions()
        data.update(
            slug=self.slug,
            name=self.name,
            id=self.id,
            fanout_plan=list(self.fanout_plan),
            speculative_only=self.speculative_only,
        )
        return data

    @classmethod
    def from_row(cls, row: Mapping[str, Any], *, id: int | None) -> Self:
        """Build from a disposition row's values, keyed as the model names its fields."""
        hint = None
        if row["followup_bias"]:
            hint = FollowupHint(
                probability=row["followup_probability"],
                bias=row["followup_bias"],
                window_min_seconds=row["followup_window_min_seconds"] or 0,
                window_max_seconds=row["followup_window_max_seconds"] or 0,
            )
        return cls(
            slug=row["slug"],
            name=row["name"],
            id=id,
            reasoning_depth=row["reasoning_depth"],
            context_strategy=row["context_strategy"],
            voice=row["voice"],
            output_shape=row["output_shape"],
            search_posture=row["search_posture"],
            risk_appetite=row["risk_appetite"],
            fanout_plan=tuple(row["fanout_plan"]),
            followup_hint=hint,
            speculative_only=row["speculative_only"],
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Rebuild from `as_dict` output."""
        kwargs = _strict_kwargs(cls, data)
        hint = kwargs.get("followup_hint")
        kwargs["followup_hint"] = FollowupHint.from_dict(hint) if hint else None
        kwargs["fanout_plan"] = tuple(kwargs.get("fanout_plan", ()))
        return cls(**kwargs)


# Chosen when every candidate is gated out: the conscious decision not to speak needs no row.
SILENT_FALLBACK = DispositionSpec(
    slug=SILENT_LISTEN,
    name="silent-listen (built-in fallback)",
    reasoning_depth=ReasoningDepth.LOW,
    context_strategy=ContextStrategy.NONE,
    voice=Voice.INDIFFERENT,
    output_shape=OutputShape.SILENT,
    search_posture=SearchPosture.NONE,
    risk_appetite=RiskAppetite.SAFE,
)


@dataclass(frozen=True, slots=True)
class PersonaSpec:
    """The persona as a constraint surface: eligible voices and per-disposition weights."""

    name: str
    eligible_voices: frozenset[str] = frozenset(Voice.values)
    weights: Mapping[str, float] = field(default_factory=dict, hash=False)
    wake_words: tuple[str, ...] = ()
    banned_phrases: tuple[str, ...] = ()
    never_do: tuple[str, ...] = ()
    soul_text: str = ""
    id: int | None = None

    def weight(self, slug: str) -> float:
        """The persona's weight for a disposition; 1.0 when none is set."""
        return self.weights.get(slug, 1.0)

    def with_weights(self, weights: Mapping[str, float]) -> PersonaSpec:
        """A copy whose weights are overridden by `weights` (others kept)."""
        merged = dict(self.weights)
        for slug, value in weights.items():
            if value < 0:
                raise ValueError(f"weight for {slug} must be >= 0, got {value!r}")
            merged[slug] = float(value)
        return replace(self, weights=merged)

    def as_dict(self) -> dict[str, Any]:
        """The routing-relevant part, JSON-ready (soul text and phrase lists stay on the persona row)."""
        return {
            "id": self.id,
            "name": self.name,
            "eligible_voices": sorted(self.eligible_voices),
            "weights": dict(self.weights),
            "wake_words": list(self.wake_words),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Rebuild from `as_dict` output."""
        kwargs = _strict_kwargs(cls, data)
        if "eligible_voices" in kwargs:
            kwargs["eligible_voices"] = frozenset(kwargs["eligible_voices"])
        for name in ("wake_words", "banned_phrases", "never_do"):
            if name in kwargs:
                kwargs[name] = tuple(kwargs[name])
        if "weights" in kwargs:
            kwargs["weights"] = {str(k): float(v) for k, v in kwargs["weights"].items()}
        return cls(**kwargs)


@dataclass(frozen=True, slots=True)
class TurnContext:
    """Everything the router knows about the moment."""

    trigger: str = TriggerKind.REACTIVE
    message_text: str | None = None
    addressed: bool = False
    address_kind: str = AddressKind.NONE
    said_to_someone_else: bool = False
    question_detected: bool = False
    unanswered_questions: int = 0
    activity_per_minute: float = 0.0
    lull_seconds: float = 0.0
    present_users: tuple[str, ...] = ()
    seconds_since_bot_spoke: float | None = None
    callback_material: float = 0.0
    heated_disagreement: bool = False
    sender_threat_score: float = 0.0
    sender_is_bot: bool = False
    bot_chain_allowed: bool = False
    budget_remaining: float = 1.0
    asleep: bool = False
    unprompted_muted: bool = False
    is_dm: bool = False
    followup_bias: str | None = None
    suggested_disposition: str | None = None

    def __post_init__(self) -> None:
        _check_choice("trigger", self.trigger, _TRIGGERS)
        _check_choice("address_kind", self.address_kind, _ADDRESS_KINDS)
        if self.followup_bias is not None:
            _check_choice("followup_bias", self.followup_bias, _BIASES)
        for name in ("activity_per_minute", "lull_seconds", "budget_remaining", "seconds_since_bot_spoke"):
            value = getattr(self, name)
            # Logged as JSON for replay: infinities and NaN would not survive the trip (nor sampling).
            if value is not None and not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {value!r}")
        _check_unit("callback_material", self.callback_material)
        _check_unit("sender_threat_score", self.sender_threat_score)
        if self.budget_remaining < 0:
            raise ValueError(f"budget_remaining must be >= 0, got {self.budget_remaining!r}")
        if self.unanswered_questions < 0:
            raise ValueError(f"unanswered_questions must be >= 0, got {self.unanswered_questions!r}")

    @property
    def directly_addressed(self) -> bool:
        """Mentioned, replied to, called by name, or written to in a DM."""
        return self.is_dm or (self.addressed and self.address_kind in _DIRECT_ADDRESS)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        data = _field_values(self)
        data["present_users"] = list(self.present_users)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Rebuild from `as_dict` output."""
        kwargs = _strict_kwargs(cls, data)
        if "present_users" in kwargs:
            kwargs["present_users"] = tuple(kwargs["present_users"])
        return cls(**kwargs)


@dataclass(frozen=True, slots=True)
class RouterConfig:
    """The router's knobs; the host builds it from the bot's settings."""

    temperature: float = 1.0
    threat_threshold: float = 0.7
    budget_low: float = 0.3
    budget_exhausted: float = 0.02
    cheap_cost_ceiling: float = 2.0
    budget_cost_scale: float = 4.0
    tiebreak_enabled: bool = False
    tiebreak_margin: float = 0.1
    off_axis_rate: float = 0.05
    lull_threshold_seconds: float = 900.0
    bot_cooldown_seconds: float = 45.0
    busy_messages_per_minute: float = 8.0
    lurk_odds: float = 4.0
    speculative_listen_odds: float = 1.0
    followup_listen_odds: float = 0.5
    question_boost: float = 1.5
    callback_boost: float = 3.0
    lull_boost: float = 2.0
    heat_boost: float = 2.5
    suggestion_boost: float = 2.0

    def __post_init__(self) -> None:
        if self.temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {self.temperature!r}")
        for name in ("threat_threshold", "budget_low", "budget_exhausted", "tiebreak_margin", "off_axis_rate"):
            _check_unit(name, getattr(self, name))
        if self.budget_exhausted > self.budget_low:
            raise ValueError("budget_exhausted must not exceed budget_low")
        for name in ("cheap_cost_ceiling", "budget_cost_scale", "lull_threshold_seconds", "busy_messages_per_minute"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return _field_values(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Build from a mapping (a bot's settings or a logged decision); unknown keys are an error."""
        return cls(**_strict_kwargs(cls, data))


@dataclass(frozen=True, slots=True)
class CandidateScore:
    """One candidate's final score, probability and the reasons behind them."""

    slug: str
    score: float
    probability: float
    cost: float
    reasons: tuple[str, ...]
    eliminated_by: str | None = None
    disposition_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "slug": self.slug,
            "disposition_id": self.disposition_id,
            "score": self.score,
            "probability": self.probability,
            "cost": self.cost,
            "reasons": list(self.reasons),
            "eliminated_by": self.eliminated_by,
        }


@dataclass(frozen=True, slots=True)
class TieBreak:
    """A classifier tie-break: the tight cluster it was asked about and what it answered."""

    options: tuple[str, ...]
    answer: str | None
    applied: bool


@dataclass(frozen=True, slots=True)
class ScoredTurn:
    """The deterministic half of routing: gates and scores before any chance is involved."""

    scores: tuple[CandidateScore, ...]
    gates: tuple[str, ...]
    candidates: Mapping[str, DispositionSpec] = field(hash=False)
    budget_pressure: bool = False

    def tight_cluster(self, margin: float) -> tuple[str, ...]:
        """Slugs scoring within `margin` (relative) of the top score; one slug means no tie."""
        live = sorted((s for s in self.scores if s.score > 0), key=lambda s: s.score, reverse=True)
        if not live:
            return ()
        floor = live[0].score * (1.0 - margin)
        return tuple(s.slug for s in live if s.score >= floor)


@dataclass(frozen=True, slots=True)
class RoutingResult:
    """What the router chose, how, and with which context strategy."""

    chosen: DispositionSpec
    scores: tuple[CandidateScore, ...]
    gates: tuple[str, ...]
    seed: int
    temperature: float
    context_strategy: str
    off_axis: bool
    tiebreak: TieBreak | None = None
    fallback: bool = False

    @property
    def tiebreak_ran(self) -> bool:
        """True when the classifier was consulted for this decision."""
        return self.tiebreak is not None

    def score_for(self, slug: str) -> CandidateScore:
        """The score row of one candidate."""
        for row in self.scores:
            if row.slug == slug:
                return row
        raise KeyError(slug)


def estimate_cost(spec: DispositionSpec) -> float:
    """Relative cost of running a disposition (a low-tier single-line call is 1.0; silent is 0)."""
    if spec.output_shape == OutputShape.SILENT:
        return 0.0
    return (
        _DEPTH_COST[spec.reasoning_depth] * _SHAPE_COST[spec.output_shape]
        + _SUBAGENT_COST * len(spec.fanout_plan)
        + _STRATEGY_COST.get(spec.context_strategy, 0.0)
    )


def _affinity(spec: DispositionSpec, *tables: tuple[Mapping[str, float], str]) -> float:
    total = 0.0
    for table, dimension in tables:
        total += table.get(getattr(spec, dimension), 0.0)
    return min(total, _AFFINITY_CAP)


def _forced_silence(context: TurnContext, config: RouterConfig) -> str | None:
    """The gate that forces silent-listen, if any (first match wins, strongest first)."""
    if context.asleep:
        return "asleep: only silent-listen"
    if context.sender_threat_score >= config.threat_threshold:
        return f"sender threat {context.sender_threat_score:.2f} >= {config.threat_threshold:.2f}: not engaged"
    if context.sender_is_bot and not context.bot_chain_allowed and context.trigger == TriggerKind.REACTIVE:
        return "bot-authored message and bot chains not allowed: no reply chain"
    if context.unprompted_muted and context.trigger in _UNPROMPTED:
        return "unprompted turns muted in this channel"
    if context.said_to_someone_else and not context.addressed and context.trigger == TriggerKind.REACTIVE:
        # A mention of or a reply to another person is their conversation: the bot listens, not butts in.
        return "said to someone else: not the bot's turn"
    return None


def score_candidates(
    context: TurnContext,
    persona: PersonaSpec,
    candidates: Iterable[DispositionSpec],
    config: RouterConfig,
) -> ScoredTurn:
    """Apply gates, signals and pressures to every candidate; deterministic, no chance involved."""
    gates: list[str] = []
    forced = _forced_silence(context, config)
    if forced:
        gates.append(forced)
    directly_addressed = context.directly_addressed
    trigger = context.trigger
    no_silence = forced is None and directly_addressed
    if no_silence:
        gates.append(f"addressed ({'dm' if context.is_dm else context.address_kind}): silent removed")
    speculative = trigger == TriggerKind.SPECULATIVE
    budget = context.budget_remaining
    exhausted = budget <= config.budget_exhausted
    low_budget = not exhausted and budget < config.budget_low
    if exhausted:
        gates.append(f"budget exhausted ({budget:.0%} left): only cheap or silent")

    # Signals that depend only on the moment are computed once, not per candidate.
    question = (1.0 if context.question_detected else 0.0) + min(context.unanswered_questions, 3)
    callback = context.callback_material
    lull_strength = 0.0
    busy_unprompted = False
    if speculative:
        if context.lull_seconds >= config.lull_threshold_seconds:
            lull_strength = min(2.0, context.lull_seconds / config.lull_threshold_seconds)
        else:
            busy_unprompted = True
    busy = context.activity_per_minute >= config.busy_messages_per_minute and not directly_addressed
    bot_just_spoke = (
        context.seconds_since_bot_spoke is not None
        and context.seconds_since_bot_spoke < config.bot_cooldown_seconds
        and not directly_addressed
    )
    lurking = trigger == TriggerKind.REACTIVE and not context.addressed and not context.is_dm
    bias_rules = _BIAS_RULES.get(context.followup_bias or "", ()) if trigger == TriggerKind.SELF_FOLLOWUP else ()
    budget_ratio = budget / config.budget_low if low_budget else 1.0

    by_slug: dict[str, DispositionSpec] = {}
    rows: list[CandidateScore] = []
    silent_rows: list[int] = []
    speaking_weight = 0.0
    for spec in candidates:
        by_slug[spec.slug] = spec
        cost = estimate_cost(spec)
        silent = spec.output_shape == OutputShape.SILENT
        eliminated: str | None = None
        if forced and not silent:
            eliminated = forced
        elif no_silence and silent:
            eliminated = "addressed: silence not allowed"
        elif spec.speculative_only and not speculative:
            eliminated = f"speculative-only on a {trigger} trigger"
        elif not silent and spec.voice not in persona.eligible_voices:
            eliminated = f"persona: voice {spec.voice} not eligible"
        elif exhausted and cost > config.cheap_cost_ceiling:
            eliminated = f"budget exhausted: cost {cost:.1f} above cheap ceiling {config.cheap_cost_ceiling:.1f}"
        weight = persona.weight(spec.slug)
        if eliminated is None and weight <= 0:
            eliminated = "persona weight 0"
        if eliminated is not None:
            rows.append(CandidateScore(spec.slug, 0.0, 0.0, cost, (), eliminated, spec.id))
            continue

        score = weight
        reasons: list[str] = [f"persona weight x{weight:.2f}"]
        if silent:
            silent_rows.append(len(rows))
            if busy_unprompted:
                score *= 2.0
                reasons.append("unprompted while the channel is busy x2.00")
            if question:
                # Squared: one open question may be for someone else; one asked again is for anyone.
                factor = 1.0 / (1.0 + question) ** 2
                score *= factor
                reasons.append(f"open question wants an answer x{factor:.3f}")
            if context.address_kind == AddressKind.THREAD:
                score *= 0.5
                reasons.append("in the bot's thread x0.50")
        else:
            speaking_weight += weight
            if directly_addressed and spec.output_shape == OutputShape.REACT_ONLY:
                score *= 0.5
                reasons.append("addressed: a reaction alone under-answers x0.50")
            if bot_just_spoke:
                score *= 0.5
                reasons.append(f"bot spoke {context.seconds_since_bot_spoke:.0f}s ago x0.50")
            if busy:
                if spec.output_shape == OutputShape.REACT_ONLY:
                    score *= 1.5
                    reasons.append("busy channel favours reactions x1.50")
                elif spec.output_shape in _LONG_SHAPES:
                    score *= 0.5
                    reasons.append("busy channel: long output x0.50")
            if question and spec.output_shape in _ANSWERING_SHAPES:
                aff = _affinity(spec, (_QUESTION_VOICE, "voice"), (_QUESTION_STRATEGY, "context_strategy"))
                if aff:
                    factor = 1.0 + config.question_boost * question * aff
                    score *= factor
                    label = "repeated unanswered question" if context.unanswered_questions else "open question"
                    reasons.append(f"{label} x{factor:.2f}")
            if callback:
                aff = _affinity(
                    spec,
                    (_CALLBACK_STRATEGY, "context_strategy"),
                    (_CALLBACK_POSTURE, "search_posture"),
                    (_CALLBACK_VOICE, "voice"),
                )
                if aff:
                    factor = 1.0 + config.callback_boost * callback * aff
                    score *= factor
                    reasons.append(f"callback material {callback:.2f} x{factor:.2f}")
            if speculative:
                if lull_strength:
                    aff = _affinity(spec, (_LULL_VOICE, "voice"), (_LULL_STRATEGY, "context_strategy"))
                    if spec.speculative_only:
                        aff = min(_AFFINITY_CAP, aff + 0.5)
                    if aff:
                        factor = 1.0 + config.lull_boost * lull_strength * aff
                        score *= factor
                        reasons.append(f"lull {context.lull_seconds:.0f}s x{factor:.2f}")
                if spec.output_shape == OutputShape.REACT_ONLY or spec.search_posture == SearchPosture.PERSON_DEEP:
                    score *= 0.3
                    reasons.append("nothing new to react to x0.30")
            if context.heated_disagreement:
                aff = _affinity(
                    spec,
                    (_HEAT_STRATEGY, "context_strategy"),
                    (_HEAT_POSTURE, "search_posture"),
                    (_HEAT_VOICE, "voice"),
                )
                if aff:
                    factor = 1.0 + config.heat_boost * aff
                    score *= factor
                    reasons.append(f"heated disagreement x{factor:.2f}")
                if spec.risk_appetite == RiskAppetite.SPICY:
                    score *= 0.5
                    reasons.append("heated: spicy cooled x0.50")
            if low_budget and cost > config.cheap_cost_ceiling:
                factor = budget_ratio ** (cost / config.budget_cost_scale)
                score *= factor
                reasons.append(f"budget {budget:.0%} left: cost {cost:.1f} clamped x{factor:.3f}")
        for dimension, value, factor in bias_rules:
            if getattr(spec, dimension) == value:
                score *= factor
                reasons.append(f"follow-up {context.followup_bias}: {value} x{factor:.2f}")
        if context.suggested_disposition == spec.slug:
            score *= config.suggestion_boost
            reasons.append(f"suggested by the orchestrator x{config.suggestion_boost:.2f}")
        rows.append(CandidateScore(spec.slug, score, 0.0, cost, tuple(reasons), None, spec.id))

    odds, label = 0.0, ""
    if lurking:
        odds, label = config.lurk_odds, "not addressed"
    elif trigger == TriggerKind.SPECULATIVE:
        odds, label = config.speculative_listen_odds, "unprompted"
    elif trigger == TriggerKind.SELF_FOLLOWUP:
        odds, label = config.followup_listen_odds, "self-followup"
    if odds and silent_rows and speaking_weight > 0:
        # Listening holds `odds` to one against all speaking candidates together (by persona weight,
        # before signals), so adding dispositions does not make the bot chattier; signals still tilt it.
        factor = odds * speaking_weight / len(silent_rows)
        reason = f"{label}: listening holds {odds:g}:1 odds x{factor:.2f}"
        for index in silent_rows:
            row = rows[index]
            rows[index] = CandidateScore(
                row.slug, row.score * factor, 0.0, row.cost, (*row.reasons, reason), None, row.disposition_id
            )

    return ScoredTurn(
        scores=tuple(rows), gates=tuple(gates), candidates=by_slug, budget_pressure=exhausted or low_budget
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


def build_tiebreak_prompt(context: TurnContext, scored: ScoredTurn, options: Iterable[str]) -> str:
    """A short classification prompt: the moment, then one line per option."""
    lines = [
        "Pick how a group-chat participant should handle this turn.",
        f"Trigger: {context.trigger}.",
    ]
    if context.message_text:
        lines.append(f"Latest message: {context.message_text[:500]}")
    if context.question_detected or context.unanswered_questions:
        lines.append(f"Open questions: {context.unanswered_questions + int(context.question_detected)}.")
    if context.heated_disagreement:
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
        alternatives = [value for value in ContextStrategy.values if value not in excluded]
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
    context: TurnContext,
    persona: PersonaSpec,
    candidates: Iterable[DispositionSpec],
    config: RouterConfig,
    *,
    seed: int,
    tiebreak_answer: str | None = None,
    tiebreak_consulted: bool = False,
) -> RoutingResult:
    """Choose a disposition without calling anything; a logged tie-break answer replays a tie-broken decision."""
    scored = score_candidates(context, persona, candidates, config)
    return finish_routing(
        scored, config, seed=seed, tiebreak_answer=tiebreak_answer, tiebreak_consulted=tiebreak_consulted
    )


async def aroute_turn(
    context: TurnContext,
    persona: PersonaSpec,
    candidates: Iterable[DispositionSpec],
    config: RouterConfig,
    *,
    seed: int,
    tiebreaker: TieBreaker | None = None,
) -> RoutingResult:
    """Choose a disposition, asking `tiebreaker` when the top scores are within the configured margin."""
    scored = score_candidates(context, persona, candidates, config)
    answer: str | None = None
    options = tiebreak_options(scored, config)
    consulted = bool(options) and tiebreaker is not None
    if consulted and tiebreaker is not None:
        answer = await tiebreaker(build_tiebreak_prompt(context, scored, options), list(options))
    return finish_routing(scored, config, seed=seed, tiebreak_answer=answer, tiebreak_consulted=consulted)


@dataclass(frozen=True, slots=True)
class RouterInputs:
    """Everything `route_turn` is given, in one value that round-trips through JSON for replay."""

    context: TurnContext
    persona: PersonaSpec
    candidates: tuple[DispositionSpec, ...]
    config: RouterConfig

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, as logged on a decision."""
        return {
            "context": self.context.as_dict(),
            "persona": self.persona.as_dict(),
            "candidates": [spec.as_dict() for spec in self.candidates],
            "config": self.config.as_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Rebuild from `as_dict` output."""
        missing = sorted({"context", "persona", "candidates", "config"} - set(data))
        if missing:
            raise ValueError(f"router inputs lack {', '.join(missing)}")
        return cls(
            context=TurnContext.from_dict(data["context"]),
            persona=PersonaSpec.from_dict(data["persona"]),
            candidates=tuple(DispositionSpec.from_dict(item) for item in data["candidates"]),
            config=RouterConfig.from_dict(data["config"]),
        )
