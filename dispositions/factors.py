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
    QuestionKind,
    ReasoningDepth,
    Register,
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
# What fits a distressed person: plain, warm voices; playful and cutting ones are cooled.
_DISTRESS_VOICE: dict[str, float] = {Voice.SINCERE: 2.0, Voice.ENCOURAGING: 2.0, Voice.NOSTALGIC: 1.2}
_DISTRESS_COOLED = frozenset({Voice.PLAYFUL, Voice.SHARP, Voice.CONTRARIAN, Voice.DEADPAN, Voice.INDIFFERENT})
# Voices and strategies that fit a moment nobody prompted: noticing, calling back, wandering.
_UNPROMPTED_VOICES = frozenset({Voice.OBSERVATIONAL, Voice.NOSTALGIC, Voice.FACT_DROP})
_UNPROMPTED_STRATEGIES = frozenset(
    {
        ContextStrategy.SERENDIPITY,
        ContextStrategy.BOT_HISTORY,
        ContextStrategy.TIME_SHIFTED,
        ContextStrategy.EPOCHS_ONLY,
        ContextStrategy.CALLBACK_PRIMED,
    }
)
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
    # Judgement: what kind of moment this is.
    sleepy: bool = False
    announcement: bool = False
    direct_question: bool = False
    fresh_question: bool = False
    open_question: bool = False
    familiar: bool = False
    tease_ok: bool = False
    heated_aside: bool = False

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
    if moment.asleep and not (moment.reactive and moment.directly_addressed):
        # A mention at night is the persona's call (a sleepy line or nothing); anything else is not.
        return "asleep: only silent-listen"
    if moment.sender_threat_score >= config.threat_threshold:
        return f"sender threat {moment.sender_threat_score:.2f} >= {config.threat_threshold:.2f}: not engaged"
    if moment.sender_is_bot and not moment.bot_chain_allowed and moment.trigger == TriggerKind.REACTIVE:
        return "bot-authored message and bot chains not allowed: no reply chain"
    if moment.trigger in _UNPROMPTED and moment.budget_remaining <= config.unprompted_budget_floor:
        return f"budget nearly spent ({moment.budget_remaining:.0%} left): unprompted turns stay silent"
    if moment.unprompted_muted and moment.trigger in _UNPROMPTED:
        return "unprompted turns muted in this channel"
    if moment.said_to_someone_else and not moment.addressed and moment.trigger == TriggerKind.REACTIVE:
        # A mention of or a reply to another person is their conversation: the bot listens, not butts in.
        return "said to someone else: not the bot's turn"
    return None


def is_familiar(moment: Moment, config: RouterConfig) -> bool:
    """Whether the bot knows the sender: enough of their messages seen, over long enough."""
    first_seen = moment.sender_first_seen_seconds
    return (
        moment.sender_messages_seen >= config.familiar_messages
        and first_seen is not None
        and first_seen >= config.familiar_seconds
    )


def read_moment(moment: Moment, config: RouterConfig) -> Reading:
    """Everything about the moment that every candidate is scored against."""
    forced = forced_silence(moment, config)
    directly_addressed = moment.directly_addressed
    trigger = moment.trigger
    reactive = trigger == TriggerKind.REACTIVE
    speculative = trigger == TriggerKind.SPECULATIVE
    budget = moment.budget_remaining
    exhausted = budget <= config.budget_exhausted
    lurking = reactive and not moment.addressed and not moment.is_dm
    # Questions left to the room that people have not taken up (the host counts only those in the bot's lane).
    open_question = moment.unanswered_questions > 0
    answering_question = (moment.addressed or moment.is_dm) and moment.question_detected
    lull_strength = 0.0
    busy_unprompted = False
    if speculative:
        if moment.lull_seconds >= config.lull_threshold_seconds:
            lull_strength = min(2.0, moment.lull_seconds / config.lull_threshold_seconds)
        elif not open_question:
            busy_unprompted = True
    register = moment.register
    familiar = is_familiar(moment, config)
    sleepy = moment.asleep and reactive and directly_addressed
    # Addressed, silence is off the table, unless the persona may let it pass: at night, when hostile, or when
    # the question pinged about was answered already.
    silence_allowed = sleepy or register == Register.HOSTILE or moment.already_answered
    return Reading(
        moment=moment,
        config=config,
        forced=forced,
        directly_addressed=directly_addressed,
        no_silence=forced is None and directly_addressed and not silence_allowed,
        speculative=speculative,
        exhausted=exhausted,
        low_budget=not exhausted and budget < config.budget_low,
        question=(1.0 if answering_question else 0.0) + min(moment.unanswered_questions, 3),
        lull_strength=lull_strength,
        busy_unprompted=busy_unprompted,
        busy=moment.activity_per_minute >= config.busy_messages_per_minute and not directly_addressed,
        bot_just_spoke=(
            moment.seconds_since_bot_spoke is not None
            and moment.seconds_since_bot_spoke < config.bot_cooldown_seconds
            and not directly_addressed
        ),
        lurking=lurking,
        bias_rules=BIAS_RULES.get(moment.followup_bias or "", ()) if trigger == TriggerKind.SELF_FOLLOWUP else (),
        sleepy=sleepy,
        announcement=moment.announcement and not moment.addressed,
        direct_question=reactive and directly_addressed and moment.question_detected,
        fresh_question=lurking and moment.question_detected and not open_question,
        open_question=open_question,
        familiar=familiar,
        # Only a person can be teased: a follow-up on the bot's own words has nobody to tease.
        tease_ok=(
            trigger == TriggerKind.SELF_FOLLOWUP
            or (register not in _NO_TEASING and reactive and (familiar or register == Register.TEASE_INVITE))
        ),
        heated_aside=lurking and moment.heated_disagreement,
    )


