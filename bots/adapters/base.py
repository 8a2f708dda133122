"""The platform-neutral adapter interface: values that cross into the host, and the adapter contract.

Nothing here knows about Discord. Ids are strings so a future platform with non-numeric ids fits, and lower
apps store them as plain `guild_id`/`channel_id` strings.
"""

from __future__ import annotations

import abc
import enum
import re
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from bots.adapters.errors import (
    AdapterAuthError,
    AdapterConnectionError,
    AdapterError,
    AdapterNotReadyError,
    AdapterRateLimitedError,
    AdapterRequestError,
)

__all__ = [
    "AdapterAuthError",
    "AdapterConnectionError",
    "AdapterError",
    "AdapterNotReadyError",
    "AdapterRateLimitedError",
    "AdapterRequestError",
    "ChannelKind",
    "ChannelRef",
    "ChannelSpec",
    "GuildRef",
    "GuildSnapshot",
    "InboundHandler",
    "InboundMessage",
    "InboundReaction",
    "MemberRef",
    "MessageRef",
    "OutputBeat",
    "PlatformAdapter",
    "ReadyEvent",
    "ReplyRef",
    "RoleRef",
    "ThreadSpec",
    "TypingEvent",
    "inbound_from_json",
    "inbound_to_json",
    "split_message",
]

MESSAGE_LIMIT = 2000


class ChannelKind(enum.StrEnum):
    """What sort of place a channel is; the host treats DMs and threads differently from text channels."""

    TEXT = "text"
    THREAD = "thread"
    DM = "dm"
    CATEGORY = "category"
    OTHER = "other"


@dataclass(frozen=True, kw_only=True)
class GuildRef:
    """A guild (server) by id, with its name for logs and prompts."""

    id: str
    name: str = ""


@dataclass(frozen=True, kw_only=True)
class ChannelRef:
    """A channel, thread or DM; `parent_id` and `owner_id` are set for threads only."""

    id: str
    name: str = ""
    guild: GuildRef | None = None
    kind: ChannelKind = ChannelKind.TEXT
    parent_id: str | None = None
    owner_id: str | None = None

    @property
    def guild_id(self) -> str:
        """The id of the guild the channel is in; "" for a DM or a channel outside any guild."""
        return "" if self.kind is ChannelKind.DM or self.guild is None else self.guild.id


@dataclass(frozen=True, kw_only=True)
class MessageRef:
    """One message on the platform, addressed by its channel and id."""

    channel: ChannelRef
    id: str


@dataclass(frozen=True, kw_only=True)
class MemberRef:
    """A user as seen in one guild (or in a DM, with no roles)."""

    id: str
    display_name: str
    is_bot: bool = False
    role_ids: tuple[str, ...] = ()
    # When the platform account was made (Discord: from the user id), for the security engine's new-account signal.
    created_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class RoleRef:
    """A guild role, as listed when the adapter becomes ready."""

    id: str
    name: str
    position: int = 0


@dataclass(frozen=True, kw_only=True)
class ReplyRef:
    """The message an inbound message replies to, with that message's author when the platform knows it."""

    message: MessageRef
    author_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class InboundMessage:
    """A message created (or edited, `is_edit`) on the platform, in platform-neutral form."""

    platform: str
    message: MessageRef
    guild: GuildRef | None
    channel: ChannelRef
    author: MemberRef
    content: str
    created_at: datetime
    reply_to: ReplyRef | None = None
    mentioned_user_ids: tuple[str, ...] = ()
    mentioned_role_ids: tuple[str, ...] = ()
    mentions_everyone: bool = False
    mentions_here: bool = False
    is_edit: bool = False
    attachment_count: int = 0

    def __post_init__(self) -> None:
        if self.created_at.tzinfo is None:
            raise ValueError("InboundMessage.created_at must be timezone-aware")

    @property
    def is_dm(self) -> bool:
        """Whether the message was sent in a direct-message channel."""
        return self.channel.kind is ChannelKind.DM

    @property
    def is_thread(self) -> bool:
        """Whether the message was sent inside a thread."""
        return self.channel.kind is ChannelKind.THREAD

    @property
    def thread_owner_id(self) -> str | None:
        """The id of the user who started the thread, for messages in threads."""
        return self.channel.owner_id if self.is_thread else None


