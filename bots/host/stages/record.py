"""Recording: the decision with the beats it will send, before anything is sent; then how the turn ended.

A turn that speaks writes its decision, its beats and the settlement of the messages it answers in one
statement, and its outcome (with every beat the platform accepted) in one more. A turn that ends before
sending anything (silent, stale, failed) writes its decision with its outcome at once. The database's
one-reactive-turn-per-message constraint is the last word on answering a message once.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace

from django.db import IntegrityError

from bots.host.choices import BeatKind, Ending
from bots.host.dispatcher import shape_beats
from bots.host.observers import DecisionMade, Ended, ScoredOption
from bots.host.parts import HostParts
from bots.host.port import RecordedDecision
from bots.host.values import Draft, PlannedBeat, TurnOutcome, TurnPlan
from dispositions.choices import AddressKind, OutputShape

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Recorded:
    """A recorded decision, its beat rows, and how many beats were held back as performed silence."""

    decision: RecordedDecision
    suppressed: int = 0

    @property
    def decision_id(self) -> int:
        """The decision's id."""
        return self.decision.decision_id


async def record(plan: TurnPlan, draft: Draft, parts: HostParts) -> Recorded | None:
    """Write the decision and the beats the draft will send; None when the message already had its turn."""
    if plan.shape == OutputShape.REACT_ONLY:
        react_to = plan.reading.react_to
        beats = [PlannedBeat(draft.emoji)] if draft.emoji is not None and react_to is not None else []
        target = react_to.id if react_to is not None else ""
        written = await _write(plan, parts, beats=beats, kind=BeatKind.REACTION, target=target)
        return None if written is None else Recorded(written)
    shaped, suppressed = shape_beats(draft.beats, plan.shape)
    reply_to = draft.reply_to.id if draft.reply_to is not None else ""
    written = await _write(plan, parts, beats=shaped, kind=BeatKind.MESSAGE, target=reply_to)
    return None if written is None else Recorded(written, suppressed)


async def record_ended(plan: TurnPlan, outcome: TurnOutcome, parts: HostParts) -> int | None:
    """Write the decision of a turn that sends nothing, with its outcome; the decision id, or None."""
    outcome = replace(outcome, latency_ms=(time.perf_counter() - plan.started) * 1000)
    written = await _write(plan, parts, beats=[], kind=BeatKind.MESSAGE, target="", outcome=outcome)
    if written is None:
        return None
    _ended(plan, written.decision_id, outcome, parts)
    return written.decision_id


async def finish(plan: TurnPlan, decision_id: int, outcome: TurnOutcome, parts: HostParts) -> None:
    """Write how a recorded turn ended, with the beats the platform accepted."""
    outcome = replace(outcome, latency_ms=(time.perf_counter() - plan.started) * 1000)
    await parts.port.finish(decision_id, outcome, folded_platform=parts.adapter.platform)
    _ended(plan, decision_id, outcome, parts)


async def _write(
    plan: TurnPlan,
    parts: HostParts,
    *,
    beats: list[PlannedBeat],
    kind: BeatKind,
    target: str,
    outcome: TurnOutcome | None = None,
) -> RecordedDecision | None:
    try:
        written = await parts.port.record_decision(
            plan,
            beats=beats,
            beat_kind=kind,
            platform=parts.adapter.platform,
            target_message_id=target,
            outcome=outcome,
        )
    except IntegrityError:
        # The database's one-turn-per-message (and per-trigger) constraint: another delivery got here first.
        request = plan.request
        what = f"message {request.answered.message.id}" if request.reactive else f"trigger {request.trigger_id}"
        logger.info("%s already had its turn; not giving it twice", what)
        return None
    _announce(plan, written.decision_id, parts)
    return written


def _announce(plan: TurnPlan, decision_id: int, parts: HostParts) -> None:
    moment = plan.reading.moment
    routing = plan.routing
    top = sorted(routing.scores, key=lambda row: row.score, reverse=True)[:3]
    logger.info(
        "decision %s in %s (%s, address %s): %s -> %s, top %s",
        decision_id,
        plan.request.channel.id,
        moment.trigger,
        moment.address_kind if moment.addressed else "none",
        routing.chosen.slug,
        routing.chosen.output_shape,
        ", ".join(f"{row.slug}={row.score:.2f}" for row in top),
    )
    parts.decision_made(
        DecisionMade(
            decision_id=decision_id,
            channel_id=plan.request.channel.id,
            channel_name=plan.request.channel.name,
            chosen_slug=routing.chosen.slug,
            output_shape=routing.chosen.output_shape,
            address_kind=moment.address_kind if moment.addressed else AddressKind.NONE,
            top=tuple(ScoredOption(row.slug, row.score, row.probability) for row in top),
            gates=routing.gates,
            trigger=str(plan.request.trigger),
            previous_decision_id=plan.request.previous.decision_id if plan.request.previous is not None else None,
        )
    )


def _ended(plan: TurnPlan, decision_id: int, outcome: TurnOutcome, parts: HostParts) -> None:
    if outcome.end == Ending.ERROR:
        logger.error("turn of decision %s ended silent after an error: %s", decision_id, outcome.error)
    else:
        logger.info(
            "turn of decision %s ended: %s (%s beats, %.0f ms)",
            decision_id,
            outcome.end,
            outcome.beats,
            outcome.latency_ms,
        )
    parts.turn_ended(Ended(decision_id, plan.request.channel.id, outcome.end, outcome.error))