def turn_gates(reading: Reading) -> tuple[str, ...]:
    """The gates of the turn as the decision lists them."""
    gates: list[str] = []
    if reading.forced:
        gates.append(reading.forced)
    if reading.no_silence:
        kind = "dm" if reading.moment.is_dm else reading.moment.address_kind
        gates.append(f"addressed ({kind}): silent removed")
    if reading.sleepy and not reading.forced:
        gates.append("quiet hours: a short sleepy line or nothing")
    if reading.announcement and not reading.forced:
        gates.append("announcement: at most a reaction")
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
    if silent:
        return None
    for rule in JUDGEMENT_RULES:
        reason = rule(spec, reading)
        if reason is not None:
            return reason
    return None


# Judgement: what a speaking candidate may not do in this kind of moment (first match wins).

_SHORT_SHAPES = frozenset({OutputShape.REACT_ONLY, OutputShape.SINGLE_LINE})
PLAIN_ANSWER = 0.005


def asleep_rule(spec: DispositionSpec, reading: Reading) -> str | None:
    """Quiet hours, addressed: a short, low-effort line (or the silence the persona may choose)."""
    if reading.sleepy and (spec.reasoning_depth != ReasoningDepth.LOW or spec.output_shape != OutputShape.SINGLE_LINE):
        return "quiet hours: only a short sleepy line"
    return None


def announcement_rule(spec: DispositionSpec, reading: Reading) -> str | None:
    """An announcement to everyone (@everyone, @here) gets at most a reaction."""
    if reading.announcement and spec.output_shape != OutputShape.REACT_ONLY:
        return "announcement: at most a reaction"
    return None


def already_answered_rule(spec: DispositionSpec, reading: Reading) -> str | None:
    """A ping about a question the bot has already answered gets no second reply (a reaction at most)."""
    if reading.moment.already_answered and spec.output_shape != OutputShape.REACT_ONLY:
        return "already answered: no second reply"
    return None


def direct_question_rule(spec: DispositionSpec, reading: Reading) -> str | None:
    """A question put to the bot, or one the bot takes up for the room, is answered in words, not a reaction."""
    if (reading.direct_question or reading.open_question) and spec.output_shape == OutputShape.REACT_ONLY:
        return "a question to answer: a reaction alone would not answer it"
    return None


# Moments teasing never meets: someone hurting, someone hostile (no escalating), someone saying thanks.
_NO_TEASING = frozenset({Register.DISTRESS, Register.HOSTILE, Register.GRATITUDE})


def teasing_rule(spec: DispositionSpec, reading: Reading) -> str | None:
    """Teasing (spicy) needs a sender the bot knows or one who asked for it; never on distress, hostility or thanks."""
    if spec.risk_appetite != RiskAppetite.SPICY or reading.tease_ok:
        return None
    register = reading.moment.register
    if register in _NO_TEASING:
        return f"{register}: no teasing"
    return "teasing needs familiarity or an invitation"


