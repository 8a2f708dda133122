"""The Discord adapter: discord.py 2.7.1 behind the platform-neutral PlatformAdapter.

This package is the only place in the project that imports `discord`.

Pointing discord.py somewhere other than Discord (the local Discord in tests) uses two class attributes that are
process-global in discord.py: `discord.http.Route.BASE` (the REST base) and
`discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY` (the first gateway URL, and the one used again after an
invalid session). `start()` sets them when `api_base`/`gateway_url` are given and `stop()` puts back what it found,
so two adapters with different endpoints cannot run in one process at the same time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bots.adapters.base import (
    InboundHandler,
    InboundReaction,
    MemberRef,
    MessageRef,
    PlatformAdapter,
    ReadyEvent,
    TypingEvent,
)
from bots.adapters.discord.conversions import (
    PLATFORM,
    USER_MESSAGE_TYPES,
    channel_ref_by_id,
    guild_snapshot,
    inbound_message,
    known_user,
    member_ref,
)
from bots.adapters.discord.outbound import CONNECTION_ERRORS, DiscordOutbound, _BeatProgress
from bots.adapters.errors import AdapterAuthError, AdapterConnectionError, AdapterError, AdapterNotReadyError

_log = logging.getLogger(__name__)

_Delivery = Callable[[], Awaitable[None]]
_REACTION_EVENTS = ('"t":"MESSAGE_REACTION_ADD"', '"t":"MESSAGE_REACTION_REMOVE"')
_REMEMBERED_DISPATCHES = 10_000


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


class ReplayGuard:
    """Tells a gateway dispatch delivered again (a RESUME replaying what the client already had) from a new one.

    Messages carry ids and are deduplicated by them; reactions carry none, so the dispatch's sequence number is
    read off the raw frame (discord.py's `socket_raw_receive`, before it parses the frame) and remembered.
    discord.py schedules the raw-frame listener before the parsed event's, so the mark is waiting when the
    reaction arrives.
    """

    def __init__(self, remembered: int = _REMEMBERED_DISPATCHES) -> None:
        self._seen: OrderedDict[tuple[str, int, str, str, str], None] = OrderedDict()
        self._marks: dict[tuple[str, str, str, bool], deque[bool]] = {}
        self._remembered = remembered

    def frame(self, raw: str | bytes) -> None:
        """Look at one raw gateway frame; a reaction dispatch is marked new or replayed."""
        text = raw.decode() if isinstance(raw, bytes) else raw
        if not any(marker in text.replace(" ", "") for marker in _REACTION_EVENTS):
            return
        try:
            frame = json.loads(text)
        except ValueError:
            return
        data = frame.get("d") or {}
        seq = frame.get("s")
        if not isinstance(seq, int) or not isinstance(data, dict):
            return
        added = frame.get("t") == "MESSAGE_REACTION_ADD"
        emoji = data.get("emoji") or {}
        name = str(emoji.get("name") or "")
        emoji_key = f"<:{name}:{emoji['id']}>" if emoji.get("id") else name
        who = (str(data.get("message_id")), str(data.get("user_id")), emoji_key)
        key = (str(frame.get("t")), seq, *who)
        replayed = key in self._seen
        self._seen[key] = None
        while len(self._seen) > self._remembered:
            self._seen.popitem(last=False)
        self._marks.setdefault((*who, added), deque()).append(replayed)

    def replayed(self, *, message_id: str, user_id: str, emoji: str, added: bool) -> bool:
        """Whether this parsed reaction event is a dispatch the client had already received."""
        marks = self._marks.get((message_id, user_id, emoji, added))
        if not marks:
            return False
        replayed = marks.popleft()
        if not marks:
            del self._marks[(message_id, user_id, emoji, added)]
        return replayed


class DiscordAdapter(DiscordOutbound, PlatformAdapter):
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
        self._replays = ReplayGuard()

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
        return member_ref(client.user)

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
        except (discord.HTTPException, *CONNECTION_ERRORS) as exc:
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
        except (discord.GatewayNotFound, discord.HTTPException, *CONNECTION_ERRORS) as exc:
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
            # For `socket_raw_receive`: reactions carry no id, so a replayed one is told by its sequence number.
            "enable_debug_events": True,
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
            "on_socket_raw_receive": self._on_socket_raw_receive,
        }
        for name, listener in listeners.items():
            setattr(client, name, listener)
        return client

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

    async def _on_ready(self) -> None:
        client = self._client
        handler = self._handler
        if client is None or handler is None or client.user is None:
            return
        event = ReadyEvent(
            platform=PLATFORM,
            bot_user=member_ref(client.user),
            guilds=tuple(guild_snapshot(guild) for guild in client.guilds),
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
        if handler is None or message.type not in USER_MESSAGE_TYPES:
            return
        if not self._remember_message(message.id):
            _log.debug("dropped a second delivery of Discord message %s", message.id)
            return
        inbound = inbound_message(message, is_edit=False)
        self._enqueue(lambda: handler.on_message(inbound))

    async def _on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        handler = self._handler
        message = payload.message
        if handler is None or message.type not in USER_MESSAGE_TYPES:
            return
        cached = payload.cached_message
        if cached is not None and cached.content == message.content:
            # Embeds unfurling or a pin toggling also arrive as MESSAGE_UPDATE; only content edits matter.
            return
        if not self._remember_message(message.id, message.edited_at):
            return
        inbound = inbound_message(message, is_edit=True)
        self._enqueue(lambda: handler.on_message(inbound))

    async def _on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        self._reaction(payload, added=True)

    async def _on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        self._reaction(payload, added=False)

    async def _on_socket_raw_receive(self, raw: str | bytes) -> None:
        self._replays.frame(raw)

    def _reaction(self, payload: discord.RawReactionActionEvent, *, added: bool) -> None:
        client = self._client
        handler = self._handler
        if client is None or handler is None:
            return
        if self._replays.replayed(
            message_id=str(payload.message_id), user_id=str(payload.user_id), emoji=str(payload.emoji), added=added
        ):
            _log.debug("dropped a replayed reaction %s on message %s", payload.emoji, payload.message_id)
            return
        channel = channel_ref_by_id(client, payload.channel_id, payload.guild_id)
        user = payload.member or known_user(client, payload.user_id, payload.guild_id)
        reaction = InboundReaction(
            platform=PLATFORM,
            message=MessageRef(channel=channel, id=str(payload.message_id)),
            user=member_ref(user) if user is not None else MemberRef(id=str(payload.user_id), display_name=""),
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
        user = payload.user or known_user(client, payload.user_id, payload.guild_id)
        event = TypingEvent(
            platform=PLATFORM,
            channel=channel_ref_by_id(client, payload.channel_id, payload.guild_id),
            user=member_ref(user) if user is not None else MemberRef(id=str(payload.user_id), display_name=""),
            at=payload.timestamp,
        )
        self._enqueue(lambda: handler.on_typing(event))

    # Outbound.
