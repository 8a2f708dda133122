"""Reactions as memory records them: who put which emoji on which message, and when they took it off.

Reactions are the quickest signal of how a message landed (moment extraction and the bot's reception both
read them). Each change is stored once and announced as a reactor event in the same transaction; a change
the platform delivers twice (a resumed session replays its events) is recognised and ignored.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection, transaction

from memory.errors import InvalidIngestMessage
from memory.models import Reaction
from reactor.choices import EventKind
from reactor.services import emit_event

MAX_EMOJI = 100


@dataclass(frozen=True, slots=True)
class ReactionChange:
    """One reaction added or removed, as the host describes it."""

    platform: str
    message_id: str
    guild_id: str
    channel_id: str
    is_dm: bool
    user_id: str
    user_is_bot: bool
    emoji: str
    added: bool
    message_author_id: str = ""

    def __post_init__(self) -> None:
        for name in ("platform", "message_id", "channel_id", "user_id", "emoji"):
            value = getattr(self, name)
            if not value or "\x00" in value:
                raise InvalidIngestMessage(f"{name} must be a non-empty string without NUL characters", field=name)
        if len(self.emoji) > MAX_EMOJI:
            raise InvalidIngestMessage(f"emoji is {len(self.emoji)} characters; at most {MAX_EMOJI} fit", field="emoji")
        if self.is_dm == bool(self.guild_id):
            raise InvalidIngestMessage("a DM reaction has no guild_id and a guild reaction has one", field="guild_id")


# An add inserts the row or turns a removed one back on; a remove turns a standing one off. Either way the
# statement returns a row only when the reaction's state changed, so a replayed event does nothing.
_ADD_SQL = (
    f"INSERT INTO {Reaction._meta.db_table} "  # noqa: S608 - the table name comes from the model
    "(platform, message_id, guild_id, channel_id, is_dm, message_author_id, user_id, user_is_bot, emoji, present, "
    "changes, first_added_at, changed_at) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, true, 1, now(), now()) "
    "ON CONFLICT ON CONSTRAINT memory_reaction_unique_per_person DO UPDATE "
    "SET present = true, changes = {table}.changes + 1, changed_at = now() WHERE NOT {table}.present "
    "RETURNING id, changes"
).format(table=Reaction._meta.db_table)
_REMOVE_SQL = (
    f"UPDATE {Reaction._meta.db_table} SET present = false, changes = changes + 1, changed_at = now() "  # noqa: S608
    "WHERE platform = %s AND message_id = %s AND user_id = %s AND emoji = %s AND present RETURNING id, changes"
)


def record_reaction(change: ReactionChange) -> bool:
    """Store a reaction change and announce it; False when it changed nothing (a replay, a duplicate)."""
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        if change.added:
            cursor.execute(
                _ADD_SQL,
                [
                    change.platform,
                    change.message_id,
                    change.guild_id,
                    change.channel_id,
                    change.is_dm,
                    change.message_author_id,
                    change.user_id,
                    change.user_is_bot,
                    change.emoji,
                ],
            )
        else:
            cursor.execute(_REMOVE_SQL, [change.platform, change.message_id, change.user_id, change.emoji])
        row = cursor.fetchone()
        if row is None:
            return False
        reaction_id, changes = row
        kind = EventKind.REACTION_ADDED if change.added else EventKind.REACTION_REMOVED
        emit_event(
            kind,
            {
                "reaction_id": reaction_id,
                "platform": change.platform,
                "message_id": change.message_id,
                "message_author_id": change.message_author_id,
                "user_id": change.user_id,
                "user_is_bot": change.user_is_bot,
                "emoji": change.emoji,
                "is_dm": change.is_dm,
            },
            guild_id=change.guild_id,
            channel_id=change.channel_id,
            idempotency_key=f"reaction:{change.platform}:{change.message_id}:{change.user_id}:{change.emoji}:{changes}",
        )
    return True