def register_rule(spec: DispositionSpec, reading: Reading) -> str | None:
    """Distress gets words, not a lone reaction or a burst; thanks and hostility get something short."""
    register = reading.moment.register
    shape = spec.output_shape
    if register == Register.DISTRESS and shape in (OutputShape.REACT_ONLY, OutputShape.BURST):
        return "distress: not a reaction alone, not a burst"
    if register in (Register.GRATITUDE, Register.HOSTILE) and shape not in _SHORT_SHAPES:
        return f"{register}: a reaction or a short line"
    return None


def celebration_rule(spec: DispositionSpec, reading: Reading) -> str | None:
    """Good news or a joke that landed: a reaction, or a short line when it was said to the bot."""
    if not reading.moment.celebration:
        return None
    if spec.output_shape not in _SHORT_SHAPES:
        return "celebration: a reaction or a short line"
    if not reading.moment.addressed and spec.output_shape != OutputShape.REACT_ONLY:
        return "celebration said to the room: a reaction at most"
    return None


def fits_unprompted(spec: DispositionSpec) -> bool:
    """Whether a disposition fits a moment nobody prompted: it notices, calls back or muses."""
    return spec.speculative_only or spec.voice in _UNPROMPTED_VOICES or spec.context_strategy in _UNPROMPTED_STRATEGIES


def unprompted_rule(spec: DispositionSpec, reading: Reading) -> str | None:
    """An unprompted turn with nothing to answer picks what fits it (observing, calling back, musing) or nothing."""
    if reading.speculative and not reading.open_question and not fits_unprompted(spec):
        return "unprompted with nothing to answer: only observing, calling back or musing"
    return None


JudgementRule = Callable[[DispositionSpec, Reading], "str | None"]
# In the order they are tried: the first that applies names why a candidate is out.
JUDGEMENT_RULES: tuple[JudgementRule, ...] = (
    asleep_rule,
    announcement_rule,
    already_answered_rule,
    direct_question_rule,
    teasing_rule,
    register_rule,
    celebration_rule,
    unprompted_rule,
)


# Factors on silent-listen.


def silence_while_busy_unprompted(spec: DispositionSpec, reading: Reading, cost: float) -> Factor | None:
    """An unprompted turn while the channel is busy: listening is likelier."""
    return Factor(2.0, "unprompted while the channel is busy x2.00") if reading.busy_unprompted else None


def silence_against_open_question(spec: DispositionSpec, reading: Reading, cost: float) -> Factor | None:
    """A question put to the bot, or one left to the room that nobody took up, wants an answer."""
    if not reading.question or reading.sleepy:
        # At night the persona may let even a question wait until morning.
        return None
    # Squared: one open question may be for someone else; one asked again is for anyone.
    factor = 1.0 / (1.0 + reading.question) ** 2
    if reading.open_question:
        # Left to the room for a while, in the bot's lane, nobody answering: this is what the turn is for.
        factor *= reading.config.open_question_silence
    return Factor(factor, f"open question wants an answer x{factor:.3f}")


def silence_while_a_question_waits(spec: DispositionSpec, reading: Reading, cost: float) -> Factor | None:
    """A question just asked and not put to the bot is for the people first: the bot waits."""
    if not reading.fresh_question:
        return None
    odds = reading.config.question_wait_odds
    return Factor(odds, f"a question just asked, not to the bot: people first x{odds:.2f}")


def silence_in_an_argument(spec: DispositionSpec, reading: Reading, cost: float) -> Factor | None:
    """People arguing, and nobody asked the bot: mostly it waits."""
    if not reading.heated_aside:
        return None
    odds = reading.config.heat_listen_odds
    return Factor(odds, f"an argument it was not asked into: waiting x{odds:.2f}")


def silence_in_own_thread(spec: DispositionSpec, reading: Reading, cost: float) -> Factor | None:
    """A message in the bot's own thread: listening is less likely."""
    return Factor(0.5, "in the bot's thread x0.50") if reading.moment.address_kind == AddressKind.THREAD else None


# Factors on candidates that speak.


def reaction_under_address(spec: DispositionSpec, reading: Reading, cost: float) -> Factor | None:
    """Addressed directly, a reaction alone under-answers (good news and thanks aside)."""
    moment = reading.moment
    if moment.celebration or moment.register == Register.GRATITUDE:
        return None
    if reading.directly_addressed and spec.output_shape == OutputShape.REACT_ONLY:
        return Factor(0.5, "addressed: a reaction alone under-answers x0.50")
    return None


