"""Reading the channel: the router's moment, the context scope, and whom the turn answers.

One read of the transcript (the channel's latest messages and the rest of the guild's) gives the router
its inputs (activity, lull, who is around, when the bot last spoke, open questions, budget left) and the
live context its window. A bare nudge ("@bot ^^") points back to the nudger's own unanswered question,
which the turn then answers instead.
"""

from __future__ import annotations

import logging

from django.utils import timezone

from bots.adapters.base import ChannelKind, ChannelRef, MessageRef
from bots.host.cues import has_new_content, is_question
from bots.host.lines import line_for_item, line_for_message
from bots.host.parts import HostParts
from bots.host.readings import channel_signals, find_late_question
from bots.host.stages.gates import Passed
from bots.host.values import Reading, TurnRequest
from dispositions.choices import TriggerKind
from dispositions.specs import Moment
from memory.context import ContextScope

logger = logging.getLogger(__name__)


async def read_reactive(passed: Passed, parts: HostParts) -> Reading:
    """The moment around a reactive turn, and the message (or earlier question) it answers."""
    request = passed.request
    answered = request.answered
    presence = parts.presence
    identity = presence.identity
    assert identity is not None  # noqa: S101 - turns are only taken after the first session is ready
    recent = await parts.port.recent(guild_id=request.guild_id, channel_id=request.channel.id, is_dm=answered.is_dm)
    items = list(recent.channel)
    now = timezone.now()
    addressed = request.address.addressed
    answering = tuple(line_for_message(m) for m in request.messages)
    reply_to: MessageRef | None = None
    question_text = passed.stripped
    late_address_of: str | None = None
    if addressed and not has_new_content(passed.stripped):
        late = find_late_question(
            items,
            author_id=answered.author.id,
            nudge_message_ids=set(request.message_ids),
            own_user_ids=presence.own_user_ids,
            now=now,
            window_seconds=parts.config.late_address_minutes * 60,
            names=identity.names,
        )
        if late is not None:
            answering = (line_for_item(late),)
            reply_to = MessageRef(channel=request.channel, id=late.message_id)
            question_text = late.content
            late_address_of = late.message_id
            logger.info("message %s points back at unanswered question %s", answered.message.id, late.message_id)
    signals = channel_signals(
        items, turn_message_ids=set(request.message_ids), own_user_ids=presence.own_user_ids, now=now
    )
    sender_is_bot = answered.author.is_bot
    moment = Moment(
        trigger=TriggerKind.REACTIVE,
        message_text=request.text[:2000],
        addressed=addressed,
        address_kind=request.address.kind,
        said_to_someone_else=request.address.others_targeted,
        question_detected=is_question(question_text),
        unanswered_questions=signals.unanswered_questions,
        activity_per_minute=signals.activity_per_minute,
        lull_seconds=signals.lull_seconds,
        present_users=signals.present_users,
        seconds_since_bot_spoke=signals.seconds_since_bot_spoke,
        sender_is_bot=sender_is_bot,
        bot_chain_allowed=sender_is_bot and answered.author.id in parts.config.allowed_bots,
        budget_remaining=await parts.port.budget_fraction(request.guild_id),
        unprompted_muted=False,
        is_dm=answered.is_dm,
    )
    scope = ContextScope(
        guild_id=request.guild_id,
        channel_id=request.channel.id,
        is_dm=answered.is_dm,
        requester_id=answered.author.id,
        present_user_ids=frozenset(signals.present_users) if not answered.is_dm else frozenset(),
        recent=recent,
    )
    return Reading(
        moment=moment,
        scope=scope,
        answering=answering,
        reply_to=reply_to,
        react_to=answered.message,
        late_address_of=late_address_of,
    )


async def read_unprompted(request: TurnRequest, parts: HostParts) -> Reading:
    """The moment for a turn nobody asked for (speculative, or the bot following up on itself)."""
    channel: ChannelRef = request.channel
    identity = parts.presence.identity
    assert identity is not None  # noqa: S101 - turns are only taken after the first session is ready
    is_dm = channel.kind is ChannelKind.DM
    recent = await parts.port.recent(guild_id=request.guild_id, channel_id=channel.id, is_dm=is_dm)
    items = list(recent.channel)
    signals = channel_signals(
        items, turn_message_ids=set(), own_user_ids=parts.presence.own_user_ids, now=timezone.now()
    )
    moment = Moment(
        trigger=request.trigger,
        activity_per_minute=signals.activity_per_minute,
        lull_seconds=signals.lull_seconds,
        present_users=signals.present_users,
        seconds_since_bot_spoke=signals.seconds_since_bot_spoke,
        unanswered_questions=signals.unanswered_questions,
        budget_remaining=await parts.port.budget_fraction(request.guild_id),
        unprompted_muted=await parts.port.active_mute(channel.id) is not None,
        is_dm=is_dm,
        followup_bias=request.followup_bias,
    )
    scope = ContextScope(
        guild_id=request.guild_id,
        channel_id=channel.id,
        is_dm=is_dm,
        requester_id=identity.user_id,
        present_user_ids=frozenset(signals.present_users),
        recent=recent,
    )
    last = items[-1] if items else None
    react_to = MessageRef(channel=channel, id=last.message_id) if last is not None else None
    return Reading(moment=moment, scope=scope, answering=(), reply_to=None, react_to=react_to, note=_previous(request))


def _previous(request: TurnRequest) -> str:
    """For a self-followup: what the bot said before, so it comes back to its own words."""
    previous = request.previous
    if previous is None or not previous.said:
        return ""
    said = " / ".join(" ".join(text.split()) for text in previous.said)[:1500]
    return f"A little while ago you said: {said}. You are coming back to it on your own ({request.followup_bias})."
