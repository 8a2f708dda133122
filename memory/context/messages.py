"""Transcript messages as context items: one labelled, channel-tagged line each."""

from __future__ import annotations

from memory.choices import ContextItemKind
from memory.context.types import ContextItem, Provenance
from memory.live import LiveItem

DM_TAG = "[DM]"


def message_item(message: LiveItem) -> ContextItem:
    """The context item for one live message, e.g. `[#general] alice (u:123): hey`."""
    subjects = set(message.mentions)
    if not message.author_is_bot:
        subjects.add(message.author_id)
    if message.reply_to_author_id:
        subjects.add(message.reply_to_author_id)
    return ContextItem(
        kind=ContextItemKind.MESSAGE,
        text=render_message(message),
        provenance=Provenance(
            guild_id=message.guild_id,
            channel_id=message.channel_id,
            is_dm=message.is_dm,
            subject_user_ids=frozenset(subjects),
        ),
        source=f"transcript:{message.transcript_id}",
        created_at=message.created_at,
    )


def render_message(message: LiveItem) -> str:
    """One line: channel tag, display name, stable author id, then the words."""
    tag = DM_TAG if message.is_dm else f"[#{_one_line(message.channel_name) or message.channel_id}]"
    author_id = f"bot:{message.author_id}" if message.author_is_bot else f"u:{message.author_id}"
    label = f"{_one_line(message.author_display_name) or message.author_id} ({author_id}"
    if message.reply_to_author_id:
        label += f", replying to u:{message.reply_to_author_id}"
    label += ")"
    edited = " (edited)" if message.edited else ""
    # Continuation lines are indented so a message can never pass itself off as another tagged line.
    content = "\n  ".join(message.content.splitlines())
    return f"{tag} {label}: {content}{edited}"


def _one_line(value: str) -> str:
    return " ".join(value.split())
