"""Router inputs read from a channel's recent transcript: activity, lull, who is around, when the bot spoke,
open questions, and the earlier question a bare nudge ("@bot ^^") points back to.

Pure functions over memory's live items, so each reading is tested on its own.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from bots.host.cues import has_new_content, is_question, strip_address
from memory.live import LiveItem

ACTIVITY_WINDOW_SECONDS = 300.0
PRESENCE_WINDOW_SECONDS = 600.0
NO_PREVIOUS_MESSAGE_LULL = 86400.0
MAX_UNANSWERED = 3


@dataclass(frozen=True, slots=True)
class ChannelSignals:
    """What the channel looks like around a turn."""

    activity_per_minute: float
    lull_seconds: float
    present_users: tuple[str, ...]
    seconds_since_bot_spoke: float | None
    unanswered_questions: int


def channel_signals(
    items: Sequence[LiveItem],
    *,
    turn_message_ids: Collection[str],
    own_user_ids: Collection[str],
    now: datetime,
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
    unanswered = sum(
        1
        for i in after_bot
        if not i.author_is_bot
        and i.message_id not in turn_message_ids
        and (now - i.created_at).total_seconds() <= PRESENCE_WINDOW_SECONDS
        and is_question(i.content)
    )
    return ChannelSignals(
        activity_per_minute=round(activity, 3),
        lull_seconds=max(0.0, lull),
        present_users=tuple(present),
        seconds_since_bot_spoke=max(0.0, since_bot) if since_bot is not None else None,
        unanswered_questions=min(unanswered, MAX_UNANSWERED),
    )


def find_late_question(
    items: Sequence[LiveItem],
    *,
    author_id: str,
    nudge_message_ids: Collection[str],
    own_user_ids: Collection[str],
    now: datetime,
    window_seconds: float,
    names: Collection[str] = (),
) -> LiveItem | None:
    """The author's earlier question a bare nudge points back to, if it is recent and still unanswered."""
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
        answered = any(
            later.author_id in own_user_ids or (later.reply_to_author_id == author_id and later.author_id != author_id)
            for later in earlier[index + 1 :]
        )
        return None if answered else item
    return None
