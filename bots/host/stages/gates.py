"""Gates: what ends a reactive turn before the router is asked.

A message that tells the bot to be quiet mutes its channel (and is acknowledged with an emoji): one addressed
to the bot, or one right after the bot spoke that asks it in so many words; a muted channel starts no turn
unless the bot is addressed, which lifts the mute; another bot is answered only within the reply-chain
limits. A turn a gate ends has no decision; its messages are settled with the reason.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from bots.adapters.base import AdapterError, InboundMessage
from bots.host.choices import Ending, MuteSource
from bots.host.cues import strip_address
from bots.host.lines import stored_platform
from bots.host.mutes import gateway_mute_classifier, read_mute_request
from bots.host.observers import Ended
from bots.host.parts import HostParts
from bots.host.values import TurnRequest

logger = logging.getLogger(__name__)

MUTE_ACK_EMOJI = "🤐"


@dataclass(frozen=True, slots=True)
class Passed:
    """A reactive turn that passed its gates: its words without the bot's names, and what the gates did."""

    request: TurnRequest
    stripped: str
    mute_lifted: bool = False


async def check(request: TurnRequest, parts: HostParts) -> Passed | None:
    """Run the gates of a reactive turn; None when the turn ends here."""
    live = tuple(m for m in request.messages if not parts.ledger.is_consumed(m.message.id))
    if not live:
        # Every fragment was folded into another turn meanwhile, which settles them.
        return None
    if len(live) != len(request.messages):
        request = replace(request, messages=live)
    identity = parts.presence.identity
    assert identity is not None  # noqa: S101 - turns are only taken after the first session is ready
    addressed = request.address.addressed
    stripped = strip_address(request.text, names=identity.names, bot_user_id=identity.user_id)
    muted_until = await parts.port.active_mute(request.channel.id)
    if (addressed or _right_after_the_bot(request, parts)) and await _mute_request(
        request, stripped, parts, addressed=addressed
    ):
        return None
    answered = request.answered
    if muted_until is not None:
        if not addressed:
            logger.info("channel %s is muted: message %s starts no turn", request.channel.id, answered.message.id)
            await parts.port.settle(request.message_ids, platform=answered.platform, reason="channel muted")
            return None
        await parts.port.lift_mutes(
            channel_id=request.channel.id, lifted_by=_who(answered), reason="addressed the bot again"
        )
        return Passed(request, stripped, mute_lifted=True)
    if answered.author.is_bot and parts.limiter is not None and not answered.is_dm:
        chain = await parts.limiter.check(request.channel.id)
        if not chain.allowed:
            logger.info("not answering bot %s in %s: %s", answered.author.id, request.channel.id, chain.reason)
            await parts.port.settle(request.message_ids, platform=answered.platform, reason=chain.reason)
            return None
    return Passed(request, stripped)


def _right_after_the_bot(request: TurnRequest, parts: HostParts) -> bool:
    """Whether the turn's first message came straight after one of the bot's in its channel (said to it, likely)."""
    previous = parts.ledger.before(request.channel.id, request.messages[0].message.id)
    return previous is not None and previous.is_own


async def _mute_request(request: TurnRequest, stripped: str, parts: HostParts, *, addressed: bool) -> bool:
    """Whether the message is a request to be quiet; if so the channel is muted and the request acknowledged."""
    config = parts.config
    classify = parts.classify_mute
    if classify is None and config.mute_classifier:
        classify = gateway_mute_classifier(
            bot_id=parts.bot.bot_id, guild_id=request.channel.guild_id or None, model=parts.model
        )
    reading = await read_mute_request(stripped, config=config, classify=classify, addressed=addressed)
    if not reading.mute or config.mute_minutes <= 0:
        return False
    answered = request.answered
    await parts.port.create_mute(
        platform=stored_platform(answered.platform),
        guild_id=request.channel.guild_id,
        channel_id=request.channel.id,
        source=reading.source or MuteSource.PHRASE,
        reason=request.text[:500],
        muted_by=_who(answered),
        message_id=answered.message.id,
        minutes=config.mute_minutes,
    )
    await parts.port.settle(request.message_ids, platform=answered.platform, reason="asked the bot to be quiet")
    try:
        await parts.adapter.react(answered.message, MUTE_ACK_EMOJI)
    except AdapterError as exc:
        logger.warning("could not acknowledge the mute in %s: %s", request.channel.id, exc.message)
    parts.turn_ended(Ended(None, request.channel.id, Ending.SILENT, f"muted ({reading.matched})"))
    return True


def _who(message: InboundMessage) -> str:
    """A member as the mute log names them: display name and stable id."""
    return f"{message.author.display_name or message.author.id} (u:{message.author.id})"
