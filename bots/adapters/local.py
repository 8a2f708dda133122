"""A local platform for trying a bot without Discord: an in-memory guild the host talks to like Discord.

`LocalAdapter` implements PlatformAdapter over an in-memory world: one guild ("local"), channels and users
created by name on first use, a DM channel per user. The bot's own messages are echoed back to the handler
the way Discord echoes them. The terminal chat that posts into it is `bots.local_chat`.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bots.adapters.base import (
    ChannelKind,
    ChannelRef,
    ChannelSpec,
    GuildRef,
    GuildSnapshot,
    InboundHandler,
    InboundMessage,
    MemberRef,
    MessageRef,
    OutputBeat,
    PlatformAdapter,
    ReadyEvent,
    ReplyRef,
    RoleRef,
    ThreadSpec,
    TypingEvent,
    split_message,
)
from bots.adapters.errors import AdapterNotReadyError, AdapterRequestError

__all__ = ["DEFAULT_CHANNEL", "DEFAULT_SPEAKER", "PLATFORM", "LocalAdapter", "LocalEvent"]

PLATFORM = "local"
GUILD = GuildRef(id="local-guild", name="local")
DEFAULT_CHANNEL = "general"
DEFAULT_SPEAKER = "you"
_MENTION = re.compile(r"(?<![\w<])@([\w.-]+)")


@dataclass(frozen=True, slots=True)
class LocalEvent:
    """Something the bot did on the local platform: a message, a reaction or a typing indicator."""

    kind: str
    channel: ChannelRef
    text: str = ""
    message_id: str = ""
    reply_to: str = ""


@dataclass
class _Stored:
    message: InboundMessage
    reactions: list[tuple[str, str]] = field(default_factory=list)


class LocalAdapter(PlatformAdapter):
    """An in-memory platform: post as any user in any channel; read back what the bot sent."""

    def __init__(self, *, bot_name: str = "dit", on_event: Callable[[LocalEvent], None] | None = None) -> None:
        self._bot = MemberRef(id="local-bot", display_name=bot_name, is_bot=True)
        self._users: dict[str, MemberRef] = {}
        self._channels: dict[str, ChannelRef] = {}
        self._messages: dict[str, list[_Stored]] = {}
        self._sent_keys: dict[str, list[MessageRef]] = {}
        self._roles: dict[str, set[str]] = {}
        self._counter = 0
        # Message ids must not repeat across runs: transcripts are keyed by (platform, message id), and a
        # reused id would read as a redelivered message and start no turn.
        self._session = f"{time.time_ns():x}"
        self._handler: InboundHandler | None = None
        self._stopped = asyncio.Event()
        self.started = asyncio.Event()
        self.events: list[LocalEvent] = []
        self.on_event = on_event
        self.channel(DEFAULT_CHANNEL)

    # The world.

    def user(self, name: str, *, bot: bool = False) -> MemberRef:
        """The user called `name` (created on first use)."""
        key = name.lower()
        if key == self._bot.display_name.lower():
            return self._bot
        if key not in self._users:
            self._users[key] = MemberRef(id=f"local-u-{_id_part(name)}", display_name=name, is_bot=bot)
        return self._users[key]

    def channel(self, name: str) -> ChannelRef:
        """The guild text channel called `name` (created on first use)."""
        key = name.lstrip("#").lower()
        if key not in self._channels:
            self._channels[key] = ChannelRef(id=f"local-c-{_id_part(key)}", name=key, guild=GUILD)
            self._messages.setdefault(self._channels[key].id, [])
        return self._channels[key]

    def dm_channel(self, user: MemberRef) -> ChannelRef:
        """The DM channel between `user` and the bot."""
        key = f"dm:{user.id}"
        if key not in self._channels:
            self._channels[key] = ChannelRef(
                id=f"local-dm-{user.id}", name=f"dm-{user.display_name}", kind=ChannelKind.DM
            )
            self._messages.setdefault(self._channels[key].id, [])
        return self._channels[key]

    def messages(self, channel: ChannelRef) -> list[InboundMessage]:
        """Every message of a channel, oldest first."""
        return [stored.message for stored in self._messages.get(channel.id, [])]

    def bot_messages(self, channel: ChannelRef) -> list[InboundMessage]:
        """The bot's messages in a channel, oldest first."""
        return [m for m in self.messages(channel) if m.author.id == self._bot.id]

    def reactions(self, channel: ChannelRef) -> list[tuple[str, str, str]]:
        """(message id, user id, emoji) of every reaction in a channel."""
        return [
            (stored.message.message.id, user_id, emoji)
            for stored in self._messages.get(channel.id, [])
            for user_id, emoji in stored.reactions
        ]

    @property
    def upcoming_message_id(self) -> str:
        """The id the next message in this chat will get."""
        return f"local-{self._session}-{self._counter + 1}"

    def _next_id(self) -> str:
        self._counter += 1
        return f"local-{self._session}-{self._counter}"

    def _mentions(self, content: str) -> tuple[str, ...]:
        found = []
        for name in _MENTION.findall(content):
            if name.lower() in {self._bot.display_name.lower(), "everyone", "here"}:
                if name.lower() == self._bot.display_name.lower():
                    found.append(self._bot.id)
                continue
            found.append(self.user(name).id)
        return tuple(dict.fromkeys(found))

    def _find(self, channel_id: str, message_id: str) -> _Stored:
        for stored in self._messages.get(channel_id, []):
            if stored.message.message.id == message_id:
                return stored
        raise AdapterRequestError(
            f"no message {message_id} in channel {channel_id}", code="adapter_not_found", status=404
        )

    def _store(self, message: InboundMessage) -> None:
        self._messages.setdefault(message.channel.id, []).append(_Stored(message))

    def _emit(self, event: LocalEvent) -> None:
        self.events.append(event)
        if self.on_event is not None:
            self.on_event(event)

    async def post(
        self,
        channel: ChannelRef | str,
        author: MemberRef | str,
        content: str,
        *,
        reply_to: str | None = None,
    ) -> InboundMessage:
        """Post a message as a user (a DM when `channel` is a DM channel) and deliver it to the handler."""
        target = self.channel(channel) if isinstance(channel, str) else channel
        member = self.user(author) if isinstance(author, str) else author
        reply = None
        if reply_to is not None:
            replied = self._find(target.id, reply_to).message
            reply = ReplyRef(message=replied.message, author_id=replied.author.id)
        mentions = self._mentions(content)
        message = InboundMessage(
            platform=PLATFORM,
            message=MessageRef(channel=target, id=self._next_id()),
            guild=target.guild,
            channel=target,
            author=member,
            content=content,
            created_at=datetime.now(UTC),
            reply_to=reply,
            mentioned_user_ids=_with_replied_author(mentions, reply),
            mentions_everyone="@everyone" in content,
            mentions_here="@here" in content,
        )
        self._store(message)
        await self._deliver(message)
        return message

    async def type(self, channel: ChannelRef | str, author: MemberRef | str) -> None:
        """Show `author` typing in a channel (delivered as a typing event)."""
        target = self.channel(channel) if isinstance(channel, str) else channel
        member = self.user(author) if isinstance(author, str) else author
        if self._handler is not None:
            await self._handler.on_typing(
                TypingEvent(platform=PLATFORM, channel=target, user=member, at=datetime.now(UTC))
            )

    async def _deliver(self, message: InboundMessage) -> None:
        if self._handler is not None:
            await self._handler.on_message(message)

    # PlatformAdapter.

    @property
    def platform(self) -> str:
        """Always "local"."""
        return PLATFORM

    @property
    def bot_user(self) -> MemberRef:
        """The bot's local user."""
        return self._bot

    async def start(self, handler: InboundHandler) -> None:
        """Hand the handler a ready event with the channels known so far."""
        self._handler = handler
        self._stopped.clear()
        guild_channels = tuple(c for c in self._channels.values() if c.kind is not ChannelKind.DM)
        roles = tuple(RoleRef(id=f"local-r-{_id_part(name)}", name=name) for name in self._roles)
        await handler.on_ready(
            ReadyEvent(
                platform=PLATFORM,
                bot_user=self._bot,
                guilds=(GuildSnapshot(guild=GUILD, channels=guild_channels, roles=roles),),
            )
        )
        self.started.set()

    async def stop(self) -> None:
        """Stop delivering; safe to call twice."""
        self._handler = None
        self._stopped.set()

    async def wait_stopped(self) -> None:
        """Return once stopped."""
        await self._stopped.wait()

    def _require_started(self) -> None:
        if self._handler is None:
            raise AdapterNotReadyError("the local adapter is not started")

    async def send(self, channel: ChannelRef, beat: OutputBeat) -> list[MessageRef]:
        """Post the bot's beat (split like Discord would); a repeated key sends nothing new."""
        self._require_started()
        if beat.idempotency_key in self._sent_keys:
            return list(self._sent_keys[beat.idempotency_key])
        refs: list[MessageRef] = []
        for index, chunk in enumerate(split_message(beat.text)):
            reply = None
            if index == 0 and beat.reply_to is not None:
                reply = ReplyRef(
                    message=beat.reply_to, author_id=self._find(channel.id, beat.reply_to.id).message.author.id
                )
            message = InboundMessage(
                platform=PLATFORM,
                message=MessageRef(channel=channel, id=self._next_id()),
                guild=channel.guild,
                channel=channel,
                author=self._bot,
                content=chunk,
                created_at=datetime.now(UTC),
                reply_to=reply,
            )
            self._store(message)
            refs.append(message.message)
            self._emit(
                LocalEvent("message", channel, chunk, message.message.id, reply.message.id if reply is not None else "")
            )
            # Like Discord, the platform tells the bot about its own message too.
            await self._deliver(message)
        self._sent_keys[beat.idempotency_key] = refs
        return list(refs)

    async def react(self, message: MessageRef, emoji: str) -> None:
        """Add the bot's reaction to a message."""
        self._require_started()
        stored = self._find(message.channel.id, message.id)
        if (self._bot.id, emoji) not in stored.reactions:
            stored.reactions.append((self._bot.id, emoji))
        self._emit(LocalEvent("reaction", message.channel, emoji, message.id))

    def typing(self, channel: ChannelRef) -> contextlib.AbstractAsyncContextManager[None]:
        """Show the bot typing (recorded as an event)."""
        return self._typing(channel)

    @contextlib.asynccontextmanager
    async def _typing(self, channel: ChannelRef) -> AsyncIterator[None]:
        self._emit(LocalEvent("typing", channel))
        yield

    async def create_channel(self, guild: GuildRef, spec: ChannelSpec, *, reason: str | None = None) -> ChannelRef:
        """Create a text channel in the local guild."""
        return self.channel(spec.name)

    async def create_thread(self, parent: ChannelRef, spec: ThreadSpec, *, reason: str | None = None) -> ChannelRef:
        """Create a thread started by the bot."""
        key = f"thread:{_id_part(spec.name)}"
        if key not in self._channels:
            self._channels[key] = ChannelRef(
                id=f"local-t-{_id_part(spec.name)}",
                name=spec.name,
                guild=parent.guild,
                kind=ChannelKind.THREAD,
                parent_id=parent.id,
                owner_id=self._bot.id,
            )
            self._messages.setdefault(self._channels[key].id, [])
        return self._channels[key]

    async def pin(self, message: MessageRef, *, reason: str | None = None) -> None:
        """Pinning is recorded as an event."""
        self._emit(LocalEvent("pin", message.channel, message_id=message.id))

    async def add_role(self, guild: GuildRef, member_id: str, role_id: str, *, reason: str | None = None) -> None:
        """Give a member a role."""
        self._roles.setdefault(role_id, set()).add(member_id)

    async def remove_role(self, guild: GuildRef, member_id: str, role_id: str, *, reason: str | None = None) -> None:
        """Take a role from a member."""
        self._roles.get(role_id, set()).discard(member_id)

    async def fetch_history(
        self, channel: ChannelRef, *, after: MessageRef | None = None, limit: int = 100
    ) -> list[InboundMessage]:
        """Messages after `after` (else the latest), oldest first."""
        messages = self.messages(channel)
        if after is not None:
            ids = [m.message.id for m in messages]
            messages = messages[ids.index(after.id) + 1 :] if after.id in ids else messages
            return messages[:limit]
        return messages[-limit:]


def _with_replied_author(mentions: tuple[str, ...], reply: ReplyRef | None) -> tuple[str, ...]:
    """Like Discord's default, a reply mentions the replied-to author too."""
    if reply is None or reply.author_id is None or reply.author_id in mentions:
        return mentions
    return (*mentions, reply.author_id)


def _id_part(name: str) -> str:
    """An id fragment for a name: lower-case ASCII letters, digits and '-' as they are, every other character
    as `_<hex code point>_`, so different names never share an id (李 and 王, #café and #caf)."""
    return "".join(char if char in _ID_CHARS else f"_{ord(char):x}_" for char in name.lower()) or "_"


_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")


# The terminal chat.
