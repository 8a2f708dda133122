"""Events the host emits to the reactor beyond ingest (which emits message.ingested itself).

Each is one call for the turn pipeline to make, in the transaction of the state change it reports when
there is one; payloads carry ids, never message text.
"""

from __future__ import annotations

from collections.abc import Sequence

from asgiref.sync import sync_to_async

from reactor.choices import EventKind
from reactor.models import ReactorEvent
from reactor.services import emit_event


def emit_reaction_added(
    *,
    platform: str,
    guild_id: str,
    channel_id: str,
    message_id: str,
    emoji: str,
    user_id: str,
    user_is_bot: bool,
    message_author_id: str = "",
) -> ReactorEvent | None:
    """A reaction was added to a message; once per (message, user, emoji). Wakes follow-ups on that message."""
    return emit_event(
        EventKind.REACTION_ADDED,
        {
            "platform": platform,
            "message_id": message_id,
            "emoji": emoji,
            "user_id": user_id,
            "user_is_bot": user_is_bot,
            "message_author_id": message_author_id,
        },
        guild_id=guild_id,
        channel_id=channel_id,
        idempotency_key=f"{EventKind.REACTION_ADDED}:{platform}:{message_id}:{user_id}:{emoji}"[:200],
    )


def emit_bot_spoke(
    *, bot_id: int, decision_id: int, guild_id: str, channel_id: str, message_ids: Sequence[str]
) -> ReactorEvent | None:
    """The bot posted messages for a decision (once per decision)."""
    return emit_event(
        EventKind.BOT_SPOKE,
        {"bot_id": bot_id, "decision_id": decision_id, "message_ids": list(message_ids)},
        guild_id=guild_id,
        channel_id=channel_id,
        idempotency_key=f"{EventKind.BOT_SPOKE}:{decision_id}",
    )


def emit_turn_finished(
    *, bot_id: int, decision_id: int, guild_id: str, channel_id: str, trigger_kind: str, end: str, beats: int
) -> ReactorEvent | None:
    """A turn ended (spoke, reacted, silent, stale, error...), once per decision."""
    return emit_event(
        EventKind.TURN_FINISHED,
        {"bot_id": bot_id, "decision_id": decision_id, "trigger_kind": trigger_kind, "end": end, "beats": beats},
        guild_id=guild_id,
        channel_id=channel_id,
        idempotency_key=f"{EventKind.TURN_FINISHED}:{decision_id}",
    )


aemit_reaction_added = sync_to_async(emit_reaction_added)
aemit_bot_spoke = sync_to_async(emit_bot_spoke)
aemit_turn_finished = sync_to_async(emit_turn_finished)