def reaction_for_good_news(spec: DispositionSpec, reading: Reading, cost: float) -> Factor | None:
    """Good news, a joke that landed, or thanks: a reaction is the natural answer."""
    if spec.output_shape != OutputShape.REACT_ONLY:
        return None
    if reading.moment.celebration:
        boost = reading.config.celebration_react_boost
        return Factor(boost, f"good news or a joke that landed: a reaction fits x{boost:.2f}")
    if reading.moment.register == Register.GRATITUDE:
        return Factor(2.0, "thanks: a reaction is enough x2.00")
    return None


def register_voice(spec: DispositionSpec, reading: Reading, cost: float) -> Factor | None:
    """Distress favours plain, warm voices and cools playful or cutting ones; an invitation favours teasing."""
    register = reading.moment.register
    if register == Register.DISTRESS:
        if spec.voice in _DISTRESS_VOICE:
            factor = _DISTRESS_VOICE[spec.voice]
            return Factor(factor, f"distress: a {spec.voice} voice fits x{factor:.2f}")
        if spec.voice in _DISTRESS_COOLED:
            return Factor(0.5, f"distress: a {spec.voice} voice is cooled x0.50")
    if register == Register.TEASE_INVITE and spec.risk_appetite == RiskAppetite.SPICY:
        return Factor(3.0, "invited to tease x3.00")
    return None


def question_shape(spec: DispositionSpec, reading: Reading, cost: float) -> Factor | None:
    """Shape follows what was asked: a plain fact gets one line, an explanation room to explain, a disagreement
    to settle a weighing of both sides."""
    kind = reading.moment.question_kind
    if not reading.question:
        return None
    if kind == QuestionKind.FACT and spec.output_shape in _LONG_SHAPES:
        # A factor, not an elimination: a persona with nothing shorter still answers.
        return Factor(PLAIN_ANSWER, f"a plain question: a plain answer x{PLAIN_ANSWER:.2f}")
    if kind == QuestionKind.EXPLAIN and spec.output_shape in _LONG_SHAPES:
        return Factor(2.0, "asked to explain: room to explain x2.00")
    if kind == QuestionKind.SETTLE:
        fit = affinity(spec, (_HEAT_STRATEGY, "context_strategy"), (_HEAT_POSTURE, "search_posture"))
        if fit:
            factor = 1.0 + reading.config.heat_boost * fit
            return Factor(factor, f"asked to settle it x{factor:.2f}")
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
    label = "a question left to the room" if reading.moment.unanswered_questions else "open question"
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
    silence_while_a_question_waits,
    silence_in_an_argument,
    silence_in_own_thread,
)
SPEAKING_FACTORS: tuple[CandidateFactor, ...] = (
    reaction_under_address,
    reaction_for_good_news,
    register_voice,
    question_shape,
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


def ambient_odds(moment: Moment, config: RouterConfig) -> tuple[float, str]:
    """Listening odds for a message not said to the bot, budgeted per channel and time rather than per message.

    The odds grow while people talk among themselves (each further message and person of the exchange adds a
    share), while nobody has addressed the bot for a while, and for a while after the bot last spoke; good news
    lowers them (a reaction is welcome). So a few lines of people chatting add up to a small chance, not one per
    line.
    """
    odds = config.lurk_odds
    parts: list[str] = []
    since_addressed = moment.seconds_since_addressed
    if since_addressed is None or since_addressed > config.addressed_recently_seconds:
        odds *= config.unaddressed_listen_odds
        parts.append("nobody talking to the bot")
    if moment.exchange_humans >= 2 and moment.exchange_messages > 1:
        # Each further message of the exchange, and each further person in it, leaves less room for the bot.
        odds *= (1.0 + config.exchange_listen_step * (moment.exchange_messages - 1)) * (moment.exchange_humans - 1)
        parts.append(f"{moment.exchange_humans} people, {moment.exchange_messages} messages among themselves")
    since_spoke = moment.seconds_since_bot_spoke
    if since_spoke is not None and since_spoke < config.ambient_cooldown_seconds:
        odds *= config.ambient_cooldown_odds
        parts.append(f"the bot spoke {since_spoke:.0f}s ago")
    if moment.celebration:
        odds *= config.celebration_listen_odds
        parts.append("good news")
    return odds, f"not addressed ({', '.join(parts) or 'the channel to itself'})"


def listening_odds(reading: Reading, *, speaking_weight: float, silent_count: int) -> Factor | None:
    """The pressure against chatter: listening holds fixed odds against all speaking candidates together."""
    moment = reading.moment
    config = reading.config
    odds, label = 0.0, ""
    if reading.lurking:
        odds, label = ambient_odds(moment, config)
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
