"""The gateway of the local Discord, served at `gateway_url` and `resume_gateway_url`.

A `_Connection` is one websocket; a `_Session` outlives its connections and keeps the dispatch log a RESUME replays.
`GatewayMixin` speaks the websocket protocol: HELLO, IDENTIFY with READY and GUILD_CREATE, heartbeats, RESUME, member
requests, and Discord's close codes.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from tests.servers.local_discord.state import LocalDiscordState
from tests.servers.local_discord.world import (
    API_VERSION,
    GATEWAY_SENDS_PER_MINUTE,
    OP_DISPATCH,
    OP_HEARTBEAT,
    OP_HEARTBEAT_ACK,
    OP_HELLO,
    OP_IDENTIFY,
    OP_INVALID_SESSION,
    OP_PRESENCE,
    OP_REQUEST_MEMBERS,
    OP_RESUME,
    OP_VOICE_STATE,
    PRIVILEGED_INTENTS,
    GatewayRecord,
    LocalUser,
)


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


class GatewayMixin(LocalDiscordState):
    """The websocket side of the local Discord, served at `gateway_url` and `resume_gateway_url`."""

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
