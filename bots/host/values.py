"""The values a turn passes from stage to stage, in the order they appear.

    InboundMessage (the adapter's) -> TurnRequest (in its channel's lane) -> TurnPlan (routed) ->
    Draft (what it means to say) -> Delivery (what went out) -> TurnOutcome (recorded on the decision)

Each is frozen; a stage takes the previous value and returns the next. `TurnOutcome` is stored on the
decision row as JSON with the same keys the decision page and the API have always shown.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from bots.adapters.base import ChannelRef, InboundMessage, MessageRef
from bots.host.addressing import NOT_ADDRESSED, Address
from bots.host.choices import Ending, GoalKind, RecheckOutcome
from bots.host.goals import GoalReading
from bots.scheduled_turns import PreviousTurn
from dispositions.choices import InterruptionHandling, OutputShape, TriggerKind
from dispositions.research.types import Research
from dispositions.specs import DispositionSpec, Moment, PersonaSpec, RouterInputs, RoutingResult
from dispositions.synthesis import ConversationLine, SynthesisRequest, SynthesisResult
from memory.context import ContextScope
from steward.security import Signal


@dataclass(frozen=True, slots=True)
class HostBot:
    """The bot a host runs: its database id, names and the persona it speaks as."""

    bot_id: int
    slug: str
    name: str
    persona_id: int | None


@dataclass(frozen=True, slots=True)
class TurnRequest:
    """A turn waiting in its channel's lane: the messages it answers, or why it was started unprompted."""

    channel: ChannelRef
    trigger: str = TriggerKind.REACTIVE
    messages: tuple[InboundMessage, ...] = ()
    address: Address = NOT_ADDRESSED
    last_seq: int = 0
    followup_bias: str | None = None
    # Set on a turn the reactor started: its trigger (one decision per trigger), its logged seed, and for a
    # self-followup the turn it comes back to.
    trigger_id: uuid.UUID | None = None
    seed: int | None = None
    previous: PreviousTurn | None = None

    @property
    def reactive(self) -> bool:
        """Whether the turn answers messages (rather than being started by the bot itself)."""
        return bool(self.messages)

    @property
    def answered(self) -> InboundMessage:
        """The message the turn answers and records as its inbound message (the last fragment)."""
        return self.messages[-1]

    @property
    def message_ids(self) -> tuple[str, ...]:
        """Ids of every fragment of the turn."""
        return tuple(m.message.id for m in self.messages)

    @property
    def text(self) -> str:
        """The fragments' words, one per line."""
        return "\n".join(m.content for m in self.messages)

    @property
    def guild_id(self) -> str:
        """The guild of the turn's channel ("" in a DM)."""
        return self.channel.guild_id


@dataclass(frozen=True, slots=True)
class ThreatUpdate:
    """A member's threat score moved this turn: the points to add (the store decays what it holds) and why."""

    guild_id: str
    user_id: str
    display_name: str
    points: float
    score: float
    signals: tuple[Signal, ...]
    scored_at: datetime
    message_at: datetime


@dataclass(frozen=True, slots=True)
class Reading:
    """What the turn read off its channel before routing: the router's moment and how to answer."""

    moment: Moment
    scope: ContextScope
    answering: tuple[ConversationLine, ...]
    reply_to: MessageRef | None
    react_to: MessageRef | None
    late_address_of: str | None = None
    # For the synthesizer: what to keep in mind beyond the messages it answers (night, a loss, thanks, a
    # self-followup's earlier words); for the record: how the moment was read.
    note: str = ""
    details: Mapping[str, object] | None = None
    # Stored with the decision (the security engine's score), when the turn's messages carried a signal.
    threat_update: ThreatUpdate | None = None


