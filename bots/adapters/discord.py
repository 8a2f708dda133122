"""The Discord adapter: discord.py 2.7.1 behind the platform-neutral PlatformAdapter.

This subpackage is the only place in the project that imports `discord`.

Pointing discord.py somewhere other than Discord (the local Discord in tests) uses two class attributes that are
process-global in discord.py: `discord.http.Route.BASE` (the REST base) and
`discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY` (the first gateway URL, and the one used again after an
invalid session). `start()` sets them when `api_base`/`gateway_url` are given and `stop()` puts back what it found,
so two adapters with different endpoints cannot run in one process at the same time.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import aiohttp
import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bots.adapters.base import (
    ChannelKind,
    ChannelRef,
    ChannelSpec,
    GuildRef,
    GuildSnapshot,
    InboundHandler,
    InboundMessage,
    InboundReaction,
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
from bots.adapters.errors import (
    AdapterAuthError,
    AdapterConnectionError,
    AdapterError,
    AdapterNotReadyError,
    AdapterRateLimitedError,
    AdapterRequestError,
)

__all__ = ["PLATFORM", "DiscordAdapter", "current_endpoints", "default_intents"]

_log = logging.getLogger(__name__)

PLATFORM = "discord"
# Discord accepts a nonce of at most 25 characters; with enforce_nonce it returns the earlier message instead of
# creating a second one, which makes a retried send safe even across processes for a few minutes.
_NONCE_LENGTH = 25
# Only messages people (and bots) write reach the host; joins, pins and other system messages do not.
_USER_MESSAGE_TYPES = (discord.MessageType.default, discord.MessageType.reply)
_CONNECTION_ERRORS = (aiohttp.ClientError, OSError, asyncio.TimeoutError)
_Delivery = Callable[[], Awaitable[None]]
_ArchiveMinutes = Literal[60, 1440, 4320, 10080]
_ARCHIVE_MINUTES: tuple[_ArchiveMinutes, ...] = (60, 1440, 4320, 10080)


def default_intents() -> discord.Intents:
    """The gateway intents the adapter needs: guilds, members, messages with content, reactions, typing."""
    intents = discord.Intents.none()
    intents.guilds = True
    intents.members = True
    intents.guild_messages = True
    intents.dm_messages = True
    intents.message_content = True
    intents.guild_reactions = True
    intents.dm_reactions = True
    intents.guild_typing = True
    intents.dm_typing = True
    return intents


def current_endpoints() -> tuple[str, str]:
    """The REST base and first gateway URL discord.py uses right now (process-global class attributes)."""
    return Route("GET", "/").url.removesuffix("/"), str(DiscordWebSocket.DEFAULT_GATEWAY)


class _IdentifyPacing:
    """Waits `identify_delay` seconds before every IDENTIFY but the first (Discord allows one per 5 s per bucket)."""

    identify_delay: float = 5.0

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Pace re-identifies; discord.py's own hook always waits 5 s, too slow for the local Discord."""
        if not initial and self.identify_delay > 0:
            await asyncio.sleep(self.identify_delay)


class _Client(_IdentifyPacing, discord.Client):
    """discord.Client with configurable identify pacing."""


class _ShardedClient(_IdentifyPacing, discord.AutoShardedClient):
    """discord.AutoShardedClient with configurable identify pacing."""


