"""Router inputs read from a channel's recent transcript: activity, lull, who is around, when the bot spoke and
was last addressed, the exchange people are having among themselves, questions left to the room, the joke a
laugh answers, and the earlier question a bare nudge ("@bot ^^") points back to.

Pure functions over memory's live items, so each reading is tested on its own.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from bots.host.addressing import names_the_bot
from bots.host.cues import (
    LANE_KINDS,
    has_new_content,
    is_laughter,
    is_question,
    put_to_the_room,
    question_kind,
    strip_address,
)
from memory.live import LiveItem

ACTIVITY_WINDOW_SECONDS = 300.0
PRESENCE_WINDOW_SECONDS = 600.0
NO_PREVIOUS_MESSAGE_LULL = 86400.0
MAX_UNANSWERED = 3
JOKE_MAX_WORDS = 30
JOKE_MAX_AGE_SECONDS = 120.0


@dataclass(frozen=True, slots=True)
class QuestionWindow:
    """When a question put to the room may be taken up by the bot: after people had `wait` seconds, until `stale`."""

    wait_seconds: float
    stale_seconds: float


@dataclass(frozen=True, slots=True)
class ChannelSignals:
    """What the channel looks like around a turn."""

    activity_per_minute: float
    lull_seconds: float
    present_users: tuple[str, ...]
    seconds_since_bot_spoke: float | None
    unanswered_questions: int
    exchange_messages: int = 0
    exchange_humans: int = 0
    seconds_since_addressed: float | None = None
    open_questions: tuple[LiveItem, ...] = ()


def channel_signals(
    items: Sequence[LiveItem],
    *,
    turn_message_ids: Collection[str],
    own_user_ids: Collection[str],
    now: datetime,
    names: Collection[str] = (),
    questions: QuestionWindow | None = None,
) -> ChannelSignals:
    """Signals from the channel's recent messages (oldest first), the turn's own messages set apart."""
    recent = [i for i in items if (now - i.created_at).total_seconds() <= ACTIVITY_WINDOW_SECONDS]
    activity = len(recent) / (ACTIVITY_WINDOW_SECONDS / 60.0)
    first_turn = next((i for i in items if i.message_id in turn_message_ids), None)
    before = [i for i in items if i.message_id not in turn_message_ids]
    if first_turn is not None:
        before = [i for i in before if (i.created_at, i.seq) < (first_turn.created_at, first_turn.seq)]
    moment = first_turn.created_at if first_turn is not None else now
    lull = (moment - before[-1].created_at).total_seconds() if before else NO_PREVIOUS_MESSAGE_LULL
    present: list[str] = []
    for item in reversed(items):
        if item.author_is_bot or (now - item.created_at).total_seconds() > PRESENCE_WINDOW_SECONDS:
            continue
        if item.author_id not in present:
            present.append(item.author_id)
    own = [i for i in items if i.author_id in own_user_ids]
    since_bot = (now - own[-1].created_at).total_seconds() if own else None
    after_bot = items[items.index(own[-1]) + 1 :] if own else list(items)
    exchange = [
        i for i in after_bot if not i.author_is_bot and (now - i.created_at).total_seconds() <= ACTIVITY_WINDOW_SECONDS
    ]
    open_questions = room_questions(items, own_user_ids=own_user_ids, now=now, window=questions, names=names)
    return ChannelSignals(
        activity_per_minute=round(activity, 3),
        lull_seconds=max(0.0, lull),
        present_users=tuple(present),
        seconds_since_bot_spoke=max(0.0, since_bot) if since_bot is not None else None,
        unanswered_questions=min(len(open_questions), MAX_UNANSWERED),
        exchange_messages=len(exchange),
        exchange_humans=len({i.author_id for i in exchange}),
        seconds_since_addressed=since_addressed(
            items, turn_message_ids=turn_message_ids, own_user_ids=own_user_ids, names=names, now=now
        ),
        open_questions=open_questions,
    )


def addresses_the_bot(item: LiveItem, *, own_user_ids: Collection[str], names: Collection[str]) -> bool:
    """Whether a stored message mentioned one of our bots, replied to one, or named it."""
    return (
        any(uid in own_user_ids for uid in item.mentions)
        or item.reply_to_author_id in own_user_ids
        or bool(names and names_the_bot(item.content, names))
    )


def since_addressed(
    items: Sequence[LiveItem],
    *,
    turn_message_ids: Collection[str],
    own_user_ids: Collection[str],
    names: Collection[str],
    now: datetime,
) -> float | None:
    """Seconds since someone last addressed the bot in the channel before this turn (None: not in this read)."""
    for item in reversed(items):
        if item.message_id in turn_message_ids or item.author_is_bot:
            continue
        if addresses_the_bot(item, own_user_ids=own_user_ids, names=names):
            return max(0.0, (now - item.created_at).total_seconds())
    return None


def room_questions(
    items: Sequence[LiveItem],
    *,
    own_user_ids: Collection[str],
    now: datetime,
    window: QuestionWindow | None,
    names: Collection[str] = (),
) -> tuple[LiveItem, ...]:
    """Questions left to the room that the bot may take up, oldest first.

    A question counts when it was put to the room ("anyone know...") or asked with nobody else in the
    conversation, is in the bot's lane (a fact or an explanation), was said to no one in particular, has had
    `window.wait_seconds` for people to answer and is not yet stale, and nobody but its asker has spoken since
    (another person speaking is someone taking it up, or the conversation moving on).
    """
    if window is None:
        return ()
    found: list[LiveItem] = []
    for index, item in enumerate(items):
        age = (now - item.created_at).total_seconds()
        if item.author_is_bot or not window.wait_seconds <= age <= window.stale_seconds:
            continue
        if item.reply_to_author_id or item.mentions or addresses_the_bot(item, own_user_ids=own_user_ids, names=names):
            continue
        text = item.content
        if not is_question(text) or question_kind(text) not in LANE_KINDS:
            continue
        later = items[index + 1 :]
        if any(other.author_id != item.author_id for other in later):
            continue
        before = [
            other
            for other in items[:index]
            if not other.author_is_bot
            and other.author_id != item.author_id
            and (item.created_at - other.created_at).total_seconds() <= ACTIVITY_WINDOW_SECONDS
        ]
        if before and not put_to_the_room(text):
            continue
        found.append(item)
    return tuple(found)


def joke_laughed_at(
    items: Sequence[LiveItem], *, turn_message_ids: Collection[str], author_id: str, text: str, now: datetime
) -> LiveItem | None:
    """The one-liner someone else posted just before, when the turn only laughs at it ("😂😂😂", "lmao")."""
    if not is_laughter(text):
        return None
    before = [i for i in items if i.message_id not in turn_message_ids]
    if not before:
        return None
    joke = before[-1]
    if joke.author_id == author_id or joke.author_is_bot or is_question(joke.content) or is_laughter(joke.content):
        return None
    if len(joke.content.split()) > JOKE_MAX_WORDS or (now - joke.created_at).total_seconds() > JOKE_MAX_AGE_SECONDS:
        return None
    return joke


@dataclass(frozen=True, slots=True)
class LateQuestion:
    """The question a bare nudge points back to, and whether one of our bots already answered it."""

    item: LiveItem
    answered_by_bot: bool = False


def find_late_question(
    items: Sequence[LiveItem],
    *,
    author_id: str,
    nudge_message_ids: Collection[str],
    own_user_ids: Collection[str],
    now: datetime,
    window_seconds: float,
    names: Collection[str] = (),
) -> LateQuestion | None:
    """The author's earlier question a bare nudge points back to, if it is recent and nobody else answered it.

    When one of our bots spoke after it, the question comes back marked answered: the nudge gets no second reply.
    """
    positions = [n for n, item in enumerate(items) if item.message_id in nudge_message_ids]
    earlier = items[: positions[0]] if positions else list(items)
    for index in range(len(earlier) - 1, -1, -1):
        item = earlier[index]
        if item.author_id != author_id:
            continue
        content = strip_address(item.content, names=names)
        if not has_new_content(content):
            # Another nudge by the same person ("anyone?", "dit?"): keep looking further back.
            continue
        if not is_question(content) or (now - item.created_at).total_seconds() > window_seconds:
            return None
        after = earlier[index + 1 :]
        if any(later.reply_to_author_id == author_id and later.author_id != author_id for later in after):
            # Someone answered the author: the nudge is its own turn.
            return None
        return LateQuestion(item, answered_by_bot=any(later.author_id in own_user_ids for later in after))
    return None
