"""Conversions of a message between the adapter's, memory's and the synthesizer's shapes."""

from __future__ import annotations

from django.utils import timezone

from bots.adapters.base import ChannelKind, ChannelRef, InboundMessage
from bots.choices import ChannelKind as StoredChannelKind
from bots.choices import Platform
from bots.host.ledger import Arrival
from dispositions.synthesis import ConversationLine
from memory.choices import TranscriptRole
from memory.ingest import IngestMessage
from memory.live import LiveItem


def ingest_message_for(message: InboundMessage) -> IngestMessage:
    """Memory's ingest value for an inbound message (edits carry their edit time)."""
    channel = message.channel
    return IngestMessage(
        platform=message.platform,
        message_id=message.message.id,
        channel_id=channel.id,
        author_id=message.author.id,
        author_display_name=(message.author.display_name or message.author.id)[:200],
        content=message.content,
        created_at=message.created_at,
        guild_id="" if message.is_dm else (message.guild.id if message.guild is not None else ""),
        is_dm=message.is_dm,
        channel_name=channel.name[:200],
        parent_channel_id=(channel.parent_id or "") if channel.kind is ChannelKind.THREAD else "",
        author_is_bot=message.author.is_bot,
        role=TranscriptRole.BOT if message.author.is_bot else TranscriptRole.USER,
        reply_to_message_id=message.reply_to.message.id if message.reply_to is not None else "",
        reply_to_author_id=(message.reply_to.author_id or "") if message.reply_to is not None else "",
        mentions=tuple(uid for uid in message.mentioned_user_ids if uid),
        # The neutral message carries no edit time; the moment the edit reached us stands in for it.
        edited_at=timezone.now() if message.is_edit else None,
    )


def line_for_message(message: InboundMessage) -> ConversationLine:
    """A labelled line for the synthesizer from an inbound message."""
    return ConversationLine(
        author_name=message.author.display_name or message.author.id,
        author_id=message.author.id,
        text=message.content,
        channel_name="" if message.is_dm else message.channel.name,
        is_bot=message.author.is_bot,
    )


def line_for_item(item: LiveItem) -> ConversationLine:
    """A labelled line for the synthesizer from a transcript item."""
    return ConversationLine(
        author_name=item.author_display_name,
        author_id=item.author_id,
        text=item.content,
        channel_name="" if item.is_dm else item.channel_name,
        is_bot=item.author_is_bot,
    )


def line_for_arrival(arrival: Arrival, channel: ChannelRef) -> ConversationLine:
    """A labelled line for the synthesizer from a ledger arrival."""
    if arrival.message is not None:
        return line_for_message(arrival.message)
    return ConversationLine(
        author_name=arrival.author_name,
        author_id=arrival.author_id,
        text=arrival.content,
        channel_name="" if channel.kind is ChannelKind.DM else channel.name,
        is_bot=not arrival.is_human,
    )


def stored_platform(platform: str) -> Platform:
    """The stored platform of an adapter's platform name (platforms without a record of their own count as Discord)."""
    return Platform(platform) if platform in Platform.values else Platform.DISCORD


def stored_channel_kind(kind: ChannelKind) -> StoredChannelKind:
    """How a guild record stores a channel of this kind."""
    return {
        ChannelKind.TEXT: StoredChannelKind.TEXT,
        ChannelKind.THREAD: StoredChannelKind.THREAD,
        ChannelKind.CATEGORY: StoredChannelKind.CATEGORY,
    }.get(kind, StoredChannelKind.OTHER)
