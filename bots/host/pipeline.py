"""A turn, top to bottom. Each step is a stage module of `bots.host.stages`, taking one value, returning the next.

    InboundMessage --intake--> Taken --fragments, lane--> TurnRequest
      --gates--> Passed --reading--> Reading --routing--> TurnPlan --delegate--> TurnPlan --research--> TurnPlan
      --compose--> Draft --recheck--> Draft --record--> Recorded --hand off--> --deliver--> Delivered
      --finish--> TurnOutcome

Where later steps attach (see docs/architecture.md, "Extension points"):
- before `compose`: a goal-shaped request read for a task worker (`delegate`), then research fan-out
  (`research`), which adds material to the plan;
- after `record`: the delegated task and its reactor trigger (`delegate.hand_off`), before the
  acknowledgement is sent;
- after `finish`: follow-up scheduling (`followup`) and moment extraction, which read the outcome;
- `take_turn` with an unprompted TurnRequest: turns the reactor starts enter at `reading`, skipping the gates
  of an inbound message.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import replace

from bots.host.choices import Ending, RecheckOutcome
from bots.host.parts import HostParts
from bots.host.stages import (
    compose,
    delegate,
    deliver,
    followup,
    gates,
    reading,
    recheck,
    record,
    research,
    routing,
    toolcalls,
)
from bots.host.values import (
    TurnOutcome,
    TurnPlan,
    TurnRequest,
    outcome_with_delivery,
    outcome_with_draft,
    outcome_with_goal,
    outcome_with_research,
    outcome_with_task,
)
from dispositions.choices import OutputShape
from dit_project import logcontext

logger = logging.getLogger(__name__)


async def take_turn(request: TurnRequest, parts: HostParts) -> int | None:
    """Give one turn; the id of its decision, or None when it ended before the router was asked."""
    channel = request.channel
    guild_id = channel.guild.id if channel.guild is not None else None
    # Every line logged during the turn (and an error it captures) names its guild, channel and trigger.
    with logcontext.bind(guild_id=guild_id, channel_id=channel.id, trigger_id=request.trigger_id):
        return await _take_turn(request, parts)


async def _take_turn(request: TurnRequest, parts: HostParts) -> int | None:
    started = time.perf_counter()
    if request.reactive:
        passed = await gates.check(request, parts)  # mute requests, muted channels, other bots
        if passed is None:
            return None
        request = passed.request
        moment = await reading.read_reactive(passed, parts)  # the channel around the turn: router inputs
        outcome = replace(
            TurnOutcome.begin(request),
            mute_lifted=True if passed.mute_lifted else None,
            late_address_of=moment.late_address_of,
            reading=moment.details,
        )
    else:
        moment = await reading.read_unprompted(request, parts)
        outcome = replace(TurnOutcome.begin(request), reading=moment.details)
    plan = await routing.route(request, moment, parts, started=started)  # the disposition, with its seed
    if plan.silent:
        return await record.record_ended(plan, outcome, parts)
    return await _speak(plan, outcome, parts)


async def _speak(plan: TurnPlan, outcome: TurnOutcome, parts: HostParts) -> int | None:
    recorded: record.Recorded | None = None
    try:
        plan = await delegate.recognise(plan, parts)  # a goal-shaped request: acknowledged now, worked on later
        outcome = outcome_with_goal(outcome, plan.goal)
        plan = await research.research(plan, parts)  # the disposition's research personas, in parallel
        outcome = outcome_with_research(outcome, plan.research)
        draft = await compose.compose(plan, parts)  # context within the boundary, then the synthesizer
        outcome = outcome_with_draft(outcome, draft)
        if not draft.ok:
            return await record.record_ended(plan, replace(outcome, end=Ending.ERROR, error=draft.error), parts)
        if plan.shape == OutputShape.REACT_ONLY and (draft.emoji is None or plan.reading.react_to is None):
            return await record.record_ended(plan, replace(outcome, error="nothing to react to"), parts)
        draft = await recheck.recheck(plan, draft, parts)  # the channel again, just before sending
        outcome = outcome_with_draft(outcome, draft)
        if draft.recheck == RecheckOutcome.STALE:
            return await record.record_ended(plan, replace(outcome, end=Ending.STALE), parts)
        recorded = await record.record(plan, draft, parts)  # the decision with the beats it will send
        if recorded is None:
            return None
        logcontext.annotate(decision_id=recorded.decision_id)
        task_id = await delegate.hand_off(plan, recorded, parts)  # the task and its trigger, before the ack goes out
        outcome = outcome_with_task(outcome, task_id)
        await toolcalls.store(plan, draft, recorded, parts)  # what the synthesizer looked up, with the decision
        delivered = await deliver.deliver(plan, draft, recorded, parts)  # beats to the platform
        outcome = replace(outcome_with_delivery(outcome, delivered.delivery), bot_chain=delivered.bot_chain)
        outcome = replace(outcome, end=_ending(plan, outcome))
        await record.finish(plan, recorded.decision_id, outcome, parts)  # the outcome, with the beats sent
        await followup.follow_up(plan, recorded, outcome, parts)  # the disposition's self-followup, if rolled
        return recorded.decision_id
    except asyncio.CancelledError:
        cancelled = replace(outcome, end=Ending.CANCELLED, error="cancelled while draining")
        await asyncio.shield(_end_anyway(plan, recorded, cancelled, parts))
        raise
    except Exception as exc:
        logger.exception("turn in channel %s failed", plan.request.channel.id)
        failed = replace(outcome, end=Ending.ERROR, error=f"{type(exc).__name__}: {exc}")
        return await _end_anyway(plan, recorded, failed, parts)


def _ending(plan: TurnPlan, outcome: TurnOutcome) -> Ending:
    dispatch = outcome.dispatch or {}
    if plan.shape == OutputShape.REACT_ONLY:
        return Ending.REACTED if dispatch.get("reaction") else Ending.ERROR
    if outcome.beats:
        return Ending.SPOKE
    return Ending.ERROR if dispatch.get("error") else Ending.SILENT


async def _end_anyway(
    plan: TurnPlan, recorded: record.Recorded | None, outcome: TurnOutcome, parts: HostParts
) -> int | None:
    """Record how a turn that failed or was cancelled ended, whether or not its decision was written yet."""
    if recorded is None:
        return await record.record_ended(plan, outcome, parts)
    await record.finish(plan, recorded.decision_id, outcome, parts)
    return recorded.decision_id
