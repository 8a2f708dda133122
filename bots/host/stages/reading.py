"""Reading the channel: the router's moment, the context scope, and whom the turn answers.

One read of the transcript (the channel's latest messages and the rest of the guild's) gives the router
its inputs (activity, lull, who is around, when the bot last spoke and was last addressed, the exchange
people are having among themselves, questions left to the room, an argument, a joke that landed, budget
left) and the live context its window. The turn's own words give the rest: what a question asks for, an
announcement, good news, the register, threat signals. A bare nudge ("@bot ^^") points back to the nudger's
own unanswered question, which the turn then answers instead; an asker bumping a question left to the room
("anyone?") gets that question answered. A member's familiarity and the guild's quiet hours come from the
port's caches (a query only the first time a process meets the member, or after quiet hours change).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime

from django.utils import timezone

from bots.adapters.base import ChannelKind, ChannelRef, MessageRef
from bots.host.cues import asks_something, has_new_content, is_good_news, question_kind
from bots.host.heat import is_heated
from bots.host.lines import line_for_item, line_for_message
from bots.host.parts import HostParts
from bots.host.readings import ChannelSignals, QuestionWindow, channel_signals, find_late_question, joke_laughed_at
from bots.host.register import RegisterReading, gateway_register_classifier, read_register
from bots.host.stages.gates import Passed
from bots.host.threat import ThreatReading, recent_from, sender_threat
from bots.host.values import Reading, ThreatUpdate, TurnRequest
from dispositions.choices import Register, TriggerKind
from dispositions.specs import Moment
from dispositions.synthesis import ConversationLine
from memory.context import ContextScope
from memory.forgetting import is_forget_request
from memory.live import LiveItem
from steward.security import duplicates_of, is_new_account

logger = logging.getLogger(__name__)

_NOTES: dict[str, str] = {
    Register.DISTRESS: (
        "They are sharing something painful: be plain and kind. No jokes, no teasing, no advice nobody asked for."
    ),
    Register.GRATITUDE: "They are thanking you: a short, warm acknowledgement is enough.",
    Register.TEASE_INVITE: "They asked to be teased: a light roast is welcome, never cruel.",
    Register.HOSTILE: "They are hostile toward you: do not rise to it; stay brief and calm.",
}
SLEEPY_NOTE = "It is the middle of the night for this server and you are half asleep: a few drowsy words at most."
CELEBRATION_NOTE = "Good news, or a joke that landed: share the moment briefly."
FORGET_NOTE = (
    "The person you are answering asked you to forget what you know about them. It is being done: what memory "
    "kept about them here is deleted and their words are redacted. Say so briefly, and do not repeat anything "
    "about them."
)


@dataclass(frozen=True, slots=True)
class _Answering:
    """Which message the turn answers and what question (if any) it is answering."""

    lines: tuple[ConversationLine, ...]
    reply_to: MessageRef | None
    question_text: str
    late_address_of: str | None = None
    already_answered: bool = False
    open_question: LiveItem | None = None


def question_window(parts: HostParts) -> QuestionWindow:
    """How long questions left to the room wait for people, and when they go stale (the bot's settings)."""
    config = parts.config
    return QuestionWindow(config.question_wait_seconds, config.question_stale_minutes * 60.0)


async def read_reactive(passed: Passed, parts: HostParts) -> Reading:
    """The moment around a reactive turn, and the message (or earlier question) it answers."""
    request = passed.request
    answered = request.answered
    presence = parts.presence
    identity = presence.identity
    assert identity is not None  # noqa: S101 - turns are only taken after the first session is ready
    config = parts.config
    recent = await parts.port.recent(guild_id=request.guild_id, channel_id=request.channel.id, is_dm=answered.is_dm)
    items = list(recent.channel)
    now = timezone.now()
    addressed = request.address.addressed
    turn_ids = set(request.message_ids)
    signals = channel_signals(
        items,
        turn_message_ids=turn_ids,
        own_user_ids=presence.own_user_ids,
        now=now,
        names=identity.names,
        questions=question_window(parts),
    )
    target = _what_it_answers(passed, parts, items, signals, now)
    sender_is_bot = answered.author.is_bot
    register = await _register(passed, parts)
    joke = joke_laughed_at(items, turn_message_ids=turn_ids, author_id=answered.author.id, text=request.text, now=now)
    celebration = joke is not None or (is_good_news(request.text) and register.register != Register.DISTRESS)
    familiarity = await parts.port.familiarity(
        guild_id=request.guild_id, channel_id=request.channel.id, author_id=answered.author.id
    )
    # The count includes the turn's own messages (stored before this read): "seen before" leaves them out.
    seen = max(0, familiarity.messages - len(request.messages))
    first_seen = familiarity.first_seen if seen else None
    mentioned = {uid for m in request.messages for uid in m.mentioned_user_ids if uid}
    threat = sender_threat(
        text=passed.stripped,
        addressed=addressed,
        mentioned=mentioned,
        recent_messages=recent_from(items, author_id=answered.author.id, now=now, seconds=config.flood_seconds),
        mass_mentions=config.mass_mentions,
        flood_messages=config.flood_messages,
        duplicates=duplicates_of(request.text, [i.content for i in items if i.author_id == answered.author.id]),
        new_account=is_new_account(answered.author.created_at, now=now),
        standing=familiarity.standing,
        now=now,
    )
    asleep = await _asleep(parts, request.guild_id, now)
    moment = Moment(
        trigger=TriggerKind.REACTIVE,
        message_text=request.text[:2000],
        addressed=addressed,
        address_kind=request.address.kind,
        said_to_someone_else=request.address.others_targeted,
        question_detected=asks_something(target.question_text),
        unanswered_questions=signals.unanswered_questions,
        activity_per_minute=signals.activity_per_minute,
        lull_seconds=signals.lull_seconds,
        present_users=signals.present_users,
        seconds_since_bot_spoke=signals.seconds_since_bot_spoke,
        heated_disagreement=is_heated(items, now=now),
        sender_threat_score=threat.score,
        sender_is_bot=sender_is_bot,
        bot_chain_allowed=sender_is_bot and answered.author.id in config.allowed_bots,
        budget_remaining=await parts.port.budget_fraction(request.guild_id),
        asleep=asleep,
        unprompted_muted=False,
        is_dm=answered.is_dm,
        question_kind=question_kind(target.question_text),
        announcement=any(m.mentions_everyone or m.mentions_here for m in request.messages) and not addressed,
        celebration=celebration,
        register=register.register,
        already_answered=target.already_answered,
        sender_messages_seen=seen,
        sender_first_seen_seconds=_seconds_since(first_seen, now),
        exchange_messages=signals.exchange_messages,
        exchange_humans=signals.exchange_humans,
        seconds_since_addressed=signals.seconds_since_addressed,
    )
    scope = ContextScope(
        guild_id=request.guild_id,
        channel_id=request.channel.id,
        is_dm=answered.is_dm,
        requester_id=answered.author.id,
        present_user_ids=frozenset(signals.present_users) if not answered.is_dm else frozenset(),
        recent=recent,
    )
    moment, scope = await _with_memory(moment, scope, target.question_text, parts)
    note = _note(moment)
    if request.address.addressed and request.guild_id and is_forget_request(passed.stripped):
        await parts.port.request_forget(guild_id=request.guild_id, user_id=answered.author.id)
        logger.info("member %s asked to be forgotten in guild %s", answered.author.id, request.guild_id)
        note = FORGET_NOTE
    details: dict[str, object] = {"register": register.as_dict()}
    if threat.signals:
        details["threat"] = list(threat.signals)
    if joke is not None:
        details["joke"] = joke.message_id
    if target.open_question is not None:
        details["open_question"] = target.open_question.message_id
    return Reading(
        moment=moment,
        scope=scope,
        answering=target.lines,
        reply_to=target.reply_to,
        react_to=MessageRef(channel=request.channel, id=joke.message_id) if joke is not None else answered.message,
        late_address_of=target.late_address_of,
        note=note,
        details=details,
        threat_update=_threat_update(request, threat, now),
    )


def _threat_update(request: TurnRequest, threat: ThreatReading, now: datetime) -> ThreatUpdate | None:
    """The member's score to store with the decision, when the turn's messages moved it (guilds only)."""
    if not threat.member_signals or not request.guild_id:
        return None
    author = request.answered.author
    return ThreatUpdate(
        guild_id=request.guild_id,
        user_id=author.id,
        display_name=author.display_name,
        points=sum(s.points for s in threat.member_signals),
        score=threat.member_score,
        signals=threat.member_signals,
        scored_at=now,
        message_at=max(m.created_at for m in request.messages),
    )


def _what_it_answers(
    passed: Passed, parts: HostParts, items: list[LiveItem], signals: ChannelSignals, now: datetime
) -> _Answering:
    """The turn's own words, the nudger's earlier question, or the question its asker is bumping."""
    request = passed.request
    answered = request.answered
    identity = parts.presence.identity
    assert identity is not None  # noqa: S101 - turns are only taken after the first session is ready
    own_lines = tuple(line_for_message(m) for m in request.messages)
    if request.address.addressed and not has_new_content(passed.stripped):
        late = find_late_question(
            items,
            author_id=answered.author.id,
            nudge_message_ids=set(request.message_ids),
            own_user_ids=parts.presence.own_user_ids,
            now=now,
            window_seconds=parts.config.late_address_minutes * 60,
            names=identity.names,
        )
        if late is not None and late.answered_by_bot:
            logger.info("message %s pings about %s, answered already", answered.message.id, late.item.message_id)
            return _Answering(own_lines, None, late.item.content, already_answered=True)
        if late is not None:
            logger.info("message %s points back at unanswered question %s", answered.message.id, late.item.message_id)
            return _Answering(
                (line_for_item(late.item),),
                MessageRef(channel=request.channel, id=late.item.message_id),
                late.item.content,
                late_address_of=late.item.message_id,
            )
    if not request.address.addressed and signals.open_questions:
        # Only the asker can be the one speaking after an open question: they are bumping it.
        question = signals.open_questions[-1]
        return _Answering(
            (line_for_item(question), *own_lines),
            MessageRef(channel=request.channel, id=question.message_id),
            question.content,
            open_question=question,
        )
    return _Answering(own_lines, None, passed.stripped)


async def _register(passed: Passed, parts: HostParts) -> RegisterReading:
    classify = None
    if parts.config.register_classifier:
        guild_id = passed.request.guild_id or None
        classify = gateway_register_classifier(bot_id=parts.bot.bot_id, guild_id=guild_id, model=parts.model)
    return await read_register(passed.stripped, classify=classify)


async def _asleep(parts: HostParts, guild_id: str, now: datetime) -> bool:
    hours = await parts.port.quiet_hours(guild_id)
    return hours is not None and hours.covers(now)


def _seconds_since(moment: datetime | None, now: datetime) -> float | None:
    return max(0.0, (now - moment).total_seconds()) if moment is not None else None


def _note(moment: Moment) -> str:
    """What the synthesizer should know about the moment beyond the disposition (night, a loss, thanks...)."""
    notes = []
    if moment.asleep:
        notes.append(SLEEPY_NOTE)
    if moment.register in _NOTES:
        notes.append(_NOTES[moment.register])
    if moment.celebration:
        notes.append(CELEBRATION_NOTE)
    return " ".join(notes)


async def read_unprompted(request: TurnRequest, parts: HostParts) -> Reading:
    """The moment for a turn nobody asked for (speculative, or the bot following up on itself)."""
    channel: ChannelRef = request.channel
    identity = parts.presence.identity
    assert identity is not None  # noqa: S101 - turns are only taken after the first session is ready
    is_dm = channel.kind is ChannelKind.DM
    recent = await parts.port.recent(guild_id=request.guild_id, channel_id=channel.id, is_dm=is_dm)
    items = list(recent.channel)
    now = timezone.now()
    signals = channel_signals(
        items,
        turn_message_ids=set(),
        own_user_ids=parts.presence.own_user_ids,
        now=now,
        names=identity.names,
        questions=question_window(parts),
    )
    question = signals.open_questions[-1] if signals.open_questions else None
    moment = Moment(
        trigger=request.trigger,
        activity_per_minute=signals.activity_per_minute,
        lull_seconds=signals.lull_seconds,
        present_users=signals.present_users,
        seconds_since_bot_spoke=signals.seconds_since_bot_spoke,
        unanswered_questions=signals.unanswered_questions,
        budget_remaining=await parts.port.budget_fraction(request.guild_id),
        asleep=await _asleep(parts, request.guild_id, now),
        unprompted_muted=await parts.port.active_mute(channel.id) is not None,
        is_dm=is_dm,
        followup_bias=request.followup_bias,
        question_kind=question_kind(question.content) if question is not None else "",
        exchange_messages=signals.exchange_messages,
        exchange_humans=signals.exchange_humans,
        seconds_since_addressed=signals.seconds_since_addressed,
    )
    scope = ContextScope(
        guild_id=request.guild_id,
        channel_id=channel.id,
        is_dm=is_dm,
        requester_id=identity.user_id,
        present_user_ids=frozenset(signals.present_users),
        recent=recent,
    )
    moment, scope = await _with_memory(moment, scope, "", parts)
    last = items[-1] if items else None
    react_to = MessageRef(channel=channel, id=last.message_id) if last is not None else None
    note = _previous(request)
    if question is None:
        return Reading(moment=moment, scope=scope, answering=(), reply_to=None, react_to=react_to, note=note)
    # A question left to the room, in the bot's lane, that nobody took up: this turn answers it.
    return Reading(
        moment=moment,
        scope=scope,
        answering=(line_for_item(question),),
        reply_to=MessageRef(channel=channel, id=question.message_id),
        react_to=react_to,
        note=note,
        details={"open_question": question.message_id},
    )


async def _with_memory(
    moment: Moment, scope: ContextScope, message_text: str, parts: HostParts
) -> tuple[Moment, ContextScope]:
    """The router's memory inputs: callback material primed from highlights and facts, and the channel's topic.

    The scope's topic is what the turn is about (the message answered, else what the channel talks about),
    so the strategies that search memory search for it. Memory unreadable is a turn without memory inputs.
    """
    try:
        inputs = await parts.port.memory_inputs(scope=scope, message_text=message_text)
    except Exception:
        logger.exception("memory inputs unavailable in channel %s; routing without them", scope.channel_id)
        return moment, scope
    topic = " ".join(message_text.split()) or inputs.topic.text
    return (
        replace(moment, callback_material=inputs.callback_material),
        replace(scope, topic=topic[:1000]),
    )


def _previous(request: TurnRequest) -> str:
    """For a self-followup: what the bot said before, so it comes back to its own words."""
    previous = request.previous
    if previous is None or not previous.said:
        return ""
    said = " / ".join(" ".join(text.split()) for text in previous.said)[:1500]
    return f"A little while ago you said: {said}. You are coming back to it on your own ({request.followup_bias})."
