"""The router's factors: gates that eliminate, signals that fit the moment, pressures that weigh cost and chatter.

A candidate's score is its persona weight times every factor that applies to it. Each factor is a small
function returning a `Factor` (a multiplier and the reason it leaves on the decision) or None when it does
not apply, so every rule can be read, tested and tuned on its own. What depends only on the moment is read
once per turn into a `Reading`; the functions below then look at one candidate at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from dispositions.choices import (
    AddressKind,
    ContextStrategy,
    FollowupBias,
    OutputShape,
    ReasoningDepth,
    RiskAppetite,
    SearchPosture,
    TriggerKind,
    Voice,
)
from dispositions.specs import DispositionSpec, Moment, PersonaSpec, RouterConfig

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
BIAS_RULES: dict[str, tuple[tuple[str, str, float], ...]] = {
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


@dataclass(frozen=True, slots=True)
class Factor:
    """One multiplier on a candidate's score and the reason it leaves on the decision."""

    multiplier: float
    reason: str


@dataclass(frozen=True, slots=True)
class Reading:
    """What the router reads off the moment once per turn, before looking at any candidate."""

    moment: Moment
    config: RouterConfig
    forced: str | None
    directly_addressed: bool
    no_silence: bool
    speculative: bool
    exhausted: bool
    low_budget: bool
    question: float
    lull_strength: float
    busy_unprompted: bool
    busy: bool
    bot_just_spoke: bool
    lurking: bool
    bias_rules: tuple[tuple[str, str, float], ...]

    @property
    def budget_pressure(self) -> bool:
        """Whether the budget is low or exhausted (cheap dispositions are favoured or required)."""
        return self.exhausted or self.low_budget


def estimate_cost(spec: DispositionSpec) -> float:
    """Relative cost of running a disposition (a low-tier single-line call is 1.0; silent is 0)."""
    if spec.output_shape == OutputShape.SILENT:
        return 0.0
    return (
        _DEPTH_COST[spec.reasoning_depth] * _SHAPE_COST[spec.output_shape]
        + _SUBAGENT_COST * len(spec.fanout_plan)
        + _STRATEGY_COST.get(spec.context_strategy, 0.0)
    )


def affinity(spec: DispositionSpec, *tables: tuple[Mapping[str, float], str]) -> float:
    """How well a candidate's dimensions fit a signal: the tables' values for it, summed and capped."""
    total = 0.0
    for table, dimension in tables:
        total += table.get(getattr(spec, dimension), 0.0)
    return min(total, _AFFINITY_CAP)


# Gates: what forces silence for the whole turn.


def forced_silence(moment: Moment, config: RouterConfig) -> str | None:
    """The gate that forces silent-listen, if any (first match wins, strongest first)."""
    if moment.asleep:
        return "asleep: only silent-listen"
    if moment.sender_threat_score >= config.threat_threshold:
        return f"sender threat {moment.sender_threat_score:.2f} >= {config.threat_threshold:.2f}: not engaged"
    if moment.sender_is_bot and not moment.bot_chain_allowed and moment.trigger == TriggerKind.REACTIVE:
        return "bot-authored message and bot chains not allowed: no reply chain"
    if moment.unprompted_muted and moment.trigger in _UNPROMPTED:
        return "unprompted turns muted in this channel"
    if moment.said_to_someone_else and not moment.addressed and moment.trigger == TriggerKind.REACTIVE:
        # A mention of or a reply to another person is their conversation: the bot listens, not butts in.
        return "said to someone else: not the bot's turn"
    return None


