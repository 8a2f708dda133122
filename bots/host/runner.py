"""Running a booted bot: features, the adapter, a rate-limit-aware startup retry, and graceful draining.

Login and connection failures back off exponentially with jitter (never sooner than a platform's
retry-after); a refused token fails at once with exit code 2. SIGTERM and SIGINT stop taking new turns,
give in-flight ones DRAIN_GRACE_SECONDS to finish, cancel the rest, close the connection, flush the logs
and exit 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import random
import signal
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings as django_settings
from redis.asyncio import Redis

from bots.adapters.base import InboundHandler, PlatformAdapter
from bots.adapters.errors import AdapterAuthError, AdapterError
from bots.errors import BootError
from bots.host.config import HostConfig
from bots.host.host import Host, HostBot
from bots.host.observers import HostObserver
from bots.inbox import TurnInbox
from bots.runtime import BootedBot
from bots.turn_settings import FollowupConfig
from dit_project import redis_clients
from dit_project.vault import SecretValue

logger = logging.getLogger("bots.runtime")

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_AUTH = 2
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)

StopWait = Callable[[float], Awaitable[bool]]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with jitter: base * factor**(attempt-1), capped, then scaled into [1-jitter, 1]."""

    base: float = 1.0
    maximum: float = 60.0
    factor: float = 2.0
    jitter: float = 0.5

    def delay(self, attempt: int, rng: random.Random, retry_after: float | None = None) -> float:
        """Seconds to wait before attempt `attempt + 1`; at least the platform's retry-after when it gave one."""
        raw = min(self.maximum, self.base * self.factor ** max(0, attempt - 1))
        delay = raw * (1.0 - self.jitter * rng.random())
        if retry_after is not None:
            delay = max(delay, retry_after)
        return delay


class StartupFailed(Exception):
    """The adapter could not start and retrying will not help; `exit_code` says how the process should end."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


async def start_with_retry(
    adapter: PlatformAdapter,
    handler: InboundHandler,
    *,
    policy: RetryPolicy,
    stop_wait: StopWait,
    rng: random.Random | None = None,
) -> bool:
    """Start the adapter, retrying transient failures; False when a stop arrived first, StartupFailed if hopeless."""
    rng = rng or random.Random()  # noqa: S311 - jitter, not secrecy
    attempt = 0
    while True:
        try:
            await adapter.start(handler)
            return True
        except AdapterAuthError as exc:
            raise StartupFailed(exc.message, EXIT_AUTH) from exc
        except AdapterError as exc:
            if not exc.retryable:
                raise StartupFailed(exc.message, EXIT_FAILED) from exc
            attempt += 1
            delay = policy.delay(attempt, rng, getattr(exc, "retry_after", None))
            logger.warning(
                "could not connect to %s (attempt %s): %s; retrying in %.1fs",
                adapter.platform,
                attempt,
                exc.message,
                delay,
            )
            if await stop_wait(delay):
                return False


def load_features(features: Iterable[str]) -> list[Any]:
    """Import each feature module named by the manifest; each may expose `setup(host)`, called once running."""
    loaded = []
    for feature in features:
        try:
            loaded.append(importlib.import_module(feature))
        except ImportError as exc:
            raise BootError(
                f"feature {feature!r} listed in the manifest cannot be imported ({exc}); remove it from the "
                "manifest's features or install the module",
                feature=feature,
            ) from None
    return loaded


def discord_adapter(booted: BootedBot, config: HostConfig) -> PlatformAdapter:
    """The Discord adapter for a bot: its DISCORD_TOKEN, and the REST and gateway URLs from settings or env."""
    from bots.adapters.discord import DiscordAdapter

    token = booted.settings.get("DISCORD_TOKEN")
    if token is None:
        token = os.environ.get("DISCORD_TOKEN")
    plain = token.reveal() if isinstance(token, SecretValue) else str(token or "")
    if not plain.strip():
        raise StartupFailed(
            f"bot {booted.slug} has no DISCORD_TOKEN: set the credential in admin or the DISCORD_TOKEN environment "
            "variable (or run with --local to try it without Discord)",
            EXIT_AUTH,
        )
    return DiscordAdapter(
        token=plain,
        api_base=config.discord_api_base or None,
        gateway_url=config.discord_gateway_url or None,
        guild_ready_timeout=config.discord_guild_ready_timeout,
        identify_delay=config.discord_identify_delay,
    )


def host_redis() -> tuple[Redis, str]:
    """The Redis client and key prefix the host keeps its bot-to-bot counters under."""
    client = Redis.from_url(django_settings.REDIS_URL, **redis_clients.client_options(for_asyncio=True))
    return client, django_settings.DIT_HOST_REDIS_PREFIX


async def run_host(
    booted: BootedBot,
    adapter: PlatformAdapter,
    *,
    config: HostConfig,
    stop: asyncio.Event,
    observers: Iterable[HostObserver] = (),
    received: list[signal.Signals] | None = None,
    on_host: Callable[[Host], None] | None = None,
) -> int:
    """Run the bot on `adapter` until `stop` is set (or the connection is lost for good); the exit code."""
    features = load_features(booted.features)
    redis, prefix = host_redis()
    host = Host(
        # The persona is looked up by `prepare` (PERSONA, else named like the bot, else the only one).
        bot=HostBot(bot_id=booted.bot_id, slug=booted.slug, name=booted.name, persona_id=None),
        config=config,
        adapter=adapter,
        redis=redis,
        redis_prefix=prefix,
        observers=observers,
        followups=FollowupConfig.from_settings(booted.settings),
        # Turns the reactor starts (self-followups, speculative turns) and the results of task workers reach
        # this process through its inbox.
        scheduled_turns=TurnInbox(bot_id=booted.bot_id, task_results=True),
    )
    if on_host is not None:
        on_host(host)
    policy = RetryPolicy(base=config.startup_retry_base_seconds, maximum=config.startup_retry_max_seconds)

    async def stop_wait(seconds: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)
        return stop.is_set()

    try:
        await host.prepare()
        while True:
            if not await start_with_retry(adapter, host, policy=policy, stop_wait=stop_wait):
                logger.info("bot %s stopping before it connected", booted.slug)
                return EXIT_OK
            for feature in features:
                setup = getattr(feature, "setup", None)
                if callable(setup):
                    setup(host)
            logger.info(
                "bot %s running on %s (manifest version %s, %s features); waiting for SIGTERM or SIGINT",
                booted.slug,
                adapter.platform,
                booted.manifest_version,
                len(features),
            )
            features = []
            lost = await _wait_for_stop_or_loss(adapter, stop, host)
            if lost is None:
                break
            if isinstance(lost, BotGone):
                await host.drain()
                await adapter.stop()
                logger.error("bot %s stopped: its row was deleted while it ran", booted.slug)
                return EXIT_FAILED
            if isinstance(lost, AdapterAuthError) or (isinstance(lost, AdapterError) and not lost.retryable):
                raise StartupFailed(lost.message, EXIT_AUTH if isinstance(lost, AdapterAuthError) else EXIT_FAILED)
            logger.warning("bot %s lost its connection (%s); reconnecting", booted.slug, lost)
            await adapter.stop()
        signal_name = received[0].name if received else "request"
        logger.info("bot %s stopping on %s: draining (grace %ss)", booted.slug, signal_name, config.drain_grace_seconds)
        await host.drain()
        await adapter.stop()
        return EXIT_OK
    finally:
        await host.close()
        await redis.aclose()
        _flush_logs()


class BotGone(Exception):
    """The bot's row was deleted while the host ran it."""


