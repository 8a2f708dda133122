"""Faults and gateway control: how a test makes the local Discord misbehave.

Holds the injected REST fault rule, the rate-limit bucket, the HTTP error a handler raises, and `FaultsMixin`, whose
methods inject REST faults and rate limits and break the gateway (dropped connections, op 9, op 7, zombied heartbeats,
held connections).
"""

from __future__ import annotations

import contextlib
import fnmatch
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from tests.servers.local_discord.state import LocalDiscordState
from tests.servers.local_discord.world import OP_INVALID_SESSION, OP_RECONNECT, GatewayRecord


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


class FaultsMixin(LocalDiscordState):
    """Inject REST faults and rate limits, and control the gateway from a test."""

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
