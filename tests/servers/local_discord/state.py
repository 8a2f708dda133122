"""The state every part of the local Discord shares, declared once so each mixin type-checks on its own.

`LocalDiscord.__init__` assigns every attribute; the REST, gateway and fault mixins inherit these declarations and
read or change the state only on the server's loop. The methods a mixin calls on `LocalDiscord` are declared here for
the type checker alone: their bodies live in `server.py`, and mypy checks that those match these signatures.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from tests.servers.local_discord.world import (
    GatewayRecord,
    LocalChannel,
    LocalGuild,
    LocalUser,
    RequestRecord,
    _Snowflakes,
)

if TYPE_CHECKING:
    # Only for annotations: these modules build their mixins on this class.
    from tests.servers.local_discord.faults import FaultRule, _Bucket
    from tests.servers.local_discord.gateway import _Connection, _Session
    from tests.servers.local_discord.rest import _Handler

T = TypeVar("T")


class LocalDiscordState:
    """The attributes and cross-part methods that `LocalDiscord` and its mixins share."""

    # Settings.
    heartbeat_interval_ms: int
    privileged_intents: bool
    recommended_shards: int

    # The world.
    _ids: _Snowflakes
    _tokens: dict[str, LocalUser]
    _users: dict[str, LocalUser]
    _guilds: dict[str, LocalGuild]
    _dm_channels: dict[str, LocalChannel]
    _messages: dict[str, list[dict[str, Any]]]
    _pins: dict[str, list[tuple[str, datetime]]]
    _reactions: list[tuple[str, str, str, str]]
    _typing: list[tuple[str, str]]

    # REST: routes, what was answered, injected faults and rate-limit buckets.
    _routes: list[tuple[str, str, re.Pattern[str], _Handler]]
    _requests: list[RequestRecord]
    _faults: list[FaultRule]
    _default_bucket: tuple[int, float]
    _bucket_overrides: list[tuple[str, int, float]]
    _buckets: dict[str, _Bucket]

    # Gateway: sessions, connections, what happened, and the switches tests flip.
    _sessions: dict[str, _Session]
    _connections: set[_Connection]
    _gateway_log: list[GatewayRecord]
    _ack_heartbeats: bool
    _replay_overlap: int
    _gate: asyncio.Event | None

    if TYPE_CHECKING:

        @property
        def gateway_url(self) -> str: ...

        @property
        def resume_gateway_url(self) -> str: ...

        def _run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T: ...

        def _open_dm(self, user: LocalUser, bot: LocalUser) -> LocalChannel: ...

        def _edit_message(self, channel_id: str, message_id: str, content: str) -> dict[str, Any]: ...

        def _channel(self, channel_id: str) -> LocalChannel: ...

        def _guild(self, guild_id: str) -> LocalGuild: ...

        def _message(self, channel_id: str, message_id: str) -> dict[str, Any]: ...

        def _dispatch_to(self, channel: LocalChannel, event: str, data: dict[str, Any]) -> None: ...

        def _dispatch_guild(self, guild: LocalGuild, event: str, data: dict[str, Any]) -> None: ...

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
        ) -> dict[str, Any]: ...

        def _react(self, channel_id: str, message_id: str, user: LocalUser, emoji: str, added: bool) -> None: ...