async def _wait_for_stop_or_loss(adapter: PlatformAdapter, stop: asyncio.Event, host: Host) -> BaseException | None:
    """None when stop was requested; the failure when the connection ended on its own, or the bot row went."""
    stopped = asyncio.create_task(adapter.wait_stopped())
    stopping = asyncio.create_task(stop.wait())
    gone = asyncio.create_task(host.wait_gone())
    done, pending = await asyncio.wait({stopped, stopping, gone}, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    if stopping in done:
        return None
    if gone in done:
        return BotGone()
    failure = stopped.exception() if not stopped.cancelled() else None
    return failure or AdapterError("the connection ended", retryable=True)


def _flush_logs() -> None:
    for handler in logging.getLogger().handlers:
        with contextlib.suppress(Exception):
            handler.flush()


def run_bot(
    booted: BootedBot, *, local: bool = False, stdin: IO[str] | None = None, stdout: IO[str] | None = None
) -> int:
    """Run a booted bot until SIGTERM or SIGINT (or the end of the local chat); the process exit code."""
    config = HostConfig.from_settings(booted.settings)

    async def main() -> int:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        received: list[signal.Signals] = []

        def on_signal(sig: signal.Signals) -> None:
            if not received:
                received.append(sig)
            stop.set()

        for sig in STOP_SIGNALS:
            loop.add_signal_handler(sig, on_signal, sig)
        try:
            if local:
                return await _run_local(booted, config, stop, received, stdin, stdout)
            adapter = discord_adapter(booted, config)
            return await run_host(booted, adapter, config=config, stop=stop, received=received)
        except StartupFailed as exc:
            logger.error("bot %s cannot run: %s", booted.slug, exc.message)
            return exc.exit_code
        finally:
            for sig in STOP_SIGNALS:
                loop.remove_signal_handler(sig)

    return asyncio.run(main())


async def _run_local(
    booted: BootedBot,
    config: HostConfig,
    stop: asyncio.Event,
    received: list[signal.Signals],
    stdin: IO[str] | None,
    stdout: IO[str] | None,
) -> int:
    import sys

    from bots.adapters.local import LocalAdapter
    from bots.local_chat import LocalChat

    adapter = LocalAdapter(bot_name=booted.name)
    chat = LocalChat(adapter, stdin=stdin or sys.stdin, stdout=stdout or sys.stdout)

    async def chat_then_stop() -> None:
        try:
            await chat.run()
        finally:
            stop.set()

    chatting = asyncio.create_task(chat_then_stop())
    try:
        code = await run_host(booted, adapter, config=config, stop=stop, received=received, on_host=chat.attach)
    finally:
        chatting.cancel()
        await asyncio.gather(chatting, return_exceptions=True)
    failure = None if chatting.cancelled() else chatting.exception()
    if failure is not None:
        # The chat ended because handling a line failed: say so instead of exiting as if the input ended.
        logger.error("bot %s: the local chat failed", booted.slug, exc_info=failure)
        return 1
    return code
