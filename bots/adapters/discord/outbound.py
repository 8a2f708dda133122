"""What the bot does on Discord: messages (once per idempotency key), typing, reactions, pins, channels,
threads, roles and reading history; discord.py and network failures become adapter errors."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import aiohttp
import discord

from bots.adapters.base import (
    ChannelRef,
    ChannelSpec,
    GuildRef,
    InboundMessage,
    MessageRef,
    OutputBeat,
    ThreadSpec,
    split_message,
)
from bots.adapters.discord.conversions import USER_MESSAGE_TYPES, channel_ref, guild_id_of, inbound_message
from bots.adapters.errors import (
    AdapterConnectionError,
    AdapterError,
    AdapterNotReadyError,
    AdapterRateLimitedError,
    AdapterRequestError,
)

_log = logging.getLogger(__name__)

# Discord accepts a nonce of at most 25 characters; with enforce_nonce it returns the earlier message instead of
# creating a second one, which makes a retried send safe even across processes for a few minutes.
_NONCE_LENGTH = 25
CONNECTION_ERRORS = (aiohttp.ClientError, OSError, asyncio.TimeoutError)
_ArchiveMinutes = Literal[60, 1440, 4320, 10080]
_ARCHIVE_MINUTES: tuple[_ArchiveMinutes, ...] = (60, 1440, 4320, 10080)


@dataclass
class _BeatProgress:
    """What has been sent for one beat key; the lock makes a concurrent retry wait for the first attempt."""

    refs: list[MessageRef] = field(default_factory=list)
    done: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class DiscordOutbound:
    """The outbound half of the Discord adapter; the adapter holds the client and the settings it reads."""

    _client: discord.Client | None
    _beats: OrderedDict[str, _BeatProgress]
    _remembered_beats: int
    _send_attempts: int
    _retry_backoff: float
    _seen_messages: OrderedDict[tuple[int, datetime | None], None]
    _remembered_messages: int

    def _require_client(self) -> discord.Client:
        if self._client is None:
            raise AdapterNotReadyError("the Discord adapter is not started")
        return self._client

    def _remember_message(self, message_id: int, edited_at: datetime | None = None) -> bool:
        """Record a delivered message (or edit); False when it was delivered before (a replay or a history overlap)."""
        key = (message_id, edited_at)
        if key in self._seen_messages:
            return False
        self._seen_messages[key] = None
        while len(self._seen_messages) > self._remembered_messages:
            self._seen_messages.popitem(last=False)
        return True

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
            target = client.get_partial_messageable(int(channel.id), guild_id=guild_id_of(channel))
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
        indicator = client.get_partial_messageable(int(channel.id), guild_id=guild_id_of(channel)).typing()
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
        return channel_ref(created)

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
        return channel_ref(thread)

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
            else client.get_partial_messageable(int(channel.id), guild_id=guild_id_of(channel))
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
            if message.type in USER_MESSAGE_TYPES:
                self._remember_message(message.id)
                messages.append(inbound_message(message, is_edit=False))
        return messages

    def _partial_message(self, message: MessageRef) -> discord.PartialMessage:
        client = self._require_client()
        channel = client.get_partial_messageable(int(message.channel.id), guild_id=guild_id_of(message.channel))
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
        except CONNECTION_ERRORS as exc:
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