def read_moment(moment: Moment, config: RouterConfig) -> Reading:
    """Everything about the moment that every candidate is scored against."""
    forced = forced_silence(moment, config)
    directly_addressed = moment.directly_addressed
    trigger = moment.trigger
    speculative = trigger == TriggerKind.SPECULATIVE
    budget = moment.budget_remaining
    exhausted = budget <= config.budget_exhausted
    lull_strength = 0.0
    busy_unprompted = False
    if speculative:
        if moment.lull_seconds >= config.lull_threshold_seconds:
            lull_strength = min(2.0, moment.lull_seconds / config.lull_threshold_seconds)
        else:
            busy_unprompted = True
    return Reading(
        moment=moment,
        config=config,
        forced=forced,
        directly_addressed=directly_addressed,
        no_silence=forced is None and directly_addressed,
        speculative=speculative,
        exhausted=exhausted,
        low_budget=not exhausted and budget < config.budget_low,
        question=(1.0 if moment.question_detected else 0.0) + min(moment.unanswered_questions, 3),
        lull_strength=lull_strength,
        busy_unprompted=busy_unprompted,
        busy=moment.activity_per_minute >= config.busy_messages_per_minute and not directly_addressed,
        bot_just_spoke=(
            moment.seconds_since_bot_spoke is not None
            and moment.seconds_since_bot_spoke < config.bot_cooldown_seconds
            and not directly_addressed
        ),
        lurking=trigger == TriggerKind.REACTIVE and not moment.addressed and not moment.is_dm,
        bias_rules=BIAS_RULES.get(moment.followup_bias or "", ()) if trigger == TriggerKind.SELF_FOLLOWUP else (),
    )


def turn_gates(reading: Reading) -> tuple[str, ...]:
    """The gates of the turn as the decision lists them."""
    gates: list[str] = []
    if reading.forced:
        gates.append(reading.forced)
    if reading.no_silence:
        kind = "dm" if reading.moment.is_dm else reading.moment.address_kind
        gates.append(f"addressed ({kind}): silent removed")
    if reading.exhausted:
        gates.append(f"budget exhausted ({reading.moment.budget_remaining:.0%} left): only cheap or silent")
    return tuple(gates)


# Eliminations: what takes one candidate out of this turn (first match wins).


def elimination(spec: DispositionSpec, reading: Reading, persona: PersonaSpec, cost: float) -> str | None:
    """Why a candidate cannot be chosen this turn, or None."""
    silent = spec.output_shape == OutputShape.SILENT
    config = reading.config
    if reading.forced and not silent:
        return reading.forced
    if reading.no_silence and silent:
        return "addressed: silence not allowed"
    if spec.speculative_only and not reading.speculative:
        return f"speculative-only on a {reading.moment.trigger} trigger"
    if not silent and spec.voice not in persona.eligible_voices:
        return f"persona: voice {spec.voice} not eligible"
    if reading.exhausted and cost > config.cheap_cost_ceiling:
        return f"budget exhausted: cost {cost:.1f} above cheap ceiling {config.cheap_cost_ceiling:.1f}"
    if persona.weight(spec.slug) <= 0:
        return "persona weight 0"
    return None


# Factors on silent-listen.


def silence_while_busy_unprompted(spec: DispositionSpec, reading: Reading, cost: float) -> Factor | None:
    """An unprompted turn while the channel is busy: listening is likelier."""
    return Factor(2.0, "unprompted while the channel is busy x2.00") if reading.busy_unprompted else None


def silence_against_open_question(spec: DispositionSpec, reading: Reading, cost: float) -> Factor | None:
    """An open question wants an answer: listening is less likely."""
    if not reading.question:
        return None
    # Squared: one open question may be for someone else; one asked again is for anyone.
    factor = 1.0 / (1.0 + reading.question) ** 2
    return Factor(factor, f"open question wants an answer x{factor:.3f}")


def silence_in_own_thread(spec: DispositionSpec, reading: Reading, cost: float) -> Factor | None:
    """A message in the bot's own thread: listening is less likely."""
    return Factor(0.5, "in the bot's thread x0.50") if reading.moment.address_kind == AddressKind.THREAD else None


# Factors on candidates that speak.


