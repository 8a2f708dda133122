"""Factories for bots tests: manifests as data, bots (optionally with a current manifest), overrides, guilds."""

from __future__ import annotations

import copy
import uuid
from decimal import Decimal
from typing import Any

import factory

from bots.choices import ChannelKind, Platform
from bots.manifest import manifest_digest
from bots.models import Bot, BotManifest, Guild, GuildChannel, GuildRole, SettingOverride, TaskRun
from dit_project.vault import seal

DEFAULT_GROUPS: list[dict[str, Any]] = [
    {
        "id": "general",
        "label": "General",
        "fields": [
            {"key": "WAIT_MINUTES", "type": "number", "label": "Wait", "default": 8, "min": 1, "max": 120},
            {"key": "GREETING", "type": "string", "label": "Greeting", "default": "hello"},
            {"key": "LOUD", "type": "boolean", "label": "Loud", "default": False},
        ],
    },
    {
        "id": "more",
        "label": "More",
        "fields": [
            {"key": "MOOD", "type": "select", "label": "Mood", "options": ["calm", "lively"], "default": "calm"},
            {"key": "API_SECRET", "type": "secret", "label": "API secret"},
            {"key": "LOG_CHANNEL", "type": "discord_channel", "label": "Log channel"},
            {"key": "MOD_ROLE", "type": "discord_role", "label": "Moderator role"},
        ],
    },
]


def manifest_data(
    *,
    slug: str = "testbot",
    name: str = "Test Bot",
    version: str = "1.0.0",
    groups: list[dict[str, Any]] | None = None,
    credentials: list[dict[str, Any]] | None = None,
    features: list[str] | None = None,
) -> dict[str, Any]:
    """A valid manifest as parsed JSON: a secret DISCORD_TOKEN credential and one field of every type."""
    return {
        "manifest_version": "1",
        "bot": {"slug": slug, "name": name, "version": version},
        "channels": ["discord"],
        "runtime": {"entrypoint": "main.py"},
        "credentials": (
            copy.deepcopy(credentials)
            if credentials is not None
            else [{"key": "DISCORD_TOKEN", "label": "Bot token", "secret": True}]
        ),
        "provision": {"database": "postgres"},
        "settings": {"groups": copy.deepcopy(groups if groups is not None else DEFAULT_GROUPS)},
        "features": list(features) if features is not None else ["cogs.example"],
    }


class BotFactory(factory.django.DjangoModelFactory[Bot]):
    """A bot; pass `manifest=True` (or manifest data) to give it a current manifest version 1."""

    class Meta:
        model = Bot
        skip_postgeneration_save = True

    slug = factory.Sequence(lambda n: f"bot-{n}")
    name = factory.Sequence(lambda n: f"Bot {n}")
    version = "1.0.0"

    @factory.post_generation
    def manifest(obj: Bot, create: bool, extracted: Any, **kwargs: Any) -> None:
        if not extracted:
            return
        data = copy.deepcopy(extracted) if isinstance(extracted, dict) else manifest_data(slug=obj.slug, name=obj.name)
        data["bot"]["slug"] = obj.slug
        stored = BotManifest.objects.create(bot=obj, version=1, content=data, digest=manifest_digest(data))
        obj.current_manifest = stored
        obj.save(update_fields=["current_manifest"])


class BotManifestFactory(factory.django.DjangoModelFactory[BotManifest]):
    class Meta:
        model = BotManifest

    bot = factory.SubFactory(BotFactory)
    version = factory.Sequence(lambda n: n + 1)
    content = factory.LazyAttribute(lambda o: manifest_data(slug=o.bot.slug))
    digest = factory.LazyAttribute(lambda o: manifest_digest(o.content))


class SettingOverrideFactory(factory.django.DjangoModelFactory[SettingOverride]):
    """A plain override; use `secret_override(...)` for an encrypted one."""

    class Meta:
        model = SettingOverride

    bot = factory.SubFactory(BotFactory, manifest=True)
    key = "GREETING"
    value = "hi there"


def secret_override(*, bot: Bot, key: str, plain: str) -> SettingOverride:
    """An encrypted override, stored as the services store it."""
    return SettingOverrideFactory.create(bot=bot, key=key, value=None, sealed_value=seal(plain), is_secret=True)


class GuildFactory(factory.django.DjangoModelFactory[Guild]):
    class Meta:
        model = Guild

    bot = factory.SubFactory(BotFactory)
    platform = Platform.DISCORD
    external_id = factory.Sequence(lambda n: f"{900000000000000000 + n}")
    name = factory.Sequence(lambda n: f"Guild {n}")


class GuildChannelFactory(factory.django.DjangoModelFactory[GuildChannel]):
    class Meta:
        model = GuildChannel

    guild = factory.SubFactory(GuildFactory)
    external_id = factory.Sequence(lambda n: f"{800000000000000000 + n}")
    name = factory.Sequence(lambda n: f"channel-{n}")
    kind = ChannelKind.TEXT


class GuildRoleFactory(factory.django.DjangoModelFactory[GuildRole]):
    class Meta:
        model = GuildRole

    guild = factory.SubFactory(GuildFactory)
    external_id = factory.Sequence(lambda n: f"{700000000000000000 + n}")
    name = factory.Sequence(lambda n: f"role-{n}")


class TaskRunFactory(factory.django.DjangoModelFactory[TaskRun]):
    """A task a turn delegated, queued with the default limits (its trigger id is a fresh uuid, no row)."""

    class Meta:
        model = TaskRun

    bot = factory.SubFactory(BotFactory)
    guild_id = "g-1"
    channel_id = "c-1"
    goal = factory.Sequence(lambda n: f"Research topic {n} and write it up")
    trigger_id = factory.LazyFunction(uuid.uuid4)
    max_steps = 6
    max_seconds = 120.0
    max_cost_usd = Decimal("0.25")
