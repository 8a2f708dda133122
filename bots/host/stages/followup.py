"""Following up on itself: after a turn that said something, its disposition's follow-up hint is rolled.

The roll uses the decision's seed, so it replays; most turns have no hint or miss the roll, and cost
nothing more. When it lands, a self-followup is scheduled with the reactor (`bots.followups`): evaluated
later against the channel (a human replied, the topic moved on, someone is mid-thought) and then fired as
a turn of its own, or let go.
"""

from __future__ import annotations

import logging

from bots.followups import FinishedTurn
from bots.host.observers import FollowupScheduled
from bots.host.parts import HostParts
from bots.host.stages.record import Recorded
from bots.host.values import TurnOutcome, TurnPlan
from dispositions.choices import OutputShape, TriggerKind
from dispositions.followups import roll_followup

logger = logging.getLogger(__name__)


async def follow_up(plan: TurnPlan, recorded: Recorded, outcome: TurnOutcome, parts: HostParts) -> None:
    """Schedule the turn's self-followup when its hint's roll lands (never for a follow-up itself)."""
    hint = plan.chosen.followup_hint
    request = plan.request
    if (
        hint is None
        or not parts.followups.enabled
        or request.trigger == TriggerKind.SELF_FOLLOWUP
        or plan.shape == OutputShape.REACT_ONLY
        or not outcome.sent_beats
    ):
        return
    roll = roll_followup(hint, seed=plan.routing.seed)
    if not roll.lands:
        return
    turn = FinishedTurn(
        decision_id=recorded.decision_id,
        bot_id=parts.bot.bot_id,
        guild_id=request.guild_id,
        channel_id=request.channel.id,
        trigger_kind=request.trigger,
        seed=plan.routing.seed,
        hint=hint,
        bot_message_ids=tuple(mid for beat in outcome.sent_beats for mid in beat.message_ids),
        said=tuple(beat.text for beat in recorded.decision.beats),
        answered_message_id=request.answered.message.id if request.reactive else "",
        answered_text=request.text if request.reactive else "",
    )
    try:
        scheduled = await parts.port.schedule_followup(turn, config=parts.followups)
    except Exception:
        # The turn has been given; a follow-up that cannot be scheduled is logged, never the turn's failure.
        logger.exception("decision %s: the self-followup could not be scheduled", recorded.decision_id)
        return
    if scheduled is not None:
        parts.followup_scheduled(
            FollowupScheduled(
                decision_id=recorded.decision_id,
                channel_id=request.channel.id,
                channel_name=request.channel.name,
                bias=roll.bias,
                delay_seconds=roll.delay_seconds,
            )
        )