def inbound_to_json(message: InboundMessage) -> dict[str, Any]:
    """A message as JSON (kept by a claim until the message has had its turn)."""
    data: dict[str, Any] = asdict(message)
    data["created_at"] = message.created_at.isoformat()
    data["channel"]["kind"] = message.channel.kind.value
    created = message.author.created_at
    data["author"]["created_at"] = created.isoformat() if created is not None else None
    return data


def inbound_from_json(data: Mapping[str, Any]) -> InboundMessage:
    """The message `inbound_to_json` wrote; ValueError (or KeyError, TypeError) when the data is not one."""

    def guild(value: Mapping[str, Any] | None) -> GuildRef | None:
        return None if value is None else GuildRef(**value)

    def channel(value: Mapping[str, Any]) -> ChannelRef:
        return ChannelRef(**{**value, "guild": guild(value.get("guild")), "kind": ChannelKind(value["kind"])})

    message = data["message"]
    reply = data.get("reply_to")
    author = data["author"]
    account_created = author.get("created_at")
    return InboundMessage(
        platform=data["platform"],
        message=MessageRef(channel=channel(message["channel"]), id=message["id"]),
        guild=guild(data.get("guild")),
        channel=channel(data["channel"]),
        author=MemberRef(
            **{
                **author,
                "role_ids": tuple(author.get("role_ids", ())),
                "created_at": datetime.fromisoformat(account_created) if account_created else None,
            }
        ),
        content=data["content"],
        created_at=datetime.fromisoformat(data["created_at"]),
        reply_to=(
            None
            if reply is None
            else ReplyRef(
                message=MessageRef(channel=channel(reply["message"]["channel"]), id=reply["message"]["id"]),
                author_id=reply.get("author_id"),
            )
        ),
        mentioned_user_ids=tuple(data.get("mentioned_user_ids", ())),
        mentioned_role_ids=tuple(data.get("mentioned_role_ids", ())),
        mentions_everyone=bool(data.get("mentions_everyone", False)),
        mentions_here=bool(data.get("mentions_here", False)),
        is_edit=bool(data.get("is_edit", False)),
        attachment_count=int(data.get("attachment_count", 0)),
    )


@dataclass(frozen=True, kw_only=True)
class InboundReaction:
    """An emoji reaction added to (`added=True`) or removed from a message."""

    platform: str
    message: MessageRef
    user: MemberRef
    emoji: str
    added: bool
    message_author_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class TypingEvent:
    """A user started typing in a channel."""

    platform: str
    channel: ChannelRef
    user: MemberRef
    at: datetime


@dataclass(frozen=True, kw_only=True)
class GuildSnapshot:
    """One guild as the adapter sees it when ready: its channels and roles, for syncing Guild records."""

    guild: GuildRef
    channels: tuple[ChannelRef, ...] = ()
    roles: tuple[RoleRef, ...] = ()
    # The roles the bot's own member holds in this guild (a ping of one of them may address the bot).
    bot_role_ids: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ReadyEvent:
    """The adapter connected (or reconnected with a fresh session) and knows these guilds."""

    platform: str
    bot_user: MemberRef
    guilds: tuple[GuildSnapshot, ...] = ()


@dataclass(frozen=True, kw_only=True)
class OutputBeat:
    """One thing the bot says: sent as one or more platform messages, never twice for the same key."""

    text: str
    idempotency_key: str
    reply_to: MessageRef | None = None
    is_correction: bool = False

    def __post_init__(self) -> None:
        if not self.idempotency_key:
            raise ValueError("OutputBeat.idempotency_key must be a non-empty string")
        if not self.text.strip():
            raise ValueError("OutputBeat.text is blank: a beat must say something (use no beat to stay silent)")