@dataclass
class _BeatProgress:
    """What has been sent for one beat key; the lock makes a concurrent retry wait for the first attempt."""

    refs: list[MessageRef] = field(default_factory=list)
    done: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class DiscordAdapter(PlatformAdapter):
    """A bot's connection to Discord (or to a local Discord, with `api_base` and `gateway_url`)."""

    def __init__(
        self,
        *,
        token: str,
        api_base: str | None = None,
        gateway_url: str | None = None,
        sharded: bool = False,
        shard_count: int | None = None,
        intents: discord.Intents | None = None,
        guild_ready_timeout: float = 2.0,
        ready_timeout: float = 60.0,
        identify_delay: float = 5.0,
        max_ratelimit_timeout: float | None = None,
        send_attempts: int = 3,
        retry_backoff: float = 0.5,
        remembered_beats: int = 4096,
        remembered_messages: int = 10_000,
    ) -> None:
        if send_attempts < 1:
            raise ValueError("send_attempts must be at least 1")
        self._token = token
        self._api_base = api_base.rstrip("/") if api_base else None
        self._gateway_url = yarl.URL(gateway_url) if gateway_url else None
        self._sharded = sharded or shard_count is not None
        self._shard_count = shard_count
        self._intents = intents or default_intents()
        self._guild_ready_timeout = guild_ready_timeout
        self._ready_timeout = ready_timeout
        self._identify_delay = identify_delay
        self._max_ratelimit_timeout = max_ratelimit_timeout
        self._send_attempts = send_attempts
        self._retry_backoff = retry_backoff
        self._remembered_beats = remembered_beats
        self._remembered_messages = remembered_messages
        self._client: discord.Client | None = None
        self._handler: InboundHandler | None = None
        self._runner: asyncio.Task[None] | None = None
        self._delivery: asyncio.Task[None] | None = None
        self._inbox: asyncio.Queue[_Delivery | None] | None = None
        self._ready: asyncio.Event | None = None
        self._beats: OrderedDict[str, _BeatProgress] = OrderedDict()
        self._seen_messages: OrderedDict[tuple[int, datetime | None], None] = OrderedDict()
        self._saved_base: str | None = None
        self._saved_gateway: yarl.URL | None = None

    def __repr__(self) -> str:
        # The token never appears in a repr, a log line or an error message.
        return f"<DiscordAdapter api_base={self._api_base or Route.BASE!r} sharded={self._sharded}>"

    @property
    def platform(self) -> str:
        """Always "discord"."""
        return PLATFORM

    @property
    def bot_user(self) -> MemberRef:
        """The bot's own Discord user."""
        client = self._require_client()
        if client.user is None:
            raise AdapterNotReadyError("the Discord adapter has not logged in yet")
        return _member_ref(client.user)

    # Lifecycle.

    async def start(self, handler: InboundHandler) -> None:
        """Log in, connect to the gateway and return once ready (after `handler.on_ready` has run)."""
        if self._client is not None:
            raise AdapterError("this Discord adapter is already started; stop it before starting again")
        if not self._token or not self._token.strip():
            raise AdapterAuthError("no Discord bot token is configured: set the bot's token credential")
        self._handler = handler
        self._ready = asyncio.Event()
        self._inbox = asyncio.Queue()
        client = self._build_client()
        self._install_endpoints()
        self._client = client
        self._delivery = asyncio.create_task(self._deliver_forever(self._inbox), name="discord-adapter-delivery")
        try:
            await client.login(self._token)
        except discord.LoginFailure:
            await self._teardown()
            raise AdapterAuthError(
                "Discord rejected the bot token (401 on GET /users/@me): set a valid token in the bot's credentials"
            ) from None
        except (discord.HTTPException, *_CONNECTION_ERRORS) as exc:
            await self._teardown()
            raise AdapterConnectionError(
                f"could not log in to Discord at {Route.BASE}: {type(exc).__name__}: {exc}"
            ) from exc
        self._runner = asyncio.create_task(self._run_gateway(client), name="discord-adapter-gateway")
        ready_wait = asyncio.create_task(self._ready.wait())
        done, _ = await asyncio.wait(
            {ready_wait, self._runner}, timeout=self._ready_timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if ready_wait in done:
            return
        ready_wait.cancel()
        failure: BaseException | None = None
        if self._runner.done() and not self._runner.cancelled():
            failure = self._runner.exception()
        await self._teardown()
        if isinstance(failure, AdapterError):
            raise failure
        raise AdapterConnectionError(
            f"the Discord gateway did not become ready within {self._ready_timeout:g}s"
        ) from failure

    async def stop(self) -> None:
        """Close the gateway and HTTP session, deliver what was already received, restore discord.py's endpoints."""
        if self._client is None:
            return
        await self._teardown()

    async def wait_stopped(self) -> None:
        """Return when the gateway connection ends after `stop()`; raise the mapped error if it ended by failure."""
        runner = self._runner
        if runner is None:
            raise AdapterNotReadyError("the Discord adapter was never started")
        await asyncio.wait({runner})
        if not runner.cancelled() and (failure := runner.exception()) is not None:
            raise failure

    async def _teardown(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.close()
        runner = self._runner
        if runner is not None and not runner.done():
            # connect() returns soon after close(); a runner still going after that is stuck and gets cancelled.
            done, _ = await asyncio.wait({runner}, timeout=5.0)
            if not done:
                runner.cancel()
                await asyncio.wait({runner})
        delivery, self._delivery = self._delivery, None
        if delivery is not None and self._inbox is not None:
            self._inbox.put_nowait(None)
            try:
                await asyncio.wait_for(asyncio.shield(delivery), timeout=5.0)
            except TimeoutError:
                _log.warning("inbound handler still busy after 5s at stop; cancelling the remaining deliveries")
                delivery.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await delivery
        self._restore_endpoints()

    async def _run_gateway(self, client: discord.Client) -> None:
        """Run discord.py's connect loop (it reconnects and resumes by itself), mapping how it ends."""
        try:
            await client.connect(reconnect=True)
        except discord.PrivilegedIntentsRequired:
            raise AdapterError(
                "Discord refused the privileged intents (close 4014): enable the Message Content and Server Members "
                "intents for this bot in the Discord developer portal",
                code="adapter_intents_disallowed",
                retryable=False,
            ) from None
        except discord.ConnectionClosed as exc:
            if exc.code == 4004:
                raise AdapterAuthError(
                    "the Discord gateway rejected the bot token (close 4004): set a valid token"
                ) from None
            if exc.code in (4010, 4011, 4012, 4013):
                raise AdapterError(
                    f"the Discord gateway closed with {exc.code} ({exc.reason or 'invalid configuration'}): "
                    "check the sharding and intents settings",
                    code="adapter_gateway_refused",
                    retryable=False,
                ) from None
            raise AdapterConnectionError(f"the Discord gateway closed with {exc.code}") from exc
        except (discord.GatewayNotFound, discord.HTTPException, *_CONNECTION_ERRORS) as exc:
            raise AdapterConnectionError(f"lost the Discord gateway: {type(exc).__name__}: {exc}") from exc

    def _install_endpoints(self) -> None:
        if self._api_base is not None:
            if self._api_base != Route.BASE and not Route.BASE.startswith("https://discord.com/"):
                _log.warning("another adapter in this process already points discord.py at %s", Route.BASE)
            self._saved_base, Route.BASE = Route.BASE, self._api_base
        if self._gateway_url is not None:
            self._saved_gateway = DiscordWebSocket.DEFAULT_GATEWAY
            DiscordWebSocket.DEFAULT_GATEWAY = self._gateway_url

    def _restore_endpoints(self) -> None:
        if self._saved_base is not None and self._api_base == Route.BASE:
            Route.BASE = self._saved_base
        self._saved_base = None
        if self._saved_gateway is not None and self._gateway_url == DiscordWebSocket.DEFAULT_GATEWAY:
            DiscordWebSocket.DEFAULT_GATEWAY = self._saved_gateway
        self._saved_gateway = None

    def _build_client(self) -> discord.Client:
        options: dict[str, Any] = {
            "intents": self._intents,
            "guild_ready_timeout": self._guild_ready_timeout,
            # The bot never pings @everyone or roles by accident; users it names are pinged.
            "allowed_mentions": discord.AllowedMentions(everyone=False, roles=False, users=True, replied_user=True),
        }
        if self._max_ratelimit_timeout is not None:
            options["max_ratelimit_timeout"] = self._max_ratelimit_timeout
        client: _Client | _ShardedClient = (
            _ShardedClient(shard_count=self._shard_count, **options) if self._sharded else _Client(**options)
        )
        client.identify_delay = self._identify_delay
        # discord.py calls `on_<event>` attributes of the client; bound methods of the adapter serve as listeners.
        listeners: dict[str, Callable[..., Awaitable[None]]] = {
            "on_ready": self._on_ready,
            "on_resumed": self._on_resumed,
            "on_message": self._on_message,
            "on_raw_message_edit": self._on_raw_message_edit,
            "on_raw_reaction_add": self._on_raw_reaction_add,
            "on_raw_reaction_remove": self._on_raw_reaction_remove,
            "on_raw_typing": self._on_raw_typing,
        }
        for name, listener in listeners.items():
            setattr(client, name, listener)
        return client

    def _require_client(self) -> discord.Client:
        if self._client is None:
            raise AdapterNotReadyError("the Discord adapter is not started")
        return self._client

    # Inbound events: turned into neutral values and queued, so the handler sees them in gateway order.

    def _enqueue(self, delivery: _Delivery) -> None:
        if self._inbox is not None:
            self._inbox.put_nowait(delivery)

    async def _deliver_forever(self, inbox: asyncio.Queue[_Delivery | None]) -> None:
        while True:
            delivery = await inbox.get()
            if delivery is None:
                return
            try:
                await delivery()
            except Exception:  # noqa: BLE001 - one failing event must not stop the ones after it
                # One failing event must not stop the ones after it; the traceback goes to the log.
                _log.exception("the inbound handler failed on a Discord event")

    def _remember_message(self, message_id: int, edited_at: datetime | None = None) -> bool:
        """Record a delivered message (or edit); False when it was delivered before (a replay or a history overlap)."""
        key = (message_id, edited_at)
        if key in self._seen_messages:
            return False
        self._seen_messages[key] = None
        while len(self._seen_messages) > self._remembered_messages:
            self._seen_messages.popitem(last=False)
        return True

    async def _on_ready(self) -> None:
        client = self._client
        handler = self._handler
        if client is None or handler is None or client.user is None:
            return
        event = ReadyEvent(
            platform=PLATFORM,
            bot_user=_member_ref(client.user),
            guilds=tuple(_guild_snapshot(guild) for guild in client.guilds),
        )

        async def deliver() -> None:
            try:
                await handler.on_ready(event)
            finally:
                if self._ready is not None:
                    self._ready.set()

        self._enqueue(deliver)

    async def _on_resumed(self) -> None:
        handler = self._handler
        if handler is not None:
            self._enqueue(handler.on_resumed)

    async def _on_message(self, message: discord.Message) -> None:
        handler = self._handler
        if handler is None or message.type not in _USER_MESSAGE_TYPES:
            return
        if not self._remember_message(message.id):
            _log.debug("dropped a second delivery of Discord message %s", message.id)
            return
        inbound = _inbound_message(message, is_edit=False)
        self._enqueue(lambda: handler.on_message(inbound))

    async def _on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        handler = self._handler
        message = payload.message
        if handler is None or message.type not in _USER_MESSAGE_TYPES:
            return
        cached = payload.cached_message
        if cached is not None and cached.content == message.content:
            # Embeds unfurling or a pin toggling also arrive as MESSAGE_UPDATE; only content edits matter.
            return
        if not self._remember_message(message.id, message.edited_at):
            return
        inbound = _inbound_message(message, is_edit=True)
        self._enqueue(lambda: handler.on_message(inbound))

    async def _on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        self._reaction(payload, added=True)

    async def _on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        self._reaction(payload, added=False)

    def _reaction(self, payload: discord.RawReactionActionEvent, *, added: bool) -> None:
        client = self._client
        handler = self._handler
        if client is None or handler is None:
            return
        channel = _channel_ref_by_id(client, payload.channel_id, payload.guild_id)
        user = payload.member or _known_user(client, payload.user_id, payload.guild_id)
        reaction = InboundReaction(
            platform=PLATFORM,
            message=MessageRef(channel=channel, id=str(payload.message_id)),
            user=_member_ref(user) if user is not None else MemberRef(id=str(payload.user_id), display_name=""),
            emoji=str(payload.emoji),
            added=added,
            message_author_id=str(payload.message_author_id) if payload.message_author_id else None,
        )
        self._enqueue(lambda: handler.on_reaction(reaction))

    async def _on_raw_typing(self, payload: discord.RawTypingEvent) -> None:
        client = self._client
        handler = self._handler
        if client is None or handler is None:
            return
        user = payload.user or _known_user(client, payload.user_id, payload.guild_id)
        event = TypingEvent(
            platform=PLATFORM,
            channel=_channel_ref_by_id(client, payload.channel_id, payload.guild_id),
            user=_member_ref(user) if user is not None else MemberRef(id=str(payload.user_id), display_name=""),
            at=payload.timestamp,
        )
        self._enqueue(lambda: handler.on_typing(event))

    # Outbound.

    async def send(self, channel: ChannelRef, beat: OutputBeat) -> list[MessageRef]:
        """Send a beat as one message per chunk (the first replies to `beat.reply_to`); once per idempotency key."""
        client = self._require_client()
        progress = self._beats.get(beat.idempotency_key)
        if progress is None:
            progress = self._beats[beat.idempotency_key] = _BeatProgress()
        async with progress.lock:
            if progress.done:
                _log.info("beat %s was sent already; not sending it again", beat.idempotency_key)
                return list(progress.refs)
            chunks = split_message(beat.text)
            target = client.get_partial_messageable(int(channel.id), guild_id=_guild_id(channel))
            # A retry after a partial failure continues with the first chunk not yet sent.
            for index in range(len(progress.refs), len(chunks)):
                reference = None
                if index == 0 and beat.reply_to is not None:
                    reference = discord.MessageReference(
                        message_id=int(beat.reply_to.id),
                        channel_id=int(beat.reply_to.channel.id),
                        fail_if_not_exists=False,
                    )
                sent = await self._send_chunk(target, chunks[index], reference, _nonce(beat.idempotency_key, index))
                progress.refs.append(MessageRef(channel=channel, id=str(sent.id)))
            progress.done = True
            self._beats.move_to_end(beat.idempotency_key)
            while len(self._beats) > self._remembered_beats:
                oldest_key = next(iter(self._beats))
                if not self._beats[oldest_key].done:
                    break
                del self._beats[oldest_key]
            return list(progress.refs)

    async def _send_chunk(
        self,
        target: discord.PartialMessageable,
        text: str,
        reference: discord.MessageReference | None,
        nonce: str,
    ) -> discord.Message:
        """Send one chunk, retrying transient failures; the nonce keeps a retried chunk from appearing twice."""
        for attempt in range(1, self._send_attempts + 1):
            try:
                async with self._translate_errors("send a message"):
                    if reference is not None:
                        return await target.send(content=text, reference=reference, nonce=nonce)
                    return await target.send(content=text, nonce=nonce)
            except AdapterError as error:
                # A rate limit with a known retry_after exceeded max_ratelimit_timeout: waiting is the caller's call.
                callers_wait = isinstance(error, AdapterRateLimitedError) and error.retry_after is not None
                if not error.retryable or callers_wait or attempt == self._send_attempts:
                    raise
                delay = self._retry_backoff * 2 ** (attempt - 1)
            _log.warning(
                "sending a chunk failed (attempt %s of %s); retrying in %.2fs", attempt, self._send_attempts, delay
            )
            await asyncio.sleep(delay)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def typing(self, channel: ChannelRef) -> contextlib.AbstractAsyncContextManager[None]:
        """Show the bot typing in `channel` while the context is open (discord.py re-triggers it every 5 s)."""
        return self._typing(channel)

    @contextlib.asynccontextmanager
    async def _typing(self, channel: ChannelRef) -> AsyncIterator[None]:
        client = self._require_client()
        indicator = client.get_partial_messageable(int(channel.id), guild_id=_guild_id(channel)).typing()
        async with self._translate_errors("show typing"):
            await indicator.__aenter__()
        try:
            yield
        finally:
            await indicator.__aexit__(None, None, None)

    async def react(self, message: MessageRef, emoji: str) -> None:
        """Add the bot's reaction (a unicode emoji or "name:id") to a message."""
        partial = self._partial_message(message)
        async with self._translate_errors("add a reaction"):
            await partial.add_reaction(emoji)

    async def pin(self, message: MessageRef, *, reason: str | None = None) -> None:
        """Pin a message in its channel."""
        partial = self._partial_message(message)
        async with self._translate_errors("pin a message"):
            await partial.pin(reason=reason)

    async def create_channel(self, guild: GuildRef, spec: ChannelSpec, *, reason: str | None = None) -> ChannelRef:
        """Create a text channel, under `spec.category_id` when given."""
        client = self._require_client()
        guild_obj = client.get_guild(int(guild.id))
        if guild_obj is None:
            raise AdapterRequestError(
                f"cannot create a channel in guild {guild.id}: the bot is not in it",
                code="adapter_not_found",
                status=404,
            )
        options: dict[str, Any] = {"reason": reason}
        if spec.topic is not None:
            options["topic"] = spec.topic
        if spec.category_id is not None:
            category = guild_obj.get_channel(int(spec.category_id))
            if not isinstance(category, discord.CategoryChannel):
                raise AdapterRequestError(
                    f"category {spec.category_id} is not a category of guild {guild.id}",
                    code="adapter_not_found",
                    status=404,
                )
            options["category"] = category
        async with self._translate_errors("create a channel"):
            created = await guild_obj.create_text_channel(spec.name, **options)
        return _channel_ref(created)

    async def create_thread(self, parent: ChannelRef, spec: ThreadSpec, *, reason: str | None = None) -> ChannelRef:
        """Create a thread on `spec.from_message`, or a standalone (optionally private) thread in `parent`."""
        client = self._require_client()
        async with self._translate_errors("create a thread"):
            if spec.from_message is not None:
                partial = self._partial_message(spec.from_message)
                if partial.guild is None:
                    raise AdapterRequestError(
                        f"cannot start a thread in channel {parent.id}: it is not in a guild the bot knows"
                    )
                thread = await partial.create_thread(
                    name=spec.name, auto_archive_duration=_archive_minutes(spec.auto_archive_minutes), reason=reason
                )
            else:
                channel = client.get_channel(int(parent.id)) or await client.fetch_channel(int(parent.id))
                if not isinstance(channel, discord.TextChannel):
                    raise AdapterRequestError(f"threads can only be created in text channels, not in {parent.id}")
                thread_type = discord.ChannelType.private_thread if spec.private else discord.ChannelType.public_thread
                thread = await channel.create_thread(
                    name=spec.name,
                    auto_archive_duration=_archive_minutes(spec.auto_archive_minutes),
                    type=thread_type,
                    reason=reason,
                )
        return _channel_ref(thread)

    async def add_role(self, guild: GuildRef, member_id: str, role_id: str, *, reason: str | None = None) -> None:
        """Give a member a role (no-op when they hold it already)."""
        client = self._require_client()
        async with self._translate_errors("add a role"):
            await client.http.add_role(int(guild.id), int(member_id), int(role_id), reason=reason)

    async def remove_role(self, guild: GuildRef, member_id: str, role_id: str, *, reason: str | None = None) -> None:
        """Take a role from a member (no-op when they do not hold it)."""
        client = self._require_client()
        async with self._translate_errors("remove a role"):
            await client.http.remove_role(int(guild.id), int(member_id), int(role_id), reason=reason)

    async def fetch_history(
        self, channel: ChannelRef, *, after: MessageRef | None = None, limit: int = 100
    ) -> list[InboundMessage]:
        """Messages after `after` (else the latest), oldest first; they count as delivered for gateway replays."""
        client = self._require_client()
        cached = client.get_channel(int(channel.id))
        source: Any = (
            cached
            if isinstance(cached, discord.abc.Messageable)
            else client.get_partial_messageable(int(channel.id), guild_id=_guild_id(channel))
        )
        async with self._translate_errors("read channel history"):
            if after is not None:
                found = [
                    m
                    async for m in source.history(
                        limit=limit, after=discord.Object(id=int(after.id)), oldest_first=True
                    )
                ]
            else:
                found = [m async for m in source.history(limit=limit)]
                found.reverse()
        messages = []
        for message in found:
            if message.type in _USER_MESSAGE_TYPES:
                self._remember_message(message.id)
                messages.append(_inbound_message(message, is_edit=False))
        return messages

    def _partial_message(self, message: MessageRef) -> discord.PartialMessage:
        client = self._require_client()
        channel = client.get_partial_messageable(int(message.channel.id), guild_id=_guild_id(message.channel))
        return channel.get_partial_message(int(message.id))

    @contextlib.asynccontextmanager
    async def _translate_errors(self, action: str) -> AsyncIterator[None]:
        """Turn discord.py and network failures into adapter errors that say whether to retry."""
        try:
            yield
        except discord.RateLimited as exc:
            raise AdapterRateLimitedError(
                f"Discord rate limited the request to {action} for {exc.retry_after:.1f}s", retry_after=exc.retry_after
            ) from exc
        except discord.Forbidden as exc:
            raise AdapterRequestError(
                f"Discord refused to {action}: the bot lacks a permission ({exc.text or exc.status})",
                code="adapter_forbidden",
                status=403,
            ) from exc
        except discord.NotFound as exc:
            raise AdapterRequestError(
                f"cannot {action}: Discord does not know the target ({exc.text or exc.status})",
                code="adapter_not_found",
                status=404,
            ) from exc
        except discord.DiscordServerError as exc:
            raise AdapterRequestError(
                f"Discord failed to {action} ({exc.status})", code="adapter_platform_unavailable", retryable=True
            ) from exc
        except discord.HTTPException as exc:
            if exc.status == 429:
                raise AdapterRateLimitedError(f"Discord kept rate limiting the request to {action}") from exc
            raise AdapterRequestError(f"Discord rejected the request to {action}: {exc.text or exc.status}") from exc
        except _CONNECTION_ERRORS as exc:
            raise AdapterConnectionError(f"could not reach Discord to {action}: {type(exc).__name__}") from exc


# Conversions from discord.py objects to neutral values.


def _nonce(key: str, index: int) -> str:
    return hashlib.sha256(f"{key}\x00{index}".encode()).hexdigest()[:_NONCE_LENGTH]


def _archive_minutes(minutes: int) -> _ArchiveMinutes:
    """The shortest auto-archive duration Discord offers that is at least `minutes` (a week at most)."""
    for allowed in _ARCHIVE_MINUTES:
        if minutes <= allowed:
            return allowed
    return _ARCHIVE_MINUTES[-1]


def _guild_id(channel: ChannelRef) -> int | None:
    return int(channel.guild.id) if channel.guild is not None else None


def _guild_ref(guild: discord.Guild | None) -> GuildRef | None:
    return GuildRef(id=str(guild.id), name=guild.name) if guild is not None else None


def _member_ref(user: discord.abc.User | discord.ClientUser) -> MemberRef:
    role_ids: tuple[str, ...] = ()
    if isinstance(user, discord.Member):
        role_ids = tuple(str(role.id) for role in user.roles if not role.is_default())
    return MemberRef(id=str(user.id), display_name=user.display_name, is_bot=user.bot, role_ids=role_ids)


def _known_user(client: discord.Client, user_id: int, guild_id: int | None) -> discord.abc.User | None:
    if guild_id is not None:
        guild = client.get_guild(guild_id)
        member = guild.get_member(user_id) if guild is not None else None
        if member is not None:
            return member
    return client.get_user(user_id)


def _channel_ref(channel: Any) -> ChannelRef:
    """A ChannelRef for any discord.py channel-like object (cached channel, thread, DM or partial)."""
    guild = _guild_ref(getattr(channel, "guild", None))
    name = getattr(channel, "name", None) or ""
    if isinstance(channel, discord.Thread):
        return ChannelRef(
            id=str(channel.id),
            name=name,
            guild=guild,
            kind=ChannelKind.THREAD,
            parent_id=str(channel.parent_id),
            owner_id=str(channel.owner_id) if channel.owner_id else None,
        )
    if isinstance(channel, discord.DMChannel | discord.GroupChannel):
        return ChannelRef(id=str(channel.id), name=name, guild=None, kind=ChannelKind.DM)
    if isinstance(channel, discord.CategoryChannel):
        return ChannelRef(id=str(channel.id), name=name, guild=guild, kind=ChannelKind.CATEGORY)
    if isinstance(channel, discord.TextChannel):
        return ChannelRef(id=str(channel.id), name=name, guild=guild, kind=ChannelKind.TEXT)
    if isinstance(channel, discord.PartialMessageable):
        kind = ChannelKind.TEXT
        if channel.type in (discord.ChannelType.private, discord.ChannelType.group):
            kind = ChannelKind.DM
        elif channel.type in (discord.ChannelType.public_thread, discord.ChannelType.private_thread):
            kind = ChannelKind.THREAD
        elif channel.guild_id is None and channel.type is None:
            kind = ChannelKind.DM
        guild_ref = guild or (GuildRef(id=str(channel.guild_id)) if channel.guild_id else None)
        return ChannelRef(id=str(channel.id), name=name, guild=guild_ref, kind=kind)
    return ChannelRef(id=str(channel.id), name=name, guild=guild, kind=ChannelKind.OTHER)


def _channel_ref_by_id(client: discord.Client, channel_id: int, guild_id: int | None) -> ChannelRef:
    channel = client.get_channel(channel_id)
    if channel is not None:
        return _channel_ref(channel)
    return _channel_ref(client.get_partial_messageable(channel_id, guild_id=guild_id))


def _guild_snapshot(guild: discord.Guild) -> GuildSnapshot:
    channels = [*guild.channels, *guild.threads]
    me = guild.me
    return GuildSnapshot(
        guild=GuildRef(id=str(guild.id), name=guild.name),
        bot_role_ids=tuple(str(role.id) for role in me.roles if not role.is_default()) if me is not None else (),
        channels=tuple(_channel_ref(channel) for channel in channels),
        roles=tuple(
            RoleRef(id=str(role.id), name=role.name, position=role.position)
            for role in guild.roles
            if not role.is_default()
        ),
    )


def _inbound_message(message: discord.Message, *, is_edit: bool) -> InboundMessage:
    channel = _channel_ref(message.channel)
    reply_to = None
    reference = message.reference
    if reference is not None and reference.message_id is not None and message.type is discord.MessageType.reply:
        replied_channel = channel
        if reference.channel_id != message.channel.id:
            replied_channel = ChannelRef(id=str(reference.channel_id), guild=channel.guild)
        resolved = reference.resolved
        reply_to = ReplyRef(
            message=MessageRef(channel=replied_channel, id=str(reference.message_id)),
            author_id=str(resolved.author.id) if isinstance(resolved, discord.Message) else None,
        )
    content = message.content
    return InboundMessage(
        platform=PLATFORM,
        message=MessageRef(channel=channel, id=str(message.id)),
        guild=_guild_ref(message.guild),
        channel=channel,
        author=_member_ref(message.author),
        content=content,
        created_at=message.created_at,
        reply_to=reply_to,
        # The payload's mention lists are authoritative (they include the replied-to author); the content's
        # role mentions cover roles missing from the cache.
        mentioned_user_ids=tuple(dict.fromkeys(str(user.id) for user in message.mentions)),
        mentioned_role_ids=tuple(
            dict.fromkeys([*(str(role.id) for role in message.role_mentions), *map(str, message.raw_role_mentions)])
        ),
        # Discord sets one flag for both; the content tells @everyone from @here.
        mentions_everyone=message.mention_everyone and "@everyone" in content,
        mentions_here=message.mention_everyone and "@here" in content,
        is_edit=is_edit,
        attachment_count=len(message.attachments),
    )