@dataclass(frozen=True, slots=True)
class TurnPlan:
    """A routed turn: the chosen disposition with the router's inputs and result, ready to compose and record."""

    request: TurnRequest
    reading: Reading
    persona: PersonaSpec
    inputs: RouterInputs
    routing: RoutingResult
    router_latency_ms: float
    started: float
    # What the research fan-out brought (None: no persona fired), for the synthesizer and the record.
    research: Research | None = None
    # A goal-shaped request, as the parser read it (None: no goal cue); a task is delegated once recorded.
    goal: GoalReading | None = None

    @property
    def delegates(self) -> bool:
        """Whether the turn hands its request to a task worker (and only acknowledges it)."""
        return self.goal is not None and self.goal.kind == GoalKind.TASK

    @property
    def takes_no_work(self) -> bool:
        """Whether the turn only acknowledges a task or asks what is meant: no research, no tools."""
        return self.goal is not None and self.goal.kind in (GoalKind.TASK, GoalKind.AMBIGUOUS)

    @property
    def chosen(self) -> DispositionSpec:
        """The disposition the router chose."""
        return self.routing.chosen

    @property
    def shape(self) -> str:
        """The chosen output shape."""
        return self.routing.chosen.output_shape

    @property
    def silent(self) -> bool:
        """Whether the turn says nothing at all."""
        return self.shape == OutputShape.SILENT

    @property
    def context_strategy(self) -> str:
        """The context strategy the router picked (the disposition's, or an off-axis one)."""
        return self.routing.context_strategy


@dataclass(frozen=True, slots=True)
class PlannedBeat:
    """One message the turn means to send."""

    text: str
    is_correction: bool = False


@dataclass(frozen=True, slots=True)
class Draft:
    """What the turn means to say (beats, or one emoji), the request that produced it, and what it cost."""

    request: SynthesisRequest
    beats: tuple[PlannedBeat, ...] = ()
    emoji: str | None = None
    reply_to: MessageRef | None = None
    syntheses: tuple[SynthesisResult, ...] = ()
    recheck: RecheckOutcome | None = None
    folded: tuple[str, ...] = ()
    context: Mapping[str, Any] | None = None

    @property
    def ok(self) -> bool:
        """Whether the turn's synthesizer call gave something usable (a later fold-in call only adds to it)."""
        return bool(self.syntheses) and self.syntheses[0].ok

    @property
    def error(self) -> str:
        """Why the synthesizer gave nothing, if it did not."""
        return self.syntheses[0].error if self.syntheses else ""

    def with_synthesis(self, result: SynthesisResult) -> Draft:
        """The draft with one more synthesizer call recorded (and its beats, when it gave any)."""
        beats = (
            tuple(PlannedBeat(b.text, b.is_correction) for b in result.beats) if result.ok and result.beats else None
        )
        return replace(
            self,
            syntheses=(*self.syntheses, result),
            beats=self.beats if beats is None else beats,
            emoji=result.emoji if result.emoji is not None else self.emoji,
        )


@dataclass(frozen=True, slots=True)
class SentBeat:
    """A beat the platform accepted: its row and the platform message ids it became."""

    beat_id: int
    message_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Delivery:
    """What went out: counts, platform ids, how an interruption was handled, what was held back."""

    sent: int = 0
    message_ids: tuple[str, ...] = ()
    interruption: InterruptionHandling = InterruptionHandling.NOT_INTERRUPTED
    interrupted_by: tuple[str, ...] = ()
    suppressed_silence: int = 0
    cancelled: int = 0
    reaction: str | None = None
    error: str = ""
    sent_beats: tuple[SentBeat, ...] = ()
    # Set when an interruption was folded in: the extra synthesizer calls it took and who interrupted.
    fold_syntheses: tuple[SynthesisResult, ...] = ()
    interruption_record: Mapping[str, Any] | None = None

    def as_json(self) -> dict[str, object]:
        """JSON-ready summary for the decision's outcome."""
        return {
            "sent": self.sent,
            "message_ids": list(self.message_ids),
            "interruption": str(self.interruption),
            "interrupted_by": list(self.interrupted_by),
            "suppressed_silence": self.suppressed_silence,
            "cancelled": self.cancelled,
            "reaction": self.reaction,
            "error": self.error,
        }