def reaction_under_address(spec: DispositionSpec, reading: Reading, cost: float) -> Factor | None:
    """Addressed directly, a reaction alone under-answers."""
    if reading.directly_addressed and spec.output_shape == OutputShape.REACT_ONLY:
        return Factor(0.5, "addressed: a reaction alone under-answers x0.50")
    return None


def bot_just_spoke(spec: DispositionSpec, reading: Reading, cost: float) -> Factor | None:
    """The bot spoke moments ago and nobody addressed it: speaking again is less likely."""
    if reading.bot_just_spoke:
        return Factor(0.5, f"bot spoke {reading.moment.seconds_since_bot_spoke:.0f}s ago x0.50")
    return None


def busy_channel(spec: DispositionSpec, reading: Reading, cost: float) -> Factor | None:
    """A busy channel favours reactions and cools long output."""
    if not reading.busy:
        return None
    if spec.output_shape == OutputShape.REACT_ONLY:
        return Factor(1.5, "busy channel favours reactions x1.50")
    if spec.output_shape in _LONG_SHAPES:
        return Factor(0.5, "busy channel: long output x0.50")
    return None


def open_question(spec: DispositionSpec, reading: Reading, cost: float) -> Factor | None:
    """An open question favours answering voices and strategies."""
    if not reading.question or spec.output_shape not in _ANSWERING_SHAPES:
        return None
    fit = affinity(spec, (_QUESTION_VOICE, "voice"), (_QUESTION_STRATEGY, "context_strategy"))
    if not fit:
        return None
    factor = 1.0 + reading.config.question_boost * reading.question * fit
    label = "repeated unanswered question" if reading.moment.unanswered_questions else "open question"
    return Factor(factor, f"{label} x{factor:.2f}")


def callback_material(spec: DispositionSpec, reading: Reading, cost: float) -> Factor | None:
    """A ripe callback favours callback strategies, postures and nostalgic voices."""
    callback = reading.moment.callback_material
    if not callback:
        return None
    fit = affinity(
        spec,
        (_CALLBACK_STRATEGY, "context_strategy"),
        (_CALLBACK_POSTURE, "search_posture"),
        (_CALLBACK_VOICE, "voice"),
    )
    if not fit:
        return None
    factor = 1.0 + reading.config.callback_boost * callback * fit
    return Factor(factor, f"callback material {callback:.2f} x{factor:.2f}")


def lull(spec: DispositionSpec, reading: Reading, cost: float) -> Factor | None:
    """A speculative turn after a lull favours observational voices and wandering strategies."""
    if not reading.speculative or not reading.lull_strength:
        return None
    fit = affinity(spec, (_LULL_VOICE, "voice"), (_LULL_STRATEGY, "context_strategy"))
    if spec.speculative_only:
        fit = min(_AFFINITY_CAP, fit + 0.5)
    if not fit:
        return None
    factor = 1.0 + reading.config.lull_boost * reading.lull_strength * fit
    return Factor(factor, f"lull {reading.moment.lull_seconds:.0f}s x{factor:.2f}")


def nothing_to_react_to(spec: DispositionSpec, reading: Reading, cost: float) -> Factor | None:
    """A speculative turn has no fresh message: reactions and person-deep digging make little sense."""
    if reading.speculative and (
        spec.output_shape == OutputShape.REACT_ONLY or spec.search_posture == SearchPosture.PERSON_DEEP
    ):
        return Factor(0.3, "nothing new to react to x0.30")
    return None


def heated_disagreement(spec: DispositionSpec, reading: Reading, cost: float) -> Factor | None:
    """A heated disagreement favours contrasting context, contradiction hunting and sincere voices."""
    if not reading.moment.heated_disagreement:
        return None
    fit = affinity(
        spec, (_HEAT_STRATEGY, "context_strategy"), (_HEAT_POSTURE, "search_posture"), (_HEAT_VOICE, "voice")
    )
    if not fit:
        return None
    factor = 1.0 + reading.config.heat_boost * fit
    return Factor(factor, f"heated disagreement x{factor:.2f}")


