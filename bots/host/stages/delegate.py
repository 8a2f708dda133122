"""Delegating: a goal-shaped request addressed to the bot is acknowledged in the turn and done by a task worker.

The turn never runs the work. `recognise` (before research and compose) reads an addressed message that
speaks in words: no goal cue, nothing happens and nothing is spent (`bots.host.goals`); with one, the parser
says task, chat or ambiguous. A task: the synthesizer is told to acknowledge it ("on it, I'll post it
here") without tools or research; ambiguous: to ask the parser's clarifying question, and no task; chat, or
a reply the parser could not read (its error kept on the outcome): a normal turn.

`hand_off` (once the decision is recorded, before the acknowledgement is sent) writes the `TaskRun` and its
reactor trigger in one transaction, so a decision that lost the race for its message delegates nothing, and
a task is never left without the trigger that runs it. The worker is `bots.task_workers`.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from decimal import Decimal

from bots.host.cues import strip_address
from bots.host.goals import goal_cue, read_goal
from bots.host.parts import HostParts
from bots.host.stages.record import Recorded
from bots.host.values import TurnPlan
from bots.task_workers import TaskLimits
from dispositions.choices import OutputShape

logger = logging.getLogger(__name__)

# Shapes that answer in words: a reaction cannot acknowledge a task or ask a question.
_WORDS = frozenset({OutputShape.SINGLE_LINE, OutputShape.MULTI_LINE, OutputShape.BURST})

ACK_NOTE = (
    "They asked you to do a piece of work: {goal}. You have taken it on and will post the result here when it "
    "is done. Say so in a short line in your voice; do not do the work or answer it now."
)
ASK_NOTE = "Before taking their request on, ask them this, briefly and in your voice: {question}"


async def recognise(plan: TurnPlan, parts: HostParts) -> TurnPlan:
    """The plan with its goal reading (and the synthesizer's note) when the request is goal-shaped."""
    request = plan.request
    identity = parts.presence.identity
    if (
        not parts.config.task_workers
        or not request.reactive
        or not request.address.addressed
        or plan.shape not in _WORDS
        or identity is None
    ):
        return plan
    text = strip_address(request.text, names=identity.names, bot_user_id=identity.user_id)
    cue = goal_cue(text)
    if cue is None:
        return plan
    goal = await read_goal(
        text, cue=cue, client=parts.model, bot_id=parts.bot.bot_id, guild_id=request.guild_id or None
    )
    if goal.error:
        logger.warning("message %s looked like a task, but %s", request.answered.message.id, goal.error)
    if not (goal.goal or goal.question):
        return replace(plan, goal=goal)
    note = ACK_NOTE.format(goal=goal.goal) if goal.goal else ASK_NOTE.format(question=goal.question)
    reading = plan.reading
    return replace(plan, goal=goal, reading=replace(reading, note=f"{reading.note}\n{note}".strip()))


async def hand_off(plan: TurnPlan, recorded: Recorded, parts: HostParts) -> int | None:
    """Write the task of a turn that delegates (with its trigger); its id, or None when the turn delegates none."""
    goal = plan.goal
    if goal is None or not plan.delegates:
        return None
    request = plan.request
    config = parts.config
    task_id = await parts.port.delegate_task(
        decision_id=recorded.decision_id,
        guild_id=request.guild_id,
        channel_id=request.channel.id,
        goal=goal.goal,
        limits=TaskLimits(
            max_steps=config.task_max_steps,
            max_seconds=config.task_max_seconds,
            max_cost_usd=Decimal(str(config.task_max_cost_usd)),
        ),
        requested_by=request.answered.author.id,
        request_message_id=request.answered.message.id,
    )
    logger.info("decision %s delegated task %s", recorded.decision_id, task_id)
    return task_id
