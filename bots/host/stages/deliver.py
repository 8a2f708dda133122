"""Delivering: the recorded beats to the platform, through the dispatcher and the turn's interruption policy.

A reaction is added once; messages go out in order, a burst watching the channel between beats (see
`bots.host.interruption.BurstWatch`). Answering another bot counts towards the reply-chain limits.
"""

from __future__ import annotations

from dataclasses import dataclass

from bots.host.interruption import BurstWatch
from bots.host.parts import HostParts
from bots.host.stages.record import Recorded
from bots.host.values import Delivery, Draft, TurnPlan
from dispositions.choices import OutputShape


@dataclass(frozen=True, slots=True)
class Delivered:
    """What went out, and the bot-to-bot chain length when the turn answered another bot."""

    delivery: Delivery
    bot_chain: int | None = None


async def deliver(plan: TurnPlan, draft: Draft, recorded: Recorded, parts: HostParts) -> Delivered:
    """Send what the decision recorded."""
    request = plan.request
    rows = recorded.decision.beats
    if plan.shape == OutputShape.REACT_ONLY:
        target = plan.reading.react_to
        # The pipeline records a reaction only with its target and its one beat.
        assert target is not None  # noqa: S101
        assert rows  # noqa: S101
        return Delivered(await parts.dispatcher.react(beat=rows[0], target=target))
    watch = BurstWatch(
        channel=request.channel,
        ledger=parts.ledger,
        presence=parts.presence,
        turn_message_ids=frozenset(request.message_ids),
        synthesize=parts.synthesize,
        base=draft.request,
    )
    delivery = await parts.dispatcher.send(
        channel=request.channel,
        rows=rows,
        suppressed=recorded.suppressed,
        reply_to=draft.reply_to,
        policy=watch,
    )
    chain: int | None = None
    if request.reactive and request.answered.author.is_bot and delivery.sent and parts.limiter is not None:
        chain = await parts.limiter.replied(request.channel.id)
    return Delivered(delivery, chain)
