"""A local platform for trying a bot without Discord: an in-memory guild, and a terminal chat to talk in it.

`LocalAdapter` implements PlatformAdapter over an in-memory world: one guild ("local"), channels and users
created by name on first use, a DM channel per user. The bot's own messages are echoed back to the handler
the way Discord echoes them. `LocalChat` reads lines (from stdin, a pipe or a StringIO) and prints what the
bot does as it happens:

    #general alice: hey @dit what did bob say about rust?
    bob: something else            (same channel as the line before)
    #random more words             (same speaker as the line before)
    /dm alice: a private word      (a direct message to the bot)
    /help  /quit
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any

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

__all__ = ["PLATFORM", "LocalAdapter", "LocalChat", "LocalEvent", "parse_line"]

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


@dataclass(frozen=True, slots=True)
class ChatLine:
    """One parsed line of the local chat."""

    command: str = ""
    channel: str = ""
    speaker: str = ""
    text: str = ""
    dm: bool = False


_LINE = re.compile(r"^(?:#(?P<channel>[\w-]+)\s*)?(?:(?P<speaker>[\w.-]+):(?:\s+|$))?(?P<text>.*)$", re.DOTALL)
HELP = """Talk to the bot as anyone, anywhere:
  #general alice: hey @{bot} what did bob say about rust?
  bob: ...            same channel as before
  #random ...         same speaker as before
  /dm alice: ...      a direct message from alice to the bot
  /help               this help
  /quit               leave (end of input works too)"""


def parse_line(line: str, *, channel: str, speaker: str) -> ChatLine:
    """Parse a chat line; the channel and speaker carry over from the previous line when omitted."""
    stripped = line.strip()
    if not stripped:
        return ChatLine()
    if stripped in ("/help", "/quit", "/exit"):
        return ChatLine(command=stripped.lstrip("/").replace("exit", "quit"))
    if stripped.startswith("/dm"):
        rest = stripped[3:].strip()
        match = re.match(r"^(?P<speaker>[\w.-]+):\s*(?P<text>.*)$", rest, re.DOTALL)
        if match is None:
            return ChatLine(command="error", text="write a DM as: /dm NAME: words")
        return ChatLine(channel=channel, speaker=match["speaker"], text=match["text"].strip(), dm=True)
    if stripped.startswith("/"):
        return ChatLine(command="error", text=f"unknown command {stripped.split()[0]}; try /help")
    match = _LINE.match(stripped)
    assert match is not None  # noqa: S101 - the pattern matches any text
    return ChatLine(
        channel=(match["channel"] or channel).lower(),
        speaker=match["speaker"] or speaker,
        text=match["text"].strip(),
    )


class LocalChat:
    """Reads chat lines and posts them on a LocalAdapter; prints the bot's beats, reactions and decisions."""

    def __init__(
        self, adapter: LocalAdapter, *, stdin: IO[str], stdout: IO[str], wait_between_lines: bool | None = None
    ) -> None:
        self.adapter = adapter
        self._stdin = stdin
        self._stdout = stdout
        self._channel = DEFAULT_CHANNEL
        self._speaker = DEFAULT_SPEAKER
        # Piped input arrives all at once; waiting for the bot after each line keeps a scripted session in order.
        self._wait = (not _is_tty(stdin)) if wait_between_lines is None else wait_between_lines
        self._settle: Callable[[], Awaitable[None]] | None = None
        adapter.on_event = self._on_event

    def attach(self, host: Any) -> None:
        """Watch this host's decisions, and wait for it to go idle between lines (when reading piped input)."""
        host.observers.append(self)
        self._settle = host.idle

    def _print(self, text: str) -> None:
        self._stdout.write(text + "\n")
        self._stdout.flush()

    def _on_event(self, event: LocalEvent) -> None:
        where = f"/dm {event.channel.name[3:]}" if event.channel.kind is ChannelKind.DM else f"#{event.channel.name}"
        name = self.adapter.bot_user.display_name
        if event.kind == "message":
            replying = f" (replying to {event.reply_to})" if event.reply_to else ""
            self._print(f"{where} {name}{replying}: {event.text}")
        elif event.kind == "reaction":
            self._print(f"{where} {name} reacted {event.text} to {event.message_id}")

    def decision_made(self, event: Any) -> None:
        """Print the disposition chosen and the scores of the top 3."""
        top = ", ".join(f"{option.slug} {option.score:.2f} ({option.probability:.0%})" for option in event.top)
        where = f"#{event.channel_name}"
        self._print(f"  · decision {event.decision_id} in {where}: {event.chosen_slug} ({event.output_shape}) — {top}")

    def turn_ended(self, event: Any) -> None:
        """Print how a turn ended when it said nothing."""
        if event.end in ("silent", "stale", "error", "cancelled"):
            detail = f": {event.detail}" if event.detail else ""
            self._print(f"  · {event.end}{detail}")

    async def run(self) -> None:
        """Read lines until /quit or the end of input, posting each; returns once the bot is idle again."""
        await self.adapter.started.wait()
        self._print(f"Local chat with {self.adapter.bot_user.display_name}. /help for help, /quit to leave.")
        async for line in _lines(self._stdin):
            parsed = parse_line(line, channel=self._channel, speaker=self._speaker)
            if parsed.command == "quit":
                break
            if parsed.command == "help":
                self._print(HELP.format(bot=self.adapter.bot_user.display_name.lower()))
                continue
            if parsed.command == "error":
                self._print(parsed.text)
                continue
            if not parsed.text:
                continue
            if parsed.speaker.lower() == self.adapter.bot_user.display_name.lower():
                # Said as the bot it would be the bot's own message, which never starts a turn.
                self._print(f"{parsed.speaker} is the bot's own name: speak as someone else (e.g. alice: ...)")
                continue
            self._speaker = parsed.speaker
            if parsed.dm:
                user = self.adapter.user(parsed.speaker)
                await self.adapter.post(self.adapter.dm_channel(user), user, parsed.text)
            else:
                self._channel = parsed.channel
                await self.adapter.post(parsed.channel, parsed.speaker, parsed.text)
            if self._wait and self._settle is not None:
                await self._settle()
        if self._settle is not None:
            await self._settle()


def _is_tty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


async def _lines(stream: IO[str]) -> AsyncIterator[str]:
    """Lines of a text stream, read by a daemon thread so a blocked terminal never holds up shutdown."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def read() -> None:
        try:
            for line in iter(stream.readline, ""):
                loop.call_soon_threadsafe(queue.put_nowait, line)
        except (OSError, ValueError):
            pass
        finally:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=read, name="local-chat-stdin", daemon=True).start()
    while (line := await queue.get()) is not None:
        yield line
