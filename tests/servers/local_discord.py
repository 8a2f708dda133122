"""A protocol-faithful local Discord for tests: the REST API and the gateway, in a background thread.

The real discord.py client talks to it over HTTP and a websocket exactly as it talks to Discord: login
(`GET /users/@me`, `GET /oauth2/applications/@me`), HELLO/IDENTIFY/READY/GUILD_CREATE, heartbeats, dispatches with
sequence numbers, RESUME with replay, op 7 and op 9, rate-limit headers and 429s. Tests drive it through a small
synchronous, thread-safe API (`add_guild`, `post_message`, `disconnect`, ...) and wait with `wait_for`, which polls
with a timeout. Every mutation runs on the server's own loop, so the state is never touched from two threads.

Use it through the `local_discord` pytest fixture (registered as a plugin in the root conftest).
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import hashlib
import json
import logging
import re
import secrets
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest
from aiohttp import WSMsgType, web

__all__ = [
    "FaultRule",
    "GatewayRecord",
    "LocalChannel",
    "LocalDiscord",
    "LocalGuild",
    "LocalRole",
    "LocalUser",
    "RequestRecord",
    "local_discord",
]

_log = logging.getLogger(__name__)
T = TypeVar("T")

DISCORD_EPOCH_MS = 1420070400000
API_VERSION = 10
MESSAGE_LIMIT = 2000

# Gateway opcodes.
OP_DISPATCH = 0
OP_HEARTBEAT = 1
OP_IDENTIFY = 2
OP_PRESENCE = 3
OP_VOICE_STATE = 4
OP_RESUME = 6
OP_RECONNECT = 7
OP_REQUEST_MEMBERS = 8
OP_INVALID_SESSION = 9
OP_HELLO = 10
OP_HEARTBEAT_ACK = 11

# Channel types.
GUILD_TEXT = 0
DM = 1
GUILD_CATEGORY = 4
PUBLIC_THREAD = 11
PRIVATE_THREAD = 12

# Message types a user can produce, and the system message Discord posts when a message is pinned.
MESSAGE_DEFAULT = 0
MESSAGE_CHANNEL_PINNED = 6
MESSAGE_REPLY = 19

PRIVILEGED_INTENTS = (1 << 1) | (1 << 8) | (1 << 15)  # members, presences, message content
GATEWAY_SENDS_PER_MINUTE = 120

_MENTION_USER = re.compile(r"<@!?(\d+)>")
_MENTION_ROLE = re.compile(r"<@&(\d+)>")


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat()


class _Snowflakes:
    """Discord-shaped ids: milliseconds since the Discord epoch in the top bits, strictly increasing."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0

    def next(self) -> int:
        with self._lock:
            candidate = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
            self._last = max(candidate, self._last + 1)
            return self._last

    @staticmethod
    def created_at(snowflake: int) -> datetime:
        return datetime.fromtimestamp(((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000, tz=UTC)


@dataclass
class LocalUser:
    """A user of the local Discord: a human unless `bot`."""

    id: str
    username: str
    bot: bool = False
    global_name: str | None = None

    def payload(self) -> dict[str, Any]:
        """The user object Discord sends."""
        return {
            "id": self.id,
            "username": self.username,
            "global_name": self.global_name,
            "discriminator": "0",
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
        }


@dataclass
class LocalRole:
    """A guild role; the role whose id equals the guild id is @everyone."""

    id: str
    name: str
    position: int = 0
    permissions: str = "0"

    def payload(self) -> dict[str, Any]:
        """The role object Discord sends."""
        return {
            "id": self.id,
            "name": self.name,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": self.permissions,
            "managed": False,
            "mentionable": True,
            "flags": 0,
        }


@dataclass
class LocalChannel:
    """A text channel, category, thread or DM."""

    id: str
    type: int
    name: str
    guild_id: str | None = None
    parent_id: str | None = None
    owner_id: str | None = None
    topic: str | None = None
    position: int = 0
    recipients: tuple[LocalUser, ...] = ()
    private: bool = False
    auto_archive_duration: int = 1440
    created: datetime = field(default_factory=_now)

    @property
    def is_thread(self) -> bool:
        """Whether this channel is a thread."""
        return self.type in (PUBLIC_THREAD, PRIVATE_THREAD)

    def payload(self, *, with_guild_id: bool = True) -> dict[str, Any]:
        """The channel object Discord sends (GUILD_CREATE omits `guild_id` on its channels)."""
        data: dict[str, Any] = {"id": self.id, "type": self.type, "last_message_id": None, "flags": 0}
        if self.type == DM:
            data["recipients"] = [user.payload() for user in self.recipients]
            return data
        data.update(name=self.name, rate_limit_per_user=0, parent_id=self.parent_id)
        if with_guild_id:
            data["guild_id"] = self.guild_id
        if self.is_thread:
            data.update(
                owner_id=self.owner_id,
                message_count=0,
                member_count=1,
                total_message_sent=0,
                thread_metadata={
                    "archived": False,
                    "auto_archive_duration": self.auto_archive_duration,
                    "archive_timestamp": _iso(self.created),
                    "locked": False,
                    "invitable": not self.private,
                    "create_timestamp": _iso(self.created),
                },
            )
        else:
            data.update(position=self.position, permission_overwrites=[], nsfw=False, topic=self.topic)
        return data


@dataclass
class _Member:
    user: LocalUser
    role_ids: list[str]
    joined_at: datetime = field(default_factory=_now)
    nick: str | None = None

    def payload(self, *, with_user: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "roles": list(self.role_ids),
            "nick": self.nick,
            "avatar": None,
            "joined_at": _iso(self.joined_at),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = self.user.payload()
        return data


@dataclass
class LocalGuild:
    """A guild with its roles, channels (threads included) and members."""

    id: str
    name: str
    owner_id: str
    roles: dict[str, LocalRole] = field(default_factory=dict)
    channels: dict[str, LocalChannel] = field(default_factory=dict)
    members: dict[str, _Member] = field(default_factory=dict)

    def channel(self, name: str) -> LocalChannel:
        """The channel (or thread) named `name`."""
        for channel in list(self.channels.values()):
            if channel.name == name:
                return channel
        raise KeyError(f"guild {self.name!r} has no channel named {name!r}")

    def role(self, name: str) -> LocalRole:
        """The role named `name`."""
        for role in list(self.roles.values()):
            if role.name == name:
                return role
        raise KeyError(f"guild {self.name!r} has no role named {name!r}")

    def user(self, username: str) -> LocalUser:
        """The member whose username is `username`."""
        for member in list(self.members.values()):
            if member.user.username == username:
                return member.user
        raise KeyError(f"guild {self.name!r} has no member named {username!r}")

    def member_role_ids(self, user_id: str) -> list[str]:
        """The role ids a member holds now."""
        return list(self.members[user_id].role_ids)

    def payload(self, *, shard: tuple[int, int] | None = None) -> dict[str, Any]:
        """The GUILD_CREATE payload."""
        channels = [c for c in self.channels.values() if not c.is_thread]
        threads = [c for c in self.channels.values() if c.is_thread]
        return {
            "id": self.id,
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": self.owner_id,
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "en-US",
            "system_channel_id": None,
            "system_channel_flags": 0,
            "vanity_url_code": None,
            "features": [],
            "emojis": [],
            "stickers": [],
            "roles": [role.payload() for role in self.roles.values()],
            "channels": [channel.payload(with_guild_id=False) for channel in channels],
            "threads": [thread.payload() for thread in threads],
            "members": [member.payload() for member in self.members.values()],
            "member_count": len(self.members),
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "large": False,
            "unavailable": False,
            "joined_at": _iso(_now()),
            "max_members": 500000,
            "lazy": True,
        }


@dataclass(frozen=True)
class RequestRecord:
    """One REST request the local Discord answered (the Authorization header is never kept)."""

    method: str
    path: str
    route: str
    status: int
    body: Any
    query: dict[str, str]
    authorized: bool
    at: float

    def matches(self, pattern: str) -> bool:
        """Whether "METHOD /path" or "METHOD /route/{template}" matches the fnmatch `pattern`."""
        return fnmatch.fnmatchcase(f"{self.method} {self.route}", pattern) or fnmatch.fnmatchcase(
            f"{self.method} {self.path}", pattern
        )


@dataclass(frozen=True)
class GatewayRecord:
    """One gateway happening: connect, identify, resume, heartbeat, op sent, close."""

    kind: str
    path: str
    session_id: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class FaultRule:
    """Answer `count` matching REST requests with `status` instead of handling them (or after, `after_commit`)."""

    pattern: str
    status: int
    remaining: int
    retry_after: float = 0.05
    is_global: bool = False
    via: bool = True
    after_commit: bool = False
    skip: int = 0
    drop_connection: bool = False

    def matches(self, method: str, route: str, path: str) -> bool:
        """Whether a request hits this fault."""
        return fnmatch.fnmatchcase(f"{method} {route}", self.pattern) or fnmatch.fnmatchcase(
            f"{method} {path}", self.pattern
        )


@dataclass
class _Bucket:
    limit: int
    per: float
    window_start: float = 0.0
    used: int = 0


class _HTTPError(Exception):
    def __init__(self, status: int, message: str, code: int = 0, errors: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"message": message, "code": code}
        if errors is not None:
            self.body["errors"] = errors


class _Connection:
    """One websocket to the gateway; frames go out in order through one writer task."""

    def __init__(self, ws: web.WebSocketResponse, path: str) -> None:
        self.ws = ws
        self.path = path
        self.outbox: asyncio.Queue[dict[str, Any] | int] = asyncio.Queue()
        self.session: _Session | None = None
        self.sent_frames: list[float] = []
        self.closing = False

    def send(self, payload: dict[str, Any]) -> None:
        if not self.closing:
            self.outbox.put_nowait(payload)

    def close(self, code: int) -> None:
        if not self.closing:
            self.closing = True
            self.outbox.put_nowait(code)


@dataclass
class _Session:
    id: str
    user: LocalUser
    token: str
    shard: tuple[int, int] | None
    intents: int
    seq: int = 0
    log: list[dict[str, Any]] = field(default_factory=list)
    connection: _Connection | None = None
    invalid: bool = False

    def sees_guild(self, guild_id: str) -> bool:
        if self.shard is None:
            return True
        shard_id, shard_count = self.shard
        return (int(guild_id) >> 22) % shard_count == shard_id

    def dispatch(self, event: str, data: dict[str, Any]) -> None:
        self.seq += 1
        payload = {"op": OP_DISPATCH, "t": event, "s": self.seq, "d": data}
        self.log.append(payload)
        if self.connection is not None:
            self.connection.send(payload)


_Handler = Callable[[web.Request, dict[str, str], LocalUser], Awaitable[web.Response]]


class LocalDiscord:
    """A local Discord: REST under `api_base`, the gateway at `gateway_url`, state inspectable from tests."""

    def __init__(
        self,
        *,
        bot_name: str = "dit-bot",
        heartbeat_interval_ms: int = 41250,
        privileged_intents: bool = True,
        rate_limit: int = 50,
        rate_limit_per: float = 1.0,
        shards: int = 1,
    ) -> None:
        self._ids = _Snowflakes()
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.privileged_intents = privileged_intents
        self.recommended_shards = shards
        self._default_bucket = (rate_limit, rate_limit_per)
        self._bucket_overrides: list[tuple[str, int, float]] = []
        self._buckets: dict[str, _Bucket] = {}
        self._tokens: dict[str, LocalUser] = {}
        self._users: dict[str, LocalUser] = {}
        self._guilds: dict[str, LocalGuild] = {}
        self._dm_channels: dict[str, LocalChannel] = {}
        self._messages: dict[str, list[dict[str, Any]]] = {}
        self._pins: dict[str, list[tuple[str, datetime]]] = {}
        self._reactions: list[tuple[str, str, str, str]] = []
        self._typing: list[tuple[str, str]] = []
        self._requests: list[RequestRecord] = []
        self._gateway_log: list[GatewayRecord] = []
        self._faults: list[FaultRule] = []
        self._sessions: dict[str, _Session] = {}
        self._connections: set[_Connection] = set()
        self._ack_heartbeats = True
        self._replay_overlap = 0
        self._routes: list[tuple[str, str, re.Pattern[str], _Handler]] = []
        self._register_routes()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._gate: asyncio.Event | None = None
        self._port = 0
        self.bot = self.add_bot(bot_name)
        self.bot_token = self._token_of(self.bot)

    # Lifecycle.

    def start(self) -> LocalDiscord:
        """Start serving on 127.0.0.1 (a free port) in a background thread; returns self."""
        if self._thread is not None:
            raise RuntimeError("the local Discord is already running")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        started = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            try:
                loop.run_until_complete(self._serve(sock))
            except BaseException as exc:  # noqa: BLE001 - reported to the starting thread, which raises it
                failure.append(exc)
                started.set()
                return
            started.set()
            loop.run_forever()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

        self._thread = threading.Thread(target=serve, name="local-discord", daemon=True)
        self._thread.start()
        started.wait(timeout=10)
        if failure:
            raise RuntimeError("the local Discord failed to start") from failure[0]
        return self

    async def _serve(self, sock: socket.socket) -> None:
        self._gate = asyncio.Event()
        self._gate.set()
        app = web.Application()
        app.router.add_route("*", f"/api/v{API_VERSION}/{{tail:.*}}", self._rest)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/gateway/resume", self._gateway)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()

    def stop(self) -> None:
        """Close every connection and stop the server thread."""
        if self._thread is None or self._loop is None:
            return

        async def shutdown() -> None:
            for connection in list(self._connections):
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(connection.ws.close(code=1001), timeout=0.5)
            if self._runner is not None:
                await self._runner.cleanup()
            current = asyncio.current_task()
            leftovers = [task for task in asyncio.all_tasks() if task is not current]
            for task in leftovers:
                task.cancel()
            await asyncio.gather(*leftovers, return_exceptions=True)

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._thread = None

    def __enter__(self) -> LocalDiscord:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def api_base(self) -> str:
        """The REST base URL (what discord.py calls Route.BASE)."""
        return f"http://127.0.0.1:{self._port}/api/v{API_VERSION}"

    @property
    def gateway_url(self) -> str:
        """The gateway URL for the first connection (discord.py's DEFAULT_GATEWAY)."""
        return f"ws://127.0.0.1:{self._port}/gateway"

    @property
    def resume_gateway_url(self) -> str:
        """The URL READY hands out for resuming; a resume arriving here proves the client followed it."""
        return f"ws://127.0.0.1:{self._port}/gateway/resume"

    def _run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run `fn` on the server loop (where all state lives) and return its result."""
        if self._loop is None or threading.current_thread() is self._thread:
            return fn(*args, **kwargs)

        async def call() -> T:
            return fn(*args, **kwargs)

        return asyncio.run_coroutine_threadsafe(call(), self._loop).result(timeout=10)

    # Building the world.

    def add_bot(self, name: str) -> LocalUser:
        """Register a bot user with its own token (see `token_for`); it joins every existing guild."""
        return self._run(self._add_bot, name)

    def _add_bot(self, name: str) -> LocalUser:
        user = LocalUser(id=str(self._ids.next()), username=name, bot=True)
        self._users[user.id] = user
        self._tokens[f"{secrets.token_urlsafe(18)}.local.{secrets.token_urlsafe(27)}"] = user
        for guild in self._guilds.values():
            guild.members[user.id] = _Member(user=user, role_ids=[])
        return user

    def token_for(self, bot: LocalUser) -> str:
        """The token that authenticates as `bot`."""
        return self._token_of(bot)

    def _token_of(self, bot: LocalUser) -> str:
        for token, user in self._tokens.items():
            if user.id == bot.id:
                return token
        raise KeyError(f"{bot.username!r} is not a bot of this local Discord")

    def add_user(self, username: str, *, bot: bool = False) -> LocalUser:
        """Create a user that is not yet in any guild."""
        return self._run(self._add_user, username, bot)

    def _add_user(self, username: str, bot: bool) -> LocalUser:
        user = LocalUser(id=str(self._ids.next()), username=username, bot=bot)
        self._users[user.id] = user
        return user

    def add_guild(
        self,
        name: str = "Local Guild",
        *,
        channels: Sequence[str] = ("general",),
        roles: Sequence[str] = ("moderator",),
        members: Iterable[str | LocalUser] = ("alice", "bob"),
    ) -> LocalGuild:
        """Create a guild with text channels, roles and human members; every bot joins it (GUILD_CREATE if live)."""
        return self._run(self._add_guild, name, tuple(channels), tuple(roles), tuple(members))

    def _add_guild(
        self, name: str, channels: tuple[str, ...], roles: tuple[str, ...], members: tuple[str | LocalUser, ...]
    ) -> LocalGuild:
        guild_id = str(self._ids.next())
        humans = [m if isinstance(m, LocalUser) else self._add_user(m, False) for m in members]
        bots = list(self._tokens.values())
        guild = LocalGuild(id=guild_id, name=name, owner_id=(humans[0] if humans else bots[0]).id)
        guild.roles[guild_id] = LocalRole(id=guild_id, name="@everyone", permissions="1071698660929")
        for position, role_name in enumerate(roles, start=1):
            role = LocalRole(id=str(self._ids.next()), name=role_name, position=position)
            guild.roles[role.id] = role
        for position, channel_name in enumerate(channels):
            channel = LocalChannel(id=str(self._ids.next()), type=GUILD_TEXT, name=channel_name, position=position)
            channel.guild_id = guild_id
            guild.channels[channel.id] = channel
            self._messages[channel.id] = []
        for user in [*bots, *humans]:
            guild.members[user.id] = _Member(user=user, role_ids=[])
        self._guilds[guild_id] = guild
        for session in self._live_sessions():
            if session.sees_guild(guild_id):
                session.dispatch("GUILD_CREATE", guild.payload())
        return guild

    def grant_role(self, guild: LocalGuild, user: LocalUser, role_name: str) -> None:
        """Give a member a role (GUILD_MEMBER_UPDATE when live), as a moderator would in the Discord client."""
        self._run(self._grant_role, guild, user, role_name)

    def _grant_role(self, guild: LocalGuild, user: LocalUser, role_name: str) -> None:
        member = guild.members[user.id]
        role = guild.role(role_name)
        if role.id not in member.role_ids:
            member.role_ids.append(role.id)
            self._dispatch_guild(guild, "GUILD_MEMBER_UPDATE", {"guild_id": guild.id, **member.payload()})

    def open_dm(self, user: LocalUser, bot: LocalUser | None = None) -> LocalChannel:
        """The DM channel between `user` and the bot (created on first use)."""
        return self._run(self._open_dm, user, bot or self.bot)

    def _open_dm(self, user: LocalUser, bot: LocalUser) -> LocalChannel:
        for channel in self._dm_channels.values():
            if {u.id for u in channel.recipients} == {user.id, bot.id}:
                return channel
        channel = LocalChannel(id=str(self._ids.next()), type=DM, name="", recipients=(user, bot))
        self._dm_channels[channel.id] = channel
        self._messages[channel.id] = []
        return channel

    # Acting as humans.

    def post_message(
        self,
        channel_id: str,
        author: LocalUser,
        content: str,
        *,
        mentions: Iterable[LocalUser | str] = (),
        role_mentions: Iterable[str] = (),
        reply_to: str | None = None,
        attachments: int = 0,
    ) -> dict[str, Any]:
        """Post a message as `author`: stored for history and dispatched as MESSAGE_CREATE. Returns its payload.

        Mentions are parsed from the content (`<@id>`, `<@&id>`, @everyone, @here) as Discord does; `mentions`
        and `role_mentions` add more. A reply mentions the replied-to author, as Discord's default does.
        """
        extra_users = [m.id if isinstance(m, LocalUser) else m for m in mentions]
        return self._run(
            self._post_message, channel_id, author, content, extra_users, list(role_mentions), reply_to, attachments
        )

    def _post_message(
        self,
        channel_id: str,
        author: LocalUser,
        content: str,
        extra_users: list[str],
        extra_roles: list[str],
        reply_to: str | None,
        attachments: int,
    ) -> dict[str, Any]:
        channel = self._channel(channel_id)
        reference = self._message(channel_id, reply_to) if reply_to is not None else None
        message = self._create_message(
            channel,
            author,
            content,
            reference=reference,
            allowed=None,
            extra_users=extra_users,
            extra_roles=extra_roles,
            attachments=attachments,
        )
        return json.loads(json.dumps(message))

    def edit_message(self, channel_id: str, message_id: str, content: str) -> dict[str, Any]:
        """Edit a stored message's content and dispatch MESSAGE_UPDATE (with the full message, as Discord does)."""
        return self._run(self._edit_message, channel_id, message_id, content)

    def _edit_message(self, channel_id: str, message_id: str, content: str) -> dict[str, Any]:
        message = self._message(channel_id, message_id)
        channel = self._channel(channel_id)
        message["content"] = content
        message["edited_timestamp"] = _iso(_now())
        self._fill_mentions(message, channel, None, [], [])
        self._dispatch_message_event("MESSAGE_UPDATE", channel, message)
        return json.loads(json.dumps(message))

    def add_reaction(self, channel_id: str, message_id: str, user: LocalUser, emoji: str) -> None:
        """React as `user` and dispatch MESSAGE_REACTION_ADD."""
        self._run(self._react, channel_id, message_id, user, emoji, True)

    def remove_reaction(self, channel_id: str, message_id: str, user: LocalUser, emoji: str) -> None:
        """Remove `user`'s reaction and dispatch MESSAGE_REACTION_REMOVE."""
        self._run(self._react, channel_id, message_id, user, emoji, False)

    def start_typing(self, channel_id: str, user: LocalUser) -> None:
        """Dispatch TYPING_START for `user` in a channel."""
        self._run(self._start_typing, channel_id, user)

    def _start_typing(self, channel_id: str, user: LocalUser) -> None:
        channel = self._channel(channel_id)
        data: dict[str, Any] = {"channel_id": channel.id, "user_id": user.id, "timestamp": int(time.time())}
        if channel.guild_id is not None:
            data["guild_id"] = channel.guild_id
            data["member"] = self._guilds[channel.guild_id].members[user.id].payload()
        self._dispatch_to(channel, "TYPING_START", data)

    # Reading what happened.

    def messages(self, channel_id: str) -> list[dict[str, Any]]:
        """Every message in a channel, oldest first."""
        return self._run(lambda: json.loads(json.dumps(self._messages.get(channel_id, []))))

    def sent_messages(self, channel_id: str, bot: LocalUser | None = None) -> list[dict[str, Any]]:
        """The user messages the bot created in a channel, oldest first (system messages left out)."""
        author_id = (bot or self.bot).id
        return [
            m
            for m in self.messages(channel_id)
            if m["author"]["id"] == author_id and m["type"] in (MESSAGE_DEFAULT, MESSAGE_REPLY)
        ]

    @property
    def reactions(self) -> list[tuple[str, str, str, str]]:
        """Current reactions as (channel_id, message_id, user_id, emoji), in the order they were added."""
        return self._run(lambda: list(self._reactions))

    @property
    def typing_calls(self) -> list[tuple[str, str]]:
        """Every `POST /channels/{id}/typing` as (channel_id, user_id)."""
        return self._run(lambda: list(self._typing))

    def pinned(self, channel_id: str) -> list[str]:
        """Ids of the pinned messages of a channel, latest pin first."""
        return self._run(lambda: [message_id for message_id, _ in reversed(self._pins.get(channel_id, []))])

    def guild(self, guild_id: str) -> LocalGuild:
        """A guild by id."""
        return self._run(lambda: self._guilds[guild_id])

    @property
    def requests(self) -> list[RequestRecord]:
        """Every REST request answered, in order."""
        return self._run(lambda: list(self._requests))

    def requests_matching(self, pattern: str) -> list[RequestRecord]:
        """REST requests whose "METHOD /route" or "METHOD /path" matches the fnmatch `pattern`."""
        return [record for record in self.requests if record.matches(pattern)]

    @property
    def gateway_log(self) -> list[GatewayRecord]:
        """Gateway happenings in order: connect, identify, resume, heartbeat, op, close."""
        return self._run(lambda: list(self._gateway_log))

    def gateway_records(self, kind: str) -> list[GatewayRecord]:
        """Gateway records of one kind."""
        return [record for record in self.gateway_log if record.kind == kind]

    # Faults and gateway control.

    def inject_rest_fault(
        self,
        route_pattern: str,
        status: int,
        count: int = 1,
        *,
        retry_after: float = 0.05,
        is_global: bool = False,
        via: bool = True,
        after_commit: bool = False,
        skip: int = 0,
        drop_connection: bool = False,
    ) -> FaultRule:
        """Answer the next `count` requests matching `route_pattern` ("POST /channels/*/messages") with `status`.

        A 429 carries `Retry-After`, a JSON body with `retry_after` and `global`, and (unless `via=False`, which
        makes discord.py treat it as a Cloudflare ban) a `Via` header. `after_commit=True` handles the request
        first and then answers with the fault, like a response lost on the way back. `skip` lets that many
        matching requests through before the faults start. `drop_connection=True` closes the connection instead
        of answering (with `after_commit`, the request took effect but the client never hears so).
        """
        rule = FaultRule(
            pattern=route_pattern,
            status=status,
            remaining=count,
            retry_after=retry_after,
            is_global=is_global,
            via=via,
            after_commit=after_commit,
            skip=skip,
            drop_connection=drop_connection,
        )
        self._run(self._faults.append, rule)
        return rule

    def set_rate_limit(self, route_pattern: str, *, limit: int, per: float) -> None:
        """Give routes matching `route_pattern` a bucket of `limit` requests per `per` seconds (real 429s beyond)."""
        self._run(self._bucket_overrides.append, (route_pattern, limit, per))

    def disconnect(self, *, resume: bool = True, replay_overlap: int = 0, close_code: int | None = None) -> None:
        """Drop every gateway connection; with `resume=False` the sessions are gone too (the client must re-identify).

        `replay_overlap` makes the next RESUME also replay that many dispatches the client already had, which
        Discord may do; a client must not deliver them twice. `close_code` overrides the close code (4000 when
        resumable, else 4009): 4004 or 4010-4014 tell the client not to reconnect at all.
        """
        self._run(self._disconnect, resume, replay_overlap, close_code)

    def _disconnect(self, resume: bool, replay_overlap: int, close_code: int | None) -> None:
        self._replay_overlap = replay_overlap
        for connection in list(self._connections):
            if connection.session is not None:
                if not resume:
                    connection.session.invalid = True
                connection.session.connection = None
            # 4000 (unknown error) invites a resume; 4009 (session timed out) says the session is gone.
            code = close_code if close_code is not None else (4000 if resume else 4009)
            connection.close(code)
            self._gateway_log.append(
                GatewayRecord("server_close", connection.path, None, {"resume": resume, "code": code})
            )

    def send_invalid_session(self, resumable: bool) -> None:
        """Send op 9 INVALID_SESSION on every connection; non-resumable drops the sessions."""
        self._run(self._send_invalid_session, resumable)

    def _send_invalid_session(self, resumable: bool) -> None:
        for connection in list(self._connections):
            session = connection.session
            if session is not None:
                session.connection = None
                if not resumable:
                    session.invalid = True
            connection.session = None
            connection.send({"op": OP_INVALID_SESSION, "d": resumable})
            self._gateway_log.append(GatewayRecord("op", connection.path, None, {"op": 9, "d": resumable}))

    def send_reconnect(self) -> None:
        """Send op 7 RECONNECT on every connection: the client closes and resumes at the resume URL."""
        self._run(self._send_reconnect)

    def _send_reconnect(self) -> None:
        for connection in list(self._connections):
            if connection.session is not None:
                connection.session.connection = None
            connection.session = None
            connection.send({"op": OP_RECONNECT, "d": None})
            self._gateway_log.append(GatewayRecord("op", connection.path, None, {"op": 7}))

    def stop_acking_heartbeats(self) -> None:
        """Stop answering heartbeats, like a zombied connection."""
        self._run(setattr, self, "_ack_heartbeats", False)

    @contextlib.contextmanager
    def gateway_held(self) -> Iterator[None]:
        """While open, new gateway connections wait before HELLO: what happens meanwhile is missed by the client."""
        self._run(lambda: self._gate.clear() if self._gate is not None else None)
        try:
            yield
        finally:
            self._run(lambda: self._gate.set() if self._gate is not None else None)

    @property
    def open_connections(self) -> int:
        """How many gateway websockets are attached to a live session."""
        return self._run(lambda: sum(1 for s in self._sessions.values() if s.connection is not None))

    # Waiting.

    async def wait_for(
        self, predicate: Callable[[], T], *, timeout: float = 5.0, interval: float = 0.01, what: str = ""
    ) -> T:
        """Poll `predicate` until it returns something truthy (returned); raise TimeoutError after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            if time.monotonic() >= deadline:
                raise TimeoutError(f"condition not met within {timeout}s{': ' + what if what else ''}")
            await asyncio.sleep(interval)

    def wait_for_sync(
        self, predicate: Callable[[], T], *, timeout: float = 5.0, interval: float = 0.01, what: str = ""
    ) -> T:
        """`wait_for` for synchronous tests."""
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            if time.monotonic() >= deadline:
                raise TimeoutError(f"condition not met within {timeout}s{': ' + what if what else ''}")
            time.sleep(interval)

    # Shared state helpers (server loop only).

    def _live_sessions(self) -> list[_Session]:
        return [session for session in self._sessions.values() if not session.invalid]

    def _channel(self, channel_id: str) -> LocalChannel:
        if channel_id in self._dm_channels:
            return self._dm_channels[channel_id]
        for guild in self._guilds.values():
            if channel_id in guild.channels:
                return guild.channels[channel_id]
        raise _HTTPError(404, "Unknown Channel", 10003)

    def _guild(self, guild_id: str) -> LocalGuild:
        try:
            return self._guilds[guild_id]
        except KeyError:
            raise _HTTPError(404, "Unknown Guild", 10004) from None

    def _message(self, channel_id: str, message_id: str) -> dict[str, Any]:
        for message in self._messages.get(channel_id, []):
            if message["id"] == message_id:
                return message
        raise _HTTPError(404, "Unknown Message", 10008)

    def _dispatch_to(self, channel: LocalChannel, event: str, data: dict[str, Any]) -> None:
        """Dispatch an event about `channel` to every session that can see it."""
        for session in self._live_sessions():
            if channel.guild_id is not None:
                guild = self._guilds[channel.guild_id]
                if session.user.id in guild.members and session.sees_guild(channel.guild_id):
                    session.dispatch(event, data)
            elif session.user.id in {u.id for u in channel.recipients} and (
                session.shard is None or session.shard[0] == 0
            ):
                session.dispatch(event, data)

    def _dispatch_guild(self, guild: LocalGuild, event: str, data: dict[str, Any]) -> None:
        for session in self._live_sessions():
            if session.user.id in guild.members and session.sees_guild(guild.id):
                session.dispatch(event, data)

    def _fill_mentions(
        self,
        message: dict[str, Any],
        channel: LocalChannel,
        allowed: dict[str, Any] | None,
        extra_users: list[str],
        extra_roles: list[str],
    ) -> None:
        """Parse mentions from the content as Discord does, honouring `allowed_mentions` when given."""
        content = message["content"]
        parse = {"users", "roles", "everyone"} if allowed is None else set(allowed.get("parse", []))
        explicit_users = set(allowed.get("users", [])) if allowed is not None else set()
        explicit_roles = set(allowed.get("roles", [])) if allowed is not None else set()
        user_ids = [
            uid for uid in _MENTION_USER.findall(content) if "users" in parse or uid in explicit_users
        ] + extra_users
        role_ids = [
            rid for rid in _MENTION_ROLE.findall(content) if "roles" in parse or rid in explicit_roles
        ] + extra_roles
        reference = message.get("referenced_message")
        if reference and (allowed is None or allowed.get("replied_user", True)):
            user_ids.append(reference["author"]["id"])
        guild = self._guilds.get(channel.guild_id) if channel.guild_id else None
        mentions = []
        for uid in dict.fromkeys(user_ids):
            user = self._users.get(uid)
            if user is None:
                continue
            entry = user.payload()
            if guild is not None and uid in guild.members:
                entry["member"] = guild.members[uid].payload(with_user=False)
            mentions.append(entry)
        message["mentions"] = mentions
        message["mention_roles"] = list(dict.fromkeys(role_ids))
        message["mention_everyone"] = "everyone" in parse and ("@everyone" in content or "@here" in content)

    def _create_message(
        self,
        channel: LocalChannel,
        author: LocalUser,
        content: str,
        *,
        reference: dict[str, Any] | None,
        allowed: dict[str, Any] | None,
        extra_users: list[str] | None = None,
        extra_roles: list[str] | None = None,
        attachments: int = 0,
        nonce: str | None = None,
        message_type: int | None = None,
    ) -> dict[str, Any]:
        message_id = str(self._ids.next())
        message: dict[str, Any] = {
            "id": message_id,
            "channel_id": channel.id,
            "author": author.payload(),
            "content": content,
            "timestamp": _iso(_Snowflakes.created_at(int(message_id))),
            "edited_timestamp": None,
            "tts": False,
            "attachments": [
                {
                    "id": str(self._ids.next()),
                    "filename": f"file{index}.txt",
                    "size": 1,
                    "url": f"https://cdn.local/{index}.txt",
                    "proxy_url": f"https://media.local/{index}.txt",
                }
                for index in range(attachments)
            ],
            "embeds": [],
            "reactions": [],
            "pinned": False,
            "type": message_type if message_type is not None else (MESSAGE_REPLY if reference else MESSAGE_DEFAULT),
            "flags": 0,
            "components": [],
        }
        if nonce is not None:
            message["nonce"] = nonce
        if reference is not None:
            message["message_reference"] = {
                "type": 0,
                "message_id": reference["id"],
                "channel_id": channel.id,
                "guild_id": channel.guild_id,
            }
            message["referenced_message"] = {k: v for k, v in reference.items() if k != "referenced_message"}
        self._fill_mentions(message, channel, allowed, extra_users or [], extra_roles or [])
        self._messages.setdefault(channel.id, []).append(message)
        self._dispatch_message_event("MESSAGE_CREATE", channel, message)
        return message

    def _dispatch_message_event(self, event: str, channel: LocalChannel, message: dict[str, Any]) -> None:
        data = dict(message)
        if channel.guild_id is not None:
            guild = self._guilds[channel.guild_id]
            data["guild_id"] = channel.guild_id
            member = guild.members.get(message["author"]["id"])
            if member is not None:
                data["member"] = member.payload(with_user=False)
        self._dispatch_to(channel, event, data)

    def _react(self, channel_id: str, message_id: str, user: LocalUser, emoji: str, added: bool) -> None:
        channel = self._channel(channel_id)
        message = self._message(channel_id, message_id)
        emoji = emoji.lstrip(":")
        record = (channel_id, message_id, user.id, emoji)
        if added:
            if record in self._reactions:
                return
            self._reactions.append(record)
        else:
            if record not in self._reactions:
                return
            self._reactions.remove(record)
        name, _, emoji_id = emoji.partition(":")
        data: dict[str, Any] = {
            "user_id": user.id,
            "channel_id": channel_id,
            "message_id": message_id,
            "emoji": {"id": emoji_id or None, "name": name},
            "burst": False,
            "type": 0,
        }
        if channel.guild_id is not None:
            data["guild_id"] = channel.guild_id
            if added:
                data["member"] = self._guilds[channel.guild_id].members[user.id].payload()
        if added:
            data["message_author_id"] = message["author"]["id"]
            data["burst_colors"] = []
        self._dispatch_to(channel, "MESSAGE_REACTION_ADD" if added else "MESSAGE_REACTION_REMOVE", data)

    # REST.

    def _register_routes(self) -> None:
        table: list[tuple[str, str, _Handler]] = [
            ("GET", "/users/@me", self._get_me),
            ("POST", "/users/@me/channels", self._create_dm),
            ("GET", "/oauth2/applications/@me", self._get_application),
            ("GET", "/gateway", self._get_gateway),
            ("GET", "/gateway/bot", self._get_gateway_bot),
            ("GET", "/channels/{channel_id}", self._get_channel),
            ("GET", "/channels/{channel_id}/messages", self._get_messages),
            ("POST", "/channels/{channel_id}/messages", self._post_messages),
            ("GET", "/channels/{channel_id}/messages/pins", self._get_pins),
            ("PUT", "/channels/{channel_id}/messages/pins/{message_id}", self._put_pin),
            ("DELETE", "/channels/{channel_id}/messages/pins/{message_id}", self._delete_pin),
            ("PUT", "/channels/{channel_id}/pins/{message_id}", self._put_pin),
            ("GET", "/channels/{channel_id}/messages/{message_id}", self._get_message),
            ("PATCH", "/channels/{channel_id}/messages/{message_id}", self._patch_message),
            ("PUT", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me", self._put_reaction),
            ("DELETE", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me", self._delete_reaction),
            ("POST", "/channels/{channel_id}/typing", self._post_typing),
            ("POST", "/channels/{channel_id}/threads", self._post_thread),
            ("POST", "/channels/{channel_id}/messages/{message_id}/threads", self._post_thread),
            ("POST", "/guilds/{guild_id}/channels", self._post_channel),
            ("GET", "/guilds/{guild_id}/members/{user_id}", self._get_member),
            ("PUT", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}", self._put_member_role),
            ("DELETE", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}", self._delete_member_role),
        ]
        for method, template, handler in table:
            regex = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$"
            self._routes.append((method, template, re.compile(regex), handler))

    def _match(self, method: str, path: str) -> tuple[str, dict[str, str], _Handler] | None:
        for route_method, template, regex, handler in self._routes:
            found = regex.match(path)
            if found and route_method == method:
                return template, found.groupdict(), handler
        return None

    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        body: Any = None
        if request.body_exists:
            raw = await request.read()
            if request.content_type == "application/json":
                body = json.loads(raw or b"null")
            else:
                body = {"_content_type": request.content_type}
        matched = self._match(request.method, path)
        route = matched[0] if matched else path
        auth = request.headers.get("Authorization", "")
        user = self._tokens.get(auth.removeprefix("Bot ")) if auth.startswith("Bot ") else None
        status, response = await self._answer(request, path, route, matched, user)
        self._requests.append(
            RequestRecord(
                method=request.method,
                path=path,
                route=route,
                status=status,
                body=body,
                query=dict(request.query),
                authorized=user is not None,
                at=time.monotonic(),
            )
        )
        return response

    async def _answer(
        self,
        request: web.Request,
        path: str,
        route: str,
        matched: tuple[str, dict[str, str], _Handler] | None,
        user: LocalUser | None,
    ) -> tuple[int, web.Response]:
        if user is None:
            return 401, _json({"message": "401: Unauthorized", "code": 0}, 401)
        if matched is None:
            return 404, _json({"message": "404: Not Found", "code": 0}, 404)
        template, params, handler = matched
        fault = self._take_fault(request.method, template, path)
        if fault is not None and not fault.after_commit:
            return fault.status, self._fault_response(fault, request)
        bucket_key, limited = self._spend_bucket(request.method, template, path, params)
        if limited is not None:
            return 429, limited
        try:
            response = await handler(request, params, user)
        except _HTTPError as error:
            response = _json(error.body, error.status)
        if fault is not None:
            return fault.status, self._fault_response(fault, request)
        self._add_bucket_headers(response, bucket_key)
        return response.status, response

    def _take_fault(self, method: str, route: str, path: str) -> FaultRule | None:
        for rule in self._faults:
            if rule.remaining > 0 and rule.matches(method, route, path):
                if rule.skip > 0:
                    rule.skip -= 1
                    continue
                rule.remaining -= 1
                return rule
        return None

    def _fault_response(self, fault: FaultRule, request: web.Request) -> web.Response:
        if fault.drop_connection and request.transport is not None:
            request.transport.close()
        if fault.status != 429:
            return _json({"message": f"{fault.status}: injected fault", "code": 0}, fault.status)
        headers = {"Retry-After": str(max(1, int(fault.retry_after + 0.999)))}
        if fault.via:
            headers["Via"] = "1.1 google"
        if fault.is_global:
            headers["X-RateLimit-Global"] = "true"
        headers["X-RateLimit-Scope"] = "global" if fault.is_global else "user"
        body = {"message": "You are being rate limited.", "retry_after": fault.retry_after, "global": fault.is_global}
        return _json(body, 429, headers)

    def _bucket_for(self, method: str, route: str, path: str, params: dict[str, str]) -> tuple[str, _Bucket]:
        limit, per = self._default_bucket
        for pattern, override_limit, override_per in self._bucket_overrides:
            if fnmatch.fnmatchcase(f"{method} {route}", pattern) or fnmatch.fnmatchcase(f"{method} {path}", pattern):
                limit, per = override_limit, override_per
        bucket_hash = hashlib.sha1(f"{method} {route}".encode(), usedforsecurity=False).hexdigest()[:16]
        major = params.get("channel_id") or params.get("guild_id") or ""
        key = f"{bucket_hash}:{major}"
        bucket = self._buckets.get(key)
        if bucket is None or (bucket.limit, bucket.per) != (limit, per):
            bucket = self._buckets[key] = _Bucket(limit=limit, per=per)
        return key, bucket

    def _spend_bucket(
        self, method: str, route: str, path: str, params: dict[str, str]
    ) -> tuple[str, web.Response | None]:
        key, bucket = self._bucket_for(method, route, path, params)
        now = time.monotonic()
        if now >= bucket.window_start + bucket.per:
            bucket.window_start, bucket.used = now, 0
        if bucket.used >= bucket.limit:
            retry_after = round(bucket.window_start + bucket.per - now, 3)
            body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": False}
            headers = {
                "Retry-After": str(max(1, int(retry_after + 0.999))),
                "Via": "1.1 google",
                "X-RateLimit-Scope": "user",
            }
            return key, _json(body, 429, headers)
        bucket.used += 1
        return key, None

    def _add_bucket_headers(self, response: web.Response, key: str) -> None:
        bucket = self._buckets[key]
        reset_after = max(0.001, bucket.window_start + bucket.per - time.monotonic())
        response.headers["X-RateLimit-Limit"] = str(bucket.limit)
        response.headers["X-RateLimit-Remaining"] = str(max(0, bucket.limit - bucket.used))
        response.headers["X-RateLimit-Reset-After"] = f"{reset_after:.3f}"
        response.headers["X-RateLimit-Reset"] = f"{time.time() + reset_after:.3f}"
        response.headers["X-RateLimit-Bucket"] = key.split(":", 1)[0]

    async def _get_me(self, request: web.Request, params: dict[str, str], user: LocalUser) -> web.Response:
        return _json({**user.payload(), "verified": True, "mfa_enabled": False, "flags": 0})

    async def _get_application(self, request: web.Request, params: dict[str, str], user: LocalUser) -> web.Response:
        owner = next((u for u in self._users.values() if not u.bot), None) or user
        return _json(
            {
                "id": user.id,
                "name": user.username,
                "icon": None,
                "description": "",
                "summary": "",
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": owner.payload(),
                "team": None,
                "verify_key": "0" * 64,
                "flags": (1 << 13) | (1 << 15) | (1 << 19),
                "interactions_endpoint_url": None,
                "rpc_origins": [],
            }
        )

    async def _get_gateway(self, request: web.Request, params: dict[str, str], user: LocalUser) -> web.Response:
        return _json({"url": self.gateway_url})

    async def _get_gateway_bot(self, request: web.Request, params: dict[str, str], user: LocalUser) -> web.Response:
        return _json(
            {
                "url": self.gateway_url,
                "shards": self.recommended_shards,
                "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 86400000, "max_concurrency": 1},
            }
        )

    async def _create_dm(self, request: web.Request, params: dict[str, str], user: LocalUser) -> web.Response:
        body = await request.json()
        recipient = self._users.get(str(body.get("recipient_id")))
        if recipient is None:
            raise _HTTPError(404, "Unknown User", 10013)
        return _json(self._open_dm(recipient, user).payload())

    async def _get_channel(self, request: web.Request, params: dict[str, str], user: LocalUser) -> web.Response:
        return _json(self._channel(params["channel_id"]).payload())

    async def _get_messages(self, request: web.Request, params: dict[str, str], user: LocalUser) -> web.Response:
        channel = self._channel(params["channel_id"])
        try:
            limit = int(request.query.get("limit", "50"))
        except ValueError:
            raise _HTTPError(400, "Invalid Form Body", 50035, {"limit": "not an integer"}) from None
        if not 1 <= limit <= 100:
            raise _HTTPError(400, "Invalid Form Body", 50035, {"limit": "must be between 1 and 100"})
        stored = self._messages.get(channel.id, [])
        if "after" in request.query:
            after = int(request.query["after"])
            # The `limit` messages right after `after`, newest first (as Discord answers).
            page = [m for m in stored if int(m["id"]) > after][:limit]
            page.reverse()
        elif "before" in request.query:
            before = int(request.query["before"])
            page = [m for m in reversed(stored) if int(m["id"]) < before][:limit]
        elif "around" in request.query:
            around = int(request.query["around"])
            ordered = sorted(stored, key=lambda m: abs(int(m["id"]) - around))[:limit]
            page = sorted(ordered, key=lambda m: int(m["id"]), reverse=True)
        else:
            page = list(reversed(stored))[:limit]
        return _json(page)

    async def _post_messages(self, request: web.Request, params: dict[str, str], user: LocalUser) -> web.Response:
        channel = self._channel(params["channel_id"])
        if request.content_type != "application/json":
            raise _HTTPError(400, "the local Discord accepts JSON message bodies only (no file uploads)", 50035)
        body = await request.json()
        content = body.get("content") or ""
        if len(content) > MESSAGE_LIMIT:
            raise _HTTPError(
                400,
                "Invalid Form Body",
                50035,
                {
                    "content": {
                        "_errors": [
                            {"code": "BASE_TYPE_MAX_LENGTH", "message": f"Must be {MESSAGE_LIMIT} or fewer in length."}
                        ]
                    }
                },
            )
        if not content.strip() and not body.get("embeds") and not body.get("sticker_ids"):
            raise _HTTPError(400, "Cannot send an empty message", 50006)
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce"):
            # Discord returns the earlier message instead of creating a second one with the same nonce.
            for message in self._messages.get(channel.id, []):
                if message.get("nonce") == str(nonce) and message["author"]["id"] == user.id:
                    return _json(message)
        reference = None
        reference_body = body.get("message_reference")
        if reference_body and reference_body.get("message_id"):
            reference_channel = str(reference_body.get("channel_id") or channel.id)
            try:
                reference = self._message(reference_channel, str(reference_body["message_id"]))
            except _HTTPError:
                if reference_body.get("fail_if_not_exists", True):
                    raise _HTTPError(
                        400,
                        "Invalid Form Body",
                        50035,
                        {"message_reference": {"_errors": [{"code": "MESSAGE_REFERENCE_UNKNOWN_MESSAGE"}]}},
                    ) from None
        message = self._create_message(
            channel,
            user,
            content,
            reference=reference,
            allowed=body.get("allowed_mentions"),
            nonce=None if nonce is None else str(nonce),
        )
        return _json(message)

    async def _get_message(self, request: web.Request, params: dict[str, str], user: LocalUser) -> web.Response:
        self._channel(params["channel_id"])
        return _json(self._message(params["channel_id"], params["message_id"]))

    async def _patch_message(self, request: web.Request, params: dict[str, str], user: LocalUser) -> web.Response:
        message = self._message(params["channel_id"], params["message_id"])
        if message["author"]["id"] != user.id:
            raise _HTTPError(403, "Cannot edit a message authored by another user", 50005)
        body = await request.json()
        return _json(self._edit_message(params["channel_id"], params["message_id"], body.get("content") or ""))

    async def _put_reaction(self, request: web.Request, params: dict[str, str], user: LocalUser) -> web.Response:
        self._react(params["channel_id"], params["message_id"], user, params["emoji"], True)
        return web.Response(status=204)

    async def _delete_reaction(self, request: web.Request, params: dict[str, str], user: LocalUser) -> web.Response:
        self._react(params["channel_id"], params["message_id"], user, params["emoji"], False)
        return web.Response(status=204)

    async def _post_typing(self, request: web.Request, params: dict[str, str], user: LocalUser) -> web.Response:
        channel = self._channel(params["channel_id"])
        self._typing.append((channel.id, user.id))
        return web.Response(status=204)

    async def _get_pins(self, request: web.Request, params: dict[str, str], user: LocalUser) -> web.Response:
        channel_id = self._channel(params["channel_id"]).id
        items = [
            {"pinned_at": _iso(at), "message": self._message(channel_id, message_id)}
            for message_id, at in reversed(self._pins.get(channel_id, []))
        ]
        return _json({"items": items, "has_more": False})

    async def _put_pin(self, request: web.Request, params: dict[str, str], user: LocalUser) -> web.Response:
        channel = self._channel(params["channel_id"])
        message = self._message(channel.id, params["message_id"])
        pins = self._pins.setdefault(channel.id, [])
        if all(message_id != message["id"] for message_id, _ in pins):
            if len(pins) >= 250:
                raise _HTTPError(400, "Maximum number of pins reached (250)", 30003)
            pinned_at = _now()
            pins.append((message["id"], pinned_at))
            message["pinned"] = True
            data: dict[str, Any] = {"channel_id": channel.id, "last_pin_timestamp": _iso(pinned_at)}
            if channel.guild_id is not None:
                data["guild_id"] = channel.guild_id
            self._dispatch_to(channel, "CHANNEL_PINS_UPDATE", data)
            # Discord announces a pin with a system message in the channel.
            self._create_message(
                channel,
                user,
                "",
                reference=None,
                allowed={"parse": []},
                message_type=MESSAGE_CHANNEL_PINNED,
            )
        return web.Response(status=204)

    async def _delete_pin(self, request: web.Request, params: dict[str, str], user: LocalUser) -> web.Response:
        channel = self._channel(params["channel_id"])
        message = self._message(channel.id, params["message_id"])
        self._pins[channel.id] = [(mid, at) for mid, at in self._pins.get(channel.id, []) if mid != message["id"]]
        message["pinned"] = False
        return web.Response(status=204)

    async def _post_thread(self, request: web.Request, params: dict[str, str], user: LocalUser) -> web.Response:
        parent = self._channel(params["channel_id"])
        if parent.type != GUILD_TEXT or parent.guild_id is None:
            raise _HTTPError(400, "Cannot execute action on this channel type", 50024)
        body = await request.json()
        name = str(body.get("name") or "").strip()
        if not 1 <= len(name) <= 100:
            raise _HTTPError(400, "Invalid Form Body", 50035, {"name": "must be 1 to 100 characters"})
        message_id = params.get("message_id")
        if message_id is not None:
            self._message(parent.id, message_id)
            if message_id in self._guilds[parent.guild_id].channels:
                raise _HTTPError(400, "A thread has already been created for this message", 160004)
        thread_type = int(body.get("type") or PUBLIC_THREAD) if message_id is None else PUBLIC_THREAD
        thread = LocalChannel(
            # A thread started from a message shares the message's id, as on Discord.
            id=message_id or str(self._ids.next()),
            type=thread_type,
            name=name,
            guild_id=parent.guild_id,
            parent_id=parent.id,
            owner_id=user.id,
            private=thread_type == PRIVATE_THREAD,
            auto_archive_duration=int(body.get("auto_archive_duration") or 1440),
        )
        guild = self._guilds[parent.guild_id]
        guild.channels[thread.id] = thread
        self._messages[thread.id] = []
        self._dispatch_guild(guild, "THREAD_CREATE", {**thread.payload(), "newly_created": True})
        return _json(thread.payload(), 201)

    async def _post_channel(self, request: web.Request, params: dict[str, str], user: LocalUser) -> web.Response:
        guild = self._guild(params["guild_id"])
        body = await request.json()
        channel_type = int(body.get("type", GUILD_TEXT))
        name = str(body.get("name") or "").strip()
        if not 1 <= len(name) <= 100:
            raise _HTTPError(400, "Invalid Form Body", 50035, {"name": "must be 1 to 100 characters"})
        if channel_type == GUILD_TEXT:
            # Discord lowercases text channel names and joins words with dashes.
            name = re.sub(r"\s+", "-", name.lower())
        parent_id = body.get("parent_id")
        if parent_id is not None:
            parent = guild.channels.get(str(parent_id))
            if parent is None or parent.type != GUILD_CATEGORY:
                raise _HTTPError(400, "Invalid Form Body", 50035, {"parent_id": "not a category of this guild"})
        channel = LocalChannel(
            id=str(self._ids.next()),
            type=channel_type,
            name=name,
            guild_id=guild.id,
            parent_id=None if parent_id is None else str(parent_id),
            topic=body.get("topic"),
            position=len(guild.channels),
        )
        guild.channels[channel.id] = channel
        self._messages[channel.id] = []
        self._dispatch_guild(guild, "CHANNEL_CREATE", channel.payload())
        return _json(channel.payload(), 201)

    def add_category(self, guild_id: str, name: str) -> LocalChannel:
        """Create a category channel in a guild (dispatching CHANNEL_CREATE)."""
        return self._run(self._add_category, guild_id, name)

    def _add_category(self, guild_id: str, name: str) -> LocalChannel:
        guild = self._guilds[guild_id]
        category = LocalChannel(
            id=str(self._ids.next()), type=GUILD_CATEGORY, name=name, guild_id=guild_id, position=len(guild.channels)
        )
        guild.channels[category.id] = category
        self._dispatch_guild(guild, "CHANNEL_CREATE", category.payload())
        return category

    async def _get_member(self, request: web.Request, params: dict[str, str], user: LocalUser) -> web.Response:
        guild = self._guild(params["guild_id"])
        member = guild.members.get(params["user_id"])
        if member is None:
            raise _HTTPError(404, "Unknown Member", 10007)
        return _json(member.payload())

    def _member_and_role(self, params: dict[str, str]) -> tuple[LocalGuild, _Member, str]:
        guild = self._guild(params["guild_id"])
        member = guild.members.get(params["user_id"])
        if member is None:
            raise _HTTPError(404, "Unknown Member", 10007)
        if params["role_id"] not in guild.roles:
            raise _HTTPError(404, "Unknown Role", 10011)
        return guild, member, params["role_id"]

    async def _put_member_role(self, request: web.Request, params: dict[str, str], user: LocalUser) -> web.Response:
        guild, member, role_id = self._member_and_role(params)
        if role_id not in member.role_ids:
            member.role_ids.append(role_id)
            self._dispatch_guild(guild, "GUILD_MEMBER_UPDATE", {"guild_id": guild.id, **member.payload()})
        return web.Response(status=204)

    async def _delete_member_role(self, request: web.Request, params: dict[str, str], user: LocalUser) -> web.Response:
        guild, member, role_id = self._member_and_role(params)
        if role_id in member.role_ids:
            member.role_ids.remove(role_id)
            self._dispatch_guild(guild, "GUILD_MEMBER_UPDATE", {"guild_id": guild.id, **member.payload()})
        return web.Response(status=204)

    # Gateway.

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0, timeout=1.0, autoping=True)
        await ws.prepare(request)
        connection = _Connection(ws, request.path)
        self._connections.add(connection)
        self._gateway_log.append(GatewayRecord("connect", request.path, None, dict(request.query)))
        writer: asyncio.Task[None] | None = None
        try:
            if self._gate is not None:
                await self._gate.wait()
            connection.send({"op": OP_HELLO, "d": {"heartbeat_interval": self.heartbeat_interval_ms}})
            writer = asyncio.create_task(self._write(connection))
            async for frame in ws:
                if frame.type is not WSMsgType.TEXT:
                    break
                await self._on_frame(connection, frame.data)
        finally:
            self._connections.discard(connection)
            session = connection.session
            if session is not None and session.connection is connection:
                session.connection = None
                # A client closing with 1000/1001 ends its session, as on Discord.
                if ws.close_code in (1000, 1001):
                    session.invalid = True
            self._gateway_log.append(
                GatewayRecord("close", request.path, session.id if session else None, {"code": ws.close_code})
            )
            if writer is not None:
                writer.cancel()
        return ws

    async def _write(self, connection: _Connection) -> None:
        while True:
            item = await connection.outbox.get()
            if isinstance(item, int):
                await connection.ws.close(code=item)
                return
            if connection.ws.closed:
                return
            try:
                await connection.ws.send_str(json.dumps(item))
            except ConnectionError:
                return

    async def _on_frame(self, connection: _Connection, text: str) -> None:
        try:
            frame = json.loads(text)
            op = frame["op"]
        except (ValueError, KeyError, TypeError):
            connection.close(4002)
            return
        now = time.monotonic()
        connection.sent_frames = [t for t in connection.sent_frames if t > now - 60] + [now]
        if len(connection.sent_frames) > GATEWAY_SENDS_PER_MINUTE:
            connection.close(4008)
            return
        data = frame.get("d")
        if op == OP_HEARTBEAT:
            self._gateway_log.append(
                GatewayRecord("heartbeat", connection.path, getattr(connection.session, "id", None), {"seq": data})
            )
            if self._ack_heartbeats:
                connection.send({"op": OP_HEARTBEAT_ACK})
        elif op == OP_IDENTIFY:
            self._identify(connection, data or {})
        elif op == OP_RESUME:
            self._resume(connection, data or {})
        elif op == OP_REQUEST_MEMBERS:
            self._request_members(connection, data or {})
        elif op in (OP_PRESENCE, OP_VOICE_STATE):
            if connection.session is None:
                connection.close(4003)
        else:
            connection.close(4001)

    def _identify(self, connection: _Connection, data: dict[str, Any]) -> None:
        if connection.session is not None:
            connection.close(4005)
            return
        user = self._tokens.get(str(data.get("token", "")))
        intents = data.get("intents")
        shard = data.get("shard")
        self._gateway_log.append(
            GatewayRecord(
                "identify",
                connection.path,
                None,
                {"intents": intents, "shard": shard, "properties": data.get("properties"), "valid": user is not None},
            )
        )
        if user is None:
            connection.close(4004)
            return
        if not isinstance(intents, int):
            connection.close(4013)
            return
        if intents & PRIVILEGED_INTENTS and not self.privileged_intents:
            connection.close(4014)
            return
        shard_pair: tuple[int, int] | None = None
        if shard is not None:
            if not (isinstance(shard, list) and len(shard) == 2 and 0 <= shard[0] < shard[1]):
                connection.close(4010)
                return
            shard_pair = (int(shard[0]), int(shard[1]))
        session = _Session(
            id=secrets.token_hex(16), user=user, token=str(data["token"]), shard=shard_pair, intents=intents
        )
        self._sessions[session.id] = session
        session.connection = connection
        connection.session = session
        guilds = [g for g in self._guilds.values() if user.id in g.members and session.sees_guild(g.id)]
        ready: dict[str, Any] = {
            "v": API_VERSION,
            "user": {**user.payload(), "verified": True, "mfa_enabled": False, "flags": 0},
            "guilds": [{"id": guild.id, "unavailable": True} for guild in guilds],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.resume_gateway_url,
            "application": {"id": user.id, "flags": (1 << 13) | (1 << 15) | (1 << 19)},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "user_settings": {},
        }
        if shard_pair is not None:
            ready["shard"] = list(shard_pair)
        session.dispatch("READY", ready)
        for guild in guilds:
            session.dispatch("GUILD_CREATE", guild.payload())

    def _resume(self, connection: _Connection, data: dict[str, Any]) -> None:
        session = self._sessions.get(str(data.get("session_id")))
        seq = data.get("seq") or 0
        usable = session is not None and not session.invalid and session.token == data.get("token")
        if session is None or not usable:
            self._gateway_log.append(
                GatewayRecord("resume", connection.path, None, {"seq": seq, "accepted": False, "replayed": 0})
            )
            connection.send({"op": OP_INVALID_SESSION, "d": False})
            return
        if session.connection is not None and session.connection is not connection:
            session.connection.close(4000)
        overlap, self._replay_overlap = self._replay_overlap, 0
        replay = [event for event in session.log if event["s"] > seq - overlap]
        self._gateway_log.append(
            GatewayRecord(
                "resume", connection.path, session.id, {"seq": seq, "accepted": True, "replayed": len(replay)}
            )
        )
        for event in replay:
            connection.send(event)
        session.connection = connection
        connection.session = session
        session.dispatch("RESUMED", {})

    def _request_members(self, connection: _Connection, data: dict[str, Any]) -> None:
        session = connection.session
        if session is None:
            connection.close(4003)
            return
        guild = self._guilds.get(str(data.get("guild_id")))
        if guild is None:
            return
        wanted = {str(uid) for uid in data.get("user_ids") or []}
        query = str(data.get("query") or "").lower()
        members = [
            member.payload()
            for member in guild.members.values()
            if (not wanted or member.user.id in wanted) and member.user.username.lower().startswith(query)
        ]
        limit = int(data.get("limit") or 0)
        if limit:
            members = members[:limit]
        chunk: dict[str, Any] = {
            "guild_id": guild.id,
            "members": members,
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if data.get("nonce") is not None:
            chunk["nonce"] = data["nonce"]
        session.dispatch("GUILD_MEMBERS_CHUNK", chunk)


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON response whose content-type is exactly `application/json`, as discord.py requires."""
    response = web.Response(body=json.dumps(body).encode(), status=status, headers=headers)
    response.headers["Content-Type"] = "application/json"
    return response


@pytest.fixture
def local_discord() -> Iterator[LocalDiscord]:
    """A running local Discord (REST and gateway) with its default bot; stopped after the test."""
    server = LocalDiscord().start()
    try:
        yield server
    finally:
        server.stop()
