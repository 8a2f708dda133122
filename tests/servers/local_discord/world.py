"""The world the local Discord serves: its users, roles, channels, members and guilds.

Also the protocol constants (gateway opcodes, channel and message types, limits), Discord-shaped snowflake ids, the
payloads Discord sends for each object, and the records of what the server answered (REST requests, gateway events).
"""

from __future__ import annotations

import fnmatch
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

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