def heat_cools_spice(spec: DispositionSpec, reading: Reading, cost: float) -> Factor | None:
    """In a heated disagreement, spicy dispositions are cooled."""
    if reading.moment.heated_disagreement and spec.risk_appetite == RiskAppetite.SPICY:
        return Factor(0.5, "heated: spicy cooled x0.50")
    return None


def budget_clamp(spec: DispositionSpec, reading: Reading, cost: float) -> Factor | None:
    """With the budget low, costly dispositions are clamped by how far below the low mark it is."""
    config = reading.config
    if not reading.low_budget or cost <= config.cheap_cost_ceiling:
        return None
    budget = reading.moment.budget_remaining
    factor = (budget / config.budget_low) ** (cost / config.budget_cost_scale)
    return Factor(factor, f"budget {budget:.0%} left: cost {cost:.1f} clamped x{factor:.3f}")


# Factors on every candidate.


def followup_bias(spec: DispositionSpec, reading: Reading, cost: float) -> Sequence[Factor]:
    """A self-followup's bias tilts the field towards the dimensions it names."""
    bias = reading.moment.followup_bias
    return [
        Factor(factor, f"follow-up {bias}: {value} x{factor:.2f}")
        for dimension, value, factor in reading.bias_rules
        if getattr(spec, dimension) == value
    ]


def orchestrator_suggestion(spec: DispositionSpec, reading: Reading, cost: float) -> Factor | None:
    """A disposition suggested for this turn gains the suggestion boost."""
    if reading.moment.suggested_disposition != spec.slug:
        return None
    boost = reading.config.suggestion_boost
    return Factor(boost, f"suggested by the orchestrator x{boost:.2f}")


CandidateFactor = Callable[[DispositionSpec, Reading, float], "Factor | None"]

# In the order their reasons are listed on a decision.
SILENCE_FACTORS: tuple[CandidateFactor, ...] = (
    silence_while_busy_unprompted,
    silence_against_open_question,
    silence_in_own_thread,
)
SPEAKING_FACTORS: tuple[CandidateFactor, ...] = (
    reaction_under_address,
    bot_just_spoke,
    busy_channel,
    open_question,
    callback_material,
    lull,
    nothing_to_react_to,
    heated_disagreement,
    heat_cools_spice,
    budget_clamp,
)


def candidate_factors(spec: DispositionSpec, reading: Reading, cost: float) -> list[Factor]:
    """Every factor that applies to one candidate, in the order the decision lists them."""
    found: list[Factor] = []
    table = SILENCE_FACTORS if spec.output_shape == OutputShape.SILENT else SPEAKING_FACTORS
    for rule in table:
        factor = rule(spec, reading, cost)
        if factor is not None:
            found.append(factor)
    found.extend(followup_bias(spec, reading, cost))
    suggestion = orchestrator_suggestion(spec, reading, cost)
    if suggestion is not None:
        found.append(suggestion)
    return found


def listening_odds(reading: Reading, *, speaking_weight: float, silent_count: int) -> Factor | None:
    """The pressure against chatter: listening holds fixed odds against all speaking candidates together."""
    moment = reading.moment
    config = reading.config
    odds, label = 0.0, ""
    if reading.lurking:
        odds, label = config.lurk_odds, "not addressed"
    elif moment.trigger == TriggerKind.SPECULATIVE:
        odds, label = config.speculative_listen_odds, "unprompted"
    elif moment.trigger == TriggerKind.SELF_FOLLOWUP:
        odds, label = config.followup_listen_odds, "self-followup"
    if not odds or not silent_count or speaking_weight <= 0:
        return None
    # By persona weight, before signals, so adding dispositions does not make the bot chattier; signals
    # still tilt it.
    factor = odds * speaking_weight / silent_count
    return Factor(factor, f"{label}: listening holds {odds:g}:1 odds x{factor:.2f}")
