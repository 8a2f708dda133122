"""Small values the host's rule tests build: messages, transcript items, arrivals, a clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bots.adapters.base import ChannelRef, GuildRef, InboundMessage, MemberRef, MessageRef
from bots.host.addressing import Address
from bots.host.ledger import Arrival
from dispositions.choices import AddressKind
from memory.live import LiveItem

GUILD = GuildRef(id="g1", name="guild")
GENERAL = ChannelRef(id="c1", name="general", guild=GUILD)
ADDRESSED = Address(True, AddressKind.MENTION, "mentioned")
NOW = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)


def message(
    content: str = "hi", *, author: MemberRef | None = None, channel: ChannelRef = GENERAL, mid: str = "m1", **extra
) -> InboundMessage:
    return InboundMessage(
        platform="discord",
        message=MessageRef(channel=channel, id=mid),
        guild=channel.guild,
        channel=channel,
        author=author or MemberRef(id="1", display_name="alice"),
        content=content,
        created_at=NOW,
        **extra,
    )


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def item(mid: str, author: str, content: str, *, minutes_ago: float, is_bot: bool = False, **extra) -> LiveItem:
    values: dict[str, Any] = {
        "transcript_id": int(mid.strip("m")) if mid.strip("m").isdigit() else 0,
        "seq": int(mid.strip("m")) if mid.strip("m").isdigit() else 0,
        "platform": "discord",
        "message_id": mid,
        "guild_id": "g1",
        "channel_id": "c1",
        "channel_name": "general",
        "is_dm": False,
        "author_id": author,
        "author_display_name": author,
        "author_is_bot": is_bot,
        "role": "bot" if is_bot else "user",
        "content": content,
        "edited": False,
        "reply_to_author_id": "",
        "mentions": (),
        "created_at": NOW - timedelta(minutes=minutes_ago),
    }
    values.update(extra)
    return LiveItem(**values)


def arrival(content: str) -> Arrival:
    return Arrival(
        seq=1, message_id="x", author_id="2", author_name="bob", is_human=True, is_own=False, content=content
    )