@dataclass(frozen=True, kw_only=True)
class ChannelSpec:
    """A text channel to create; `category_id` files it under a category."""

    name: str
    topic: str | None = None
    category_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class ThreadSpec:
    """A thread to create, on a message (`from_message`) or standing alone in the parent channel.

    Platforms round `auto_archive_minutes` up to the durations they offer (Discord: 60, 1440, 4320, 10080).
    """

    name: str
    from_message: MessageRef | None = None
    auto_archive_minutes: int = 1440
    private: bool = False


@runtime_checkable
class InboundHandler(Protocol):
    """Receives platform events in gateway order, one at a time; each method should return quickly."""

    async def on_ready(self, event: ReadyEvent) -> None:
        """The adapter is connected with a fresh session; `event` lists the guilds it sees."""

    async def on_resumed(self) -> None:
        """The adapter resumed its session after a disconnect; missed events were replayed."""

    async def on_message(self, message: InboundMessage) -> None:
        """A message was created or edited."""

    async def on_reaction(self, reaction: InboundReaction) -> None:
        """A reaction was added or removed."""

    async def on_typing(self, event: TypingEvent) -> None:
        """A user started typing."""


class PlatformAdapter(abc.ABC):
    """What the host needs from a chat platform; one implementation per platform."""

    @property
    @abc.abstractmethod
    def platform(self) -> str:
        """A short, stable name of the platform ("discord", "local")."""

    @property
    @abc.abstractmethod
    def bot_user(self) -> MemberRef:
        """The bot's own user; raises AdapterNotReadyError before `start()` has logged in."""

    @abc.abstractmethod
    async def start(self, handler: InboundHandler) -> None:
        """Log in and connect; return once ready, raising AdapterAuthError or AdapterConnectionError."""

    @abc.abstractmethod
    async def stop(self) -> None:
        """Disconnect and release resources; safe to call twice."""

    @abc.abstractmethod
    async def wait_stopped(self) -> None:
        """Wait until the connection ends: return after `stop()`, raise AdapterError if it failed."""

    @abc.abstractmethod
    async def send(self, channel: ChannelRef, beat: OutputBeat) -> list[MessageRef]:
        """Send one beat (split to the platform's limit); a repeated idempotency key sends nothing new."""

    @abc.abstractmethod
    async def react(self, message: MessageRef, emoji: str) -> None:
        """Add the bot's reaction to a message."""

    @abc.abstractmethod
    def typing(self, channel: ChannelRef) -> AbstractAsyncContextManager[None]:
        """Show the bot as typing in `channel` while the context is open."""

    @abc.abstractmethod
    async def create_channel(self, guild: GuildRef, spec: ChannelSpec, *, reason: str | None = None) -> ChannelRef:
        """Create a text channel in a guild."""

    @abc.abstractmethod
    async def create_thread(self, parent: ChannelRef, spec: ThreadSpec, *, reason: str | None = None) -> ChannelRef:
        """Create a thread in `parent`, on `spec.from_message` when given."""

    @abc.abstractmethod
    async def pin(self, message: MessageRef, *, reason: str | None = None) -> None:
        """Pin a message in its channel."""

    @abc.abstractmethod
    async def add_role(self, guild: GuildRef, member_id: str, role_id: str, *, reason: str | None = None) -> None:
        """Give a member a role."""

    @abc.abstractmethod
    async def remove_role(self, guild: GuildRef, member_id: str, role_id: str, *, reason: str | None = None) -> None:
        """Take a role from a member."""

    @abc.abstractmethod
    async def fetch_history(
        self, channel: ChannelRef, *, after: MessageRef | None = None, limit: int = 100
    ) -> list[InboundMessage]:
        """Messages in `channel` after `after` (or the latest ones), oldest first, at most `limit`."""


