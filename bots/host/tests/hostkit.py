"""Fixtures and builders for host tests: a persona with chosen dispositions, a bot, a host on a local adapter.

Registered as a pytest plugin by the root conftest. The router's choice is forced by what the persona can
choose (the enabled dispositions and their weights), never by mocking the router.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection, connections
from redis.asyncio import Redis

from bots.adapters.local import LocalAdapter
from bots.host.config import HostConfig
from bots.host.host import Host, HostBot
from bots.host.observers import DecisionMade, Ended, FollowupScheduled
from bots.manifest import manifest_from_data
from bots.models import Bot
from bots.services import manifest_load
from bots.tests.factories import manifest_data
from dispositions.choices import ContextStrategy, OutputShape, ReasoningDepth, RiskAppetite, SearchPosture, Voice
from dispositions.models import Disposition, Persona, PersonaDispositionWeight
from tests.redis_keys import redis_key_prefix

FAST = {"fragment_window_seconds": 0.0, "fragment_max_seconds": 0.0, "mute_classifier": False}


def reply_json(*texts: str, corrections: tuple[int, ...] = ()) -> str:
    """A synthesizer reply: messages as the model writes them."""
    return json.dumps({"messages": [{"text": t, "isCorrection": i in corrections} for i, t in enumerate(texts)]})


def react_json(emoji: str) -> str:
    """A react-only synthesizer reply."""
    return json.dumps({"emoji": emoji})


def make_persona(*, name: str = "Dit", wake_words: tuple[str, ...] = ("dit",), **extra: Any) -> Persona:
    """A persona with the given names (and banned phrases, never-do list...)."""
    return Persona.objects.create(name=name, wake_words=list(wake_words), soul_text="Dry, warm, curious.", **extra)


def make_disposition(
    persona: Persona,
    slug: str,
    *,
    shape: str = OutputShape.SINGLE_LINE,
    weight: float = 1.0,
    depth: str = ReasoningDepth.LOW,
    strategy: str = ContextStrategy.LIVE,
    voice: str = Voice.PLAYFUL,
) -> Disposition:
    """An enabled disposition with the persona's weight for it."""
    disposition = Disposition.objects.create(
        slug=slug,
        name=slug,
        reasoning_depth=depth,
        context_strategy=strategy,
        voice=voice if shape != OutputShape.SILENT else Voice.INDIFFERENT,
        output_shape=shape,
        search_posture=SearchPosture.NONE,
        risk_appetite=RiskAppetite.SAFE,
    )
    PersonaDispositionWeight.objects.create(persona=persona, disposition=disposition, weight=weight)
    return disposition


@dataclass
class Recorder:
    """A HostObserver keeping what it saw."""

    decisions: list[DecisionMade] = field(default_factory=list)
    ends: list[Ended] = field(default_factory=list)
    followups: list[FollowupScheduled] = field(default_factory=list)

    def decision_made(self, event: DecisionMade) -> None:
        self.decisions.append(event)

    def turn_ended(self, event: Ended) -> None:
        self.ends.append(event)

    def followup_scheduled(self, event: FollowupScheduled) -> None:
        self.followups.append(event)


@pytest.fixture
async def host_db(transactional_db) -> AsyncIterator[None]:
    """A real database for async host tests; the ORM worker thread's connection is closed afterwards."""
    yield
    await sync_to_async(connections.close_all)()


@pytest.fixture
def host_redis_prefix() -> Iterator[str]:
    """A Redis key prefix of this test's own, cleaned up afterwards."""
    with redis_key_prefix("test_host") as prefix:
        yield prefix


@pytest.fixture
async def host_redis(host_redis_prefix) -> AsyncIterator[Redis]:
    """An async Redis client for the host."""
    client = Redis.from_url(settings.REDIS_URL)
    yield client
    await client.aclose()


@dataclass
class HostRig:
    """A host on a local adapter with its bot, persona and observer."""

    host: Host
    adapter: LocalAdapter
    bot: Bot
    persona: Persona
    recorder: Recorder

    async def say(self, channel: str, author: str, text: str, **options: Any) -> Any:
        """Post as a user and wait until the host has nothing left to do."""
        message = await self.adapter.post(channel, author, text, **options)
        await self.host.idle()
        return message


@pytest.fixture
async def make_rig(host_db, host_redis, host_redis_prefix):
    """Build and start a host on a local adapter: `await make_rig(persona=..., **config)`."""
    started: list[HostRig] = []

    async def build(
        *,
        persona: Persona,
        bot_name: str = "Dit",
        adapter: LocalAdapter | None = None,
        bot: Bot | None = None,
        host_options: dict[str, Any] | None = None,
        **config: Any,
    ) -> HostRig:
        if bot is None:
            bot = await sync_to_async(Bot.objects.create)(slug=f"bot-{uuid.uuid4().hex[:8]}", name=bot_name)
        adapter = adapter or LocalAdapter(bot_name=bot_name.lower())
        recorder = Recorder()
        host = Host(
            bot=HostBot(bot_id=bot.pk, slug=bot.slug, name=bot.name, persona_id=persona.pk),
            config=HostConfig.build(**{**FAST, **config}),
            adapter=adapter,
            redis=host_redis,
            redis_prefix=host_redis_prefix,
            observers=[recorder],
            **(host_options or {}),
        )
        await host.prepare()
        await adapter.start(host)
        rig = HostRig(host=host, adapter=adapter, bot=bot, persona=persona, recorder=recorder)
        started.append(rig)
        return rig

    yield build
    for rig in started:
        await rig.host.drain(0)
        await rig.adapter.stop()


# `manage.py runbot` in a child process.


def runbot_env(local_discord: Any, server: Any, **extra: str) -> dict[str, str]:
    """Environment for a child `manage.py runbot`: this test database, Redis, the local Discord and model server."""
    db = connection.settings_dict
    query = urlencode({"host": db["HOST"], "port": db["PORT"]})
    # The child sees exactly what the test gives it, not Discord or database settings the parent exported.
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DISCORD_", "DATABASE_"))}
    env.update(
        {
            "DATABASE_URL": f"postgresql://{quote(db['USER'] or '')}@/{db['NAME']}?{query}",
            "REDIS_URL": settings.REDIS_URL,
            "DIT_READ_DOTENV": "0",
            "PYTHONUNBUFFERED": "1",
            "LOG_LEVEL": "INFO",
            "OPENAI_BASE_URL": server.base_url,
            "OPENAI_API_KEY": "sk-local-test",
            "DIT_GATEWAY_URL": "",
            "DIT_GATEWAY_REDIS_PREFIX": settings.DIT_GATEWAY_REDIS_PREFIX,
            "FRAGMENT_WINDOW_SECONDS": "0",
            "MUTE_CLASSIFIER": "false",
        }
    )
    if local_discord is not None:
        env.update(
            {
                "DISCORD_API_BASE": local_discord.api_base,
                "DISCORD_GATEWAY_URL": local_discord.gateway_url,
                "DISCORD_GUILD_READY_TIMEOUT": "0.05",
            }
        )
    env.update(extra)
    return env


@pytest.fixture
def runbot_world(transactional_db, host_redis_prefix) -> Persona:
    """A bot `e2e` (manifest loaded) and a persona named like it that answers mentions, committed for a child."""
    persona = make_persona()
    make_disposition(persona, "quick-react", shape=OutputShape.SINGLE_LINE)
    manifest_load(manifest=manifest_from_data(manifest_data(slug="e2e", name="Dit", groups=[], features=[])))
    return persona
