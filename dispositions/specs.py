"""The router's values: dispositions, personas and the moment as the router sees them, its knobs and results.

Frozen dataclasses that round-trip through JSON, so a logged decision replays from its stored inputs. The
algorithm that scores and samples them is in `dispositions.factors` and `dispositions.router`.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, Self

from dispositions.choices import (
    AddressKind,
    ContextStrategy,
    FollowupBias,
    OutputShape,
    QuestionKind,
    ReasoningDepth,
    Register,
    ResearchPersona,
    RiskAppetite,
    SearchPosture,
    TriggerKind,
    Voice,
)

__all__ = [
    "SILENT_FALLBACK",
    "SILENT_LISTEN",
    "CandidateScore",
    "DispositionSpec",
    "FollowupHint",
    "Moment",
    "PersonaSpec",
    "RouterConfig",
    "RouterInputs",
    "RoutingResult",
    "ScoredTurn",
    "TieBreak",
    "TieBreaker",
]

TieBreaker = Callable[[str, list[str]], Awaitable[str | None]]
"""An async classifier asked to pick one of `options` for `prompt`; None when it has no answer."""

SILENT_LISTEN = "silent-listen"

_TRIGGERS = frozenset(TriggerKind.values)
_ADDRESS_KINDS = frozenset(AddressKind.values)
_BIASES = frozenset(FollowupBias.values)
_REGISTERS = frozenset(Register.values)
_QUESTION_KINDS = frozenset(QuestionKind.values)
# Being named, mentioned or replied to is a direct address; a message in the bot's thread is not.
_DIRECT_ADDRESS = frozenset({AddressKind.MENTION, AddressKind.REPLY, AddressKind.NAME})


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
class Moment:
    """Everything the router knows about the moment.

    Every field has a default, so decisions logged before a field existed still rebuild (and replay under the
    rules of today). The host fills them from one read of the channel; see docs/dispositions.md for each.
    """

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
    # What the message is (reactive turns).
    question_kind: str = QuestionKind.NONE
    announcement: bool = False
    celebration: bool = False
    register: str = Register.NEUTRAL
    already_answered: bool = False
    # Who sent it: how many of their messages the bot had seen in this guild before, and since when (None: never).
    sender_messages_seen: int = 0
    sender_first_seen_seconds: float | None = None
    # The channel's conversation: the current exchange among people, and when the bot was last addressed there.
    exchange_messages: int = 0
    exchange_humans: int = 0
    seconds_since_addressed: float | None = None

    def __post_init__(self) -> None:
        _check_choice("trigger", self.trigger, _TRIGGERS)
        _check_choice("address_kind", self.address_kind, _ADDRESS_KINDS)
        _check_choice("register", self.register, _REGISTERS)
        _check_choice("question_kind", self.question_kind, _QUESTION_KINDS)
        if self.followup_bias is not None:
            _check_choice("followup_bias", self.followup_bias, _BIASES)
        for name in ("sender_messages_seen", "exchange_messages", "exchange_humans"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)!r}")
        for name in (
            "activity_per_minute",
            "lull_seconds",
            "budget_remaining",
            "seconds_since_bot_spoke",
            "sender_first_seen_seconds",
            "seconds_since_addressed",
        ):
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

    @property
    def reactive(self) -> bool:
        """Whether the turn answers a message."""
        return self.trigger == TriggerKind.REACTIVE

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
    lurk_odds: float = 16.0
    speculative_listen_odds: float = 1.0
    followup_listen_odds: float = 0.5
    question_boost: float = 1.5
    callback_boost: float = 3.0
    lull_boost: float = 2.0
    heat_boost: float = 2.5
    suggestion_boost: float = 2.0
    # Judgement in a group chat (see docs/dispositions.md, "Judgement").
    familiar_messages: int = 20
    familiar_seconds: float = 2 * 86400.0
    exchange_listen_step: float = 2.0
    unaddressed_listen_odds: float = 3.0
    addressed_recently_seconds: float = 600.0
    ambient_cooldown_seconds: float = 900.0
    ambient_cooldown_odds: float = 4.0
    question_wait_odds: float = 10.0
    open_question_silence: float = 0.003
    heat_listen_odds: float = 3.0
    celebration_react_boost: float = 6.0
    celebration_listen_odds: float = 0.3
    unprompted_budget_floor: float = 0.1

    def __post_init__(self) -> None:
        if self.temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {self.temperature!r}")
        for name in (
            "threat_threshold",
            "budget_low",
            "budget_exhausted",
            "tiebreak_margin",
            "off_axis_rate",
            "unprompted_budget_floor",
            "open_question_silence",
        ):
            _check_unit(name, getattr(self, name))
        if self.budget_exhausted > self.budget_low:
            raise ValueError("budget_exhausted must not exceed budget_low")
        for name in (
            "cheap_cost_ceiling",
            "budget_cost_scale",
            "lull_threshold_seconds",
            "busy_messages_per_minute",
            "question_wait_odds",
            "heat_listen_odds",
            "celebration_react_boost",
            "celebration_listen_odds",
            "ambient_cooldown_odds",
            "unaddressed_listen_odds",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")
        for name in (
            "familiar_messages",
            "familiar_seconds",
            "exchange_listen_step",
            "addressed_recently_seconds",
            "ambient_cooldown_seconds",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)!r}")

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
    # Someone addressed the bot: an off-axis lens must still show the conversation it answers.
    addressed: bool = False

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


@dataclass(frozen=True, slots=True)
class RouterInputs:
    """Everything `route_turn` is given, in one value that round-trips through JSON for replay."""

    moment: Moment
    persona: PersonaSpec
    candidates: tuple[DispositionSpec, ...]
    config: RouterConfig

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, as logged on a decision (the moment under its first name, "context")."""
        return {
            "context": self.moment.as_dict(),
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
            moment=Moment.from_dict(data["context"]),
            persona=PersonaSpec.from_dict(data["persona"]),
            candidates=tuple(DispositionSpec.from_dict(item) for item in data["candidates"]),
            config=RouterConfig.from_dict(data["config"]),
        )