# Splitting long text into platform-sized messages.

_FENCE = "```"
_FENCE_CLOSE = "\n```"
# A sentence ends at . ! ? or an ellipsis, optionally followed by closing quotes or brackets, before whitespace.
_SENTENCE_END = re.compile(r"""[.!?\u2026]+["')\]\u201d\u2019]*(?=\s)""")
_WHITESPACE = re.compile(r"\s")


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split `text` into chunks of at most `limit` characters: at paragraphs or sentences, then words, then hard.

    Leading and trailing whitespace of each chunk is dropped and whitespace-only input gives no chunks. A code fence
    cut by a split is closed at the end of its chunk and reopened (with its language) at the start of the next.
    """
    if limit < 16:
        raise ValueError("split_message limit must be at least 16 characters")
    remaining = text.strip()
    chunks: list[str] = []
    carried_fence: str | None = None
    while remaining:
        prefix = f"{_FENCE}{carried_fence}\n" if carried_fence is not None else ""
        budget = limit - len(prefix)
        if len(remaining) <= budget:
            chunks.append(prefix + remaining)
            break
        piece, rest = _cut(remaining, budget)
        open_fence = _open_fence(prefix + piece, limit)
        if open_fence is not None:
            # The chunk ends inside a code block: leave room to close it, then close it.
            piece, rest = _cut(remaining, budget - len(_FENCE_CLOSE))
            open_fence = _open_fence(prefix + piece, limit)
        chunk = prefix + piece
        if open_fence is not None:
            chunk += _FENCE_CLOSE
        chunks.append(chunk)
        carried_fence = open_fence
        remaining = rest
    return [chunk for chunk in chunks if chunk.strip()]


def _cut(text: str, budget: int) -> tuple[str, str]:
    """Cut `text` (longer than `budget`) at the best boundary within `budget`; return (piece, rest), both stripped."""
    index = _cut_index(text, budget)
    piece = text[:index].rstrip()
    rest = text[index:].lstrip()
    if not piece:
        # Only whitespace before the boundary: fall back to a hard cut so the loop always advances.
        index = budget
        piece, rest = text[:index], text[index:].lstrip()
    return piece, rest


def _cut_index(text: str, budget: int) -> int:
    """The index to cut at: the best-ranked boundary in the fuller half of the window, else any boundary."""
    window = text[: budget + 1]
    # A boundary at i means text[:i] is the chunk; the character at i (whitespace) may be dropped.
    ranked: list[list[int]] = [
        [m.start() for m in re.finditer(r"\n\s*\n", window) if m.start() <= budget],
        [m.end() for m in _SENTENCE_END.finditer(window) if m.end() <= budget]
        + [m.start() for m in re.finditer(r"\n", window) if m.start() <= budget],
        [m.start() for m in _WHITESPACE.finditer(window) if m.start() <= budget],
    ]
    half = budget // 2
    for candidates in ranked:
        full_enough = [i for i in candidates if i >= half]
        if full_enough:
            return max(full_enough)
    for candidates in ranked:
        usable = [i for i in candidates if i > 0]
        if usable:
            return max(usable)
    return budget


def _open_fence(chunk: str, limit: int) -> str | None:
    """The language of a code fence left open at the end of `chunk` ("" for a bare fence), or None.

    A fence whose reopening and closing would take more than half the limit is not worth preserving: None.
    """
    open_language: str | None = None
    for line in chunk.split("\n"):
        stripped = line.strip()
        if not stripped.startswith(_FENCE):
            continue
        if open_language is None:
            open_language = stripped[len(_FENCE) :].strip()
            # A fence opened and closed on one line (```x```) leaves nothing open.
            if open_language.endswith(_FENCE):
                open_language = None
        else:
            open_language = None
    if open_language is not None and len(_FENCE) + len(open_language) + 1 + len(_FENCE_CLOSE) > limit // 2:
        return None
    return open_language
