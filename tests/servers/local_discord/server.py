"""`LocalDiscord`, the local Discord a test drives, and its `local_discord` pytest fixture.

It composes the REST, gateway and fault mixins over one shared state (`state.py`) and adds what a test calls
directly: lifecycle, building the world, acting as humans, reading what happened and waiting, plus the shared state
helpers the mixins use on the server loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

import pytest
from aiohttp import web

from tests.servers.local_discord.faults import FaultsMixin, _HTTPError
from tests.servers.local_discord.gateway import GatewayMixin, _Session
from tests.servers.local_discord.rest import RestMixin
from tests.servers.local_discord.state import T
from tests.servers.local_discord.world import (
    _MENTION_ROLE,
    _MENTION_USER,
    API_VERSION,
    DISCORD_EPOCH_MS,
    DM,
    GUILD_CATEGORY,
    GUILD_TEXT,
    MESSAGE_DEFAULT,
    MESSAGE_REPLY,
    GatewayRecord,
    LocalChannel,
    LocalGuild,
    LocalRole,
    LocalUser,
    RequestRecord,
    _iso,
    _Member,
    _now,
    _Snowflakes,
)


class LocalDiscord(FaultsMixin, RestMixin, GatewayMixin):
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
        self._bucket_overrides = []
        self._buckets = {}
        self._tokens = {}
        self._users = {}
        self._guilds = {}
        self._dm_channels = {}
        self._messages = {}
        self._pins = {}
        self._reactions = []
        self._typing = []
        self._requests = []
        self._gateway_log = []
        self._faults = []
        self._sessions = {}
        self._connections = set()
        self._ack_heartbeats = True
        self._replay_overlap = 0
        self._routes = []
        self._register_routes()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._gate = None
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

    def add_history(self, channel_id: str, author: LocalUser, content: str, *, created_at: datetime) -> dict[str, Any]:
        """A message posted at `created_at`, in the past: stored for history (its id dated then), never dispatched.

        What a channel held before the run: a client only learns of it by fetching history.
        """
        return self._run(self._add_history, channel_id, author, content, created_at)

    def _add_history(self, channel_id: str, author: LocalUser, content: str, created_at: datetime) -> dict[str, Any]:
        channel = self._channel(channel_id)
        stamp = int(created_at.timestamp() * 1000) - DISCORD_EPOCH_MS
        message_id = str((stamp << 22) | (self._ids.next() & 0x3FFFFF))
        message: dict[str, Any] = {
            "id": message_id,
            "channel_id": channel.id,
            "author": author.payload(),
            "content": content,
            "timestamp": _iso(_Snowflakes.created_at(int(message_id))),
            "edited_timestamp": None,
            "tts": False,
            "attachments": [],
            "embeds": [],
            "reactions": [],
            "pinned": False,
            "type": MESSAGE_DEFAULT,
            "flags": 0,
            "components": [],
        }
        self._fill_mentions(message, channel, None, [], [])
        stored = self._messages.setdefault(channel.id, [])
        stored.append(message)
        stored.sort(key=lambda m: int(m["id"]))
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


@pytest.fixture
def local_discord() -> Iterator[LocalDiscord]:
    """A running local Discord (REST and gateway) with its default bot; stopped after the test."""
    server = LocalDiscord().start()
    try:
        yield server
    finally:
        server.stop()