@dataclass(frozen=True, slots=True)
class TurnOutcome:
    """How a turn ended, field by field; stored on its decision as JSON (None fields left out)."""

    end: Ending
    address: Mapping[str, object] | None = None
    fragments: tuple[str, ...] | None = None
    mute_lifted: bool | None = None
    late_address_of: str | None = None
    reading: Mapping[str, object] | None = None
    context: Mapping[str, Any] | None = None
    research: Mapping[str, Any] | None = None
    task: Mapping[str, Any] | None = None
    synthesis: tuple[Mapping[str, Any], ...] | None = None
    recheck: str | None = None
    folded: tuple[str, ...] | None = None
    interruption: Mapping[str, Any] | None = None
    dispatch: Mapping[str, object] | None = None
    bot_chain: int | None = None
    error: str = ""
    beats: int = 0
    cost_usd: Decimal = Decimal(0)
    model: str = ""
    interruption_handling: InterruptionHandling = InterruptionHandling.NOT_INTERRUPTED
    latency_ms: float = 0.0
    sent_beats: tuple[SentBeat, ...] = field(default=())

    @classmethod
    def begin(cls, request: TurnRequest) -> TurnOutcome:
        """What every reactive turn's outcome starts with: how it was addressed and its fragments."""
        if not request.reactive:
            return cls(end=Ending.SILENT)
        return cls(end=Ending.SILENT, address=request.address.as_dict(), fragments=request.message_ids)

    def as_json(self) -> dict[str, Any]:
        """The decision's `outcome` column: the keys that were set, in the order a turn sets them."""
        data: dict[str, Any] = {}
        for name in (
            "address",
            "fragments",
            "mute_lifted",
            "late_address_of",
            "reading",
            "context",
            "research",
            "task",
            "synthesis",
            "recheck",
            "folded",
            "interruption",
            "dispatch",
            "bot_chain",
        ):
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, tuple):
                value = [dict(item) if isinstance(item, Mapping) else item for item in value]
            elif isinstance(value, Mapping):
                value = dict(value)
            data[name] = value
        data["end"] = str(self.end)
        if self.error:
            data["error"] = self.error
        return data


def outcome_with_research(outcome: TurnOutcome, research: Research | None) -> TurnOutcome:
    """The outcome with who the fan-out fired, whose payload was used or dropped, and what it cost."""
    if research is None:
        return outcome
    return replace(outcome, research=research.summary(), cost_usd=outcome.cost_usd + research.cost_usd)


def outcome_with_goal(outcome: TurnOutcome, goal: GoalReading | None) -> TurnOutcome:
    """The outcome with how a goal-shaped request was read, and what reading it cost."""
    if goal is None:
        return outcome
    return replace(outcome, task=goal.as_json(), cost_usd=outcome.cost_usd + goal.cost_usd)


def outcome_with_task(outcome: TurnOutcome, task_id: int | None) -> TurnOutcome:
    """The outcome with the task its request became (the `TaskRun` id)."""
    if task_id is None:
        return outcome
    return replace(outcome, task={**(outcome.task or {}), "task_id": task_id})


def outcome_with_draft(outcome: TurnOutcome, draft: Draft) -> TurnOutcome:
    """The outcome with what composing the turn did: context, synthesizer calls, recheck, folded messages."""
    syntheses = [s.outcome() for s in draft.syntheses]
    return replace(
        outcome,
        context=draft.context,
        synthesis=tuple(syntheses) if syntheses else None,
        recheck=str(draft.recheck) if draft.recheck is not None else None,
        folded=draft.folded or None,
        cost_usd=outcome.cost_usd + sum((s.cost_usd for s in draft.syntheses), Decimal(0)),
        model=next((s.model for s in reversed(draft.syntheses) if s.model), outcome.model),
    )


def outcome_with_delivery(outcome: TurnOutcome, delivery: Delivery) -> TurnOutcome:
    """The outcome with what the dispatcher sent (and an interruption it folded in)."""
    syntheses = list(outcome.synthesis or ()) + [s.outcome() for s in delivery.fold_syntheses]
    return replace(
        outcome,
        dispatch=delivery.as_json(),
        interruption=delivery.interruption_record,
        synthesis=tuple(syntheses) if syntheses else None,
        beats=delivery.sent if delivery.reaction is None else 1,
        interruption_handling=delivery.interruption,
        sent_beats=delivery.sent_beats,
        error=delivery.error or outcome.error,
        cost_usd=outcome.cost_usd + sum((s.cost_usd for s in delivery.fold_syntheses), Decimal(0)),
        model=next((s.model for s in reversed(delivery.fold_syntheses) if s.model), outcome.model),
    )
