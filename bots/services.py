"""Writes of the bots app: loading manifests, bots, setting overrides and guild snapshots."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from bots.choices import ChannelKind, FieldType, Platform
from bots.errors import BotAlreadyExists, BotHasHistory, InvalidSettingValue, UnknownSetting
from bots.manifest import Manifest, read_manifest
from bots.models import Bot, BotManifest, Guild, GuildChannel, GuildRole, SettingOverride
from bots.selectors import bot_history, platform_reference_known, setting_fields
from bots.setting_types import PLATFORM_ID_TYPES, SettingField, SettingValue, ValueRejected, coerce_value
from dit_project import stamps
from dit_project.vault import seal
from gateway.models import GatewayToken
from gateway.services import gateway_token_revoke

logger = logging.getLogger(__name__)


# Manifests ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ManifestLoadResult:
    """What loading a manifest did."""

    bot: Bot
    manifest: BotManifest
    bot_created: bool
    version_added: bool


def manifest_load(*, manifest: Manifest, source: str = "") -> ManifestLoadResult:
    """Create or update the bot a validated manifest names: a changed manifest adds a version, an equal one no-ops."""
    digest = manifest.digest
    with transaction.atomic():
        # Two loads of the same bot at once would both compute the same next version; the row lock
        # on the bot serialises them (the second sees the first's version and either no-ops or adds one).
        bot, created = Bot.objects.select_for_update().get_or_create(
            slug=manifest.slug, defaults={"name": manifest.name, "version": manifest.version}
        )
        current = BotManifest.objects.filter(pk=bot.current_manifest_id).first() if bot.current_manifest_id else None
        if current is not None and current.digest == digest:
            logger.info("bot %s: manifest unchanged (version %s)", bot.slug, current.version)
            return ManifestLoadResult(bot=bot, manifest=current, bot_created=False, version_added=False)

        highest = bot.manifests.aggregate(highest=Max("version"))["highest"] or 0
        stored = BotManifest.objects.create(
            bot=bot, version=highest + 1, content=dict(manifest.data), digest=digest, source=source[:500]
        )
        bot.current_manifest = stored
        bot.name = manifest.name
        bot.version = manifest.version
        bot.updated_at = timezone.now()
        bot.save(update_fields=["current_manifest", "name", "version", "updated_at"])
    logger.info("bot %s: manifest version %s loaded from %s", bot.slug, stored.version, source or "data")
    return ManifestLoadResult(bot=bot, manifest=stored, bot_created=created, version_added=True)


def manifest_load_file(*, path: Path) -> ManifestLoadResult:
    """Read, validate and load a manifest file; an invalid file raises ManifestInvalid and writes nothing."""
    manifest = read_manifest(path)
    return manifest_load(manifest=manifest, source=str(path))


# Bots ---------------------------------------------------------------------------------------------


def bot_create(*, slug: str, name: str) -> Bot:
    """Create a bot without a manifest (its settings view is empty until one is loaded)."""
    try:
        with transaction.atomic():
            return Bot.objects.create(slug=slug, name=name)
    except IntegrityError:
        raise BotAlreadyExists(f"A bot with slug {slug!r} exists already", slug=slug) from None


def bot_update(*, bot: Bot, name: str) -> Bot:
    """Rename a bot (its slug is its identity and does not change)."""
    bot.name = name
    bot.updated_at = timezone.now()
    bot.save(update_fields=["name", "updated_at"])
    return bot


def bot_delete(*, bot: Bot) -> None:
    """Delete a bot that has no history yet, with its manifests, overrides and guilds; raise BotHasHistory
    for a bot that has run (its decisions, usage and messages must keep pointing at a bot that exists)."""
    # The race: a running host may claim its first message while this runs. Its claim's foreign key
    # takes a KEY SHARE lock on the bot row, which FOR UPDATE waits for (and blocks), so the history
    # read below sees every claim committed before the delete and none can slip in after it.
    with transaction.atomic():
        locked = Bot.objects.select_for_update().get(pk=bot.pk)
        history = bot_history(bot=locked)
        if history:
            found = ", ".join(f"{count} {kind}" for kind, count in history.items())
            raise BotHasHistory(
                f"Bot {bot.slug} has history ({found}) and cannot be deleted: its records would point at a "
                "bot that no longer exists. Stop its runbot process instead; the bot row keeps its history.",
                history=history,
            )
        # Gateway tokens name the bot by a plain id: revoke them, so none acts for a bot that is gone.
        for token in GatewayToken.objects.filter(bot_id=locked.pk, revoked_at=None):
            gateway_token_revoke(token=token)
        locked.delete()
    logger.info("bot %s deleted", bot.slug)


# Setting overrides --------------------------------------------------------------------------------


def _declared(bot: Bot) -> dict[str, SettingField]:
    return {f.key: f for f in setting_fields(bot=bot)}


def setting_value_check(*, bot: Bot, setting: SettingField, value: object) -> SettingValue:
    """Coerce a value for one of the bot's fields, or raise InvalidSettingValue naming the key."""
    try:
        clean = coerce_value(setting, value)
    except ValueRejected as exc:
        raise InvalidSettingValue(f"{setting.key}: {exc.message}", key=setting.key) from None
    if setting.type in PLATFORM_ID_TYPES and isinstance(clean, str):
        known = platform_reference_known(bot=bot, field_type=setting.type, external_id=clean)
        if known is False:
            noun = "channel" if setting.type == FieldType.DISCORD_CHANNEL else "role"
            raise InvalidSettingValue(
                f"{setting.key}: no {noun} with id {clean!r} in the bot's guilds", key=setting.key
            )
    return clean


def _write_override(*, bot: Bot, setting: SettingField, value: SettingValue, actor: Any) -> SettingOverride:
    if setting.is_secret:
        fields: dict[str, Any] = {"value": None, "sealed_value": seal(str(value)), "is_secret": True}
    else:
        fields = {"value": value, "sealed_value": "", "is_secret": False}
    override, _ = SettingOverride.objects.update_or_create(
        bot=bot, key=setting.key, defaults={**fields, "updated_by": actor, "updated_at": timezone.now()}
    )
    return override


def setting_override_set(*, bot: Bot, key: str, value: object, actor: Any = None) -> SettingOverride:
    """Validate a value by the field's type and store it as the bot's override (encrypted for secrets)."""
    setting = _declared(bot).get(key)
    if setting is None:
        raise UnknownSetting(f"Bot {bot.slug!r} declares no setting or credential {key!r}", key=key)
    clean = setting_value_check(bot=bot, setting=setting, value=value)
    with transaction.atomic():
        override = _write_override(bot=bot, setting=setting, value=clean, actor=actor)
    logger.info("bot %s: override of %s saved by %s", bot.slug, key, getattr(actor, "username", "system"))
    return override


def setting_override_clear(*, bot: Bot, key: str) -> bool:
    """Remove the bot's override of `key` so it resolves from the environment or default; True if one existed."""
    deleted, _ = SettingOverride.objects.filter(bot=bot, key=key).delete()
    if not deleted and key not in _declared(bot):
        raise UnknownSetting(f"Bot {bot.slug!r} declares no setting or credential {key!r}", key=key)
    if deleted:
        logger.info("bot %s: override of %s removed", bot.slug, key)
    return bool(deleted)


def setting_overrides_apply(
    *, bot: Bot, values: Mapping[str, object], clear: Iterable[str] = (), actor: Any = None
) -> list[str]:
    """Set several overrides and clear others in one transaction; every value is validated before any write."""
    declared = _declared(bot)
    unknown = [key for key in [*values, *clear] if key not in declared]
    if unknown:
        raise UnknownSetting(f"Bot {bot.slug!r} declares no setting {unknown[0]!r}", key=unknown[0])
    clean = {key: setting_value_check(bot=bot, setting=declared[key], value=value) for key, value in values.items()}
    cleared = [key for key in clear if key not in clean]
    with transaction.atomic():
        for key, value in clean.items():
            _write_override(bot=bot, setting=declared[key], value=value, actor=actor)
        SettingOverride.objects.filter(bot=bot, key__in=cleared).delete()
    changed = sorted([*clean, *cleared])
    if changed:
        logger.info("bot %s: overrides changed by %s: %s", bot.slug, getattr(actor, "username", "system"), changed)
    return changed


# Guilds -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelSnapshot:
    """A channel as the platform reports it."""

    external_id: str
    name: str
    kind: ChannelKind = ChannelKind.TEXT


@dataclass(frozen=True)
class RoleSnapshot:
    """A role as the platform reports it."""

    external_id: str
    name: str


def guild_sync(
    *,
    bot_id: int,
    external_id: str,
    name: str,
    channels: Sequence[ChannelSnapshot],
    roles: Sequence[RoleSnapshot],
    platform: Platform = Platform.DISCORD,
) -> Guild:
    """Upsert a guild with its channels and roles as the platform reports them now; vanished ones are removed."""
    # Keyed by id so a platform reporting one id twice upserts it once (the last report wins).
    channel_rows = {c.external_id: c for c in channels}
    role_rows = {r.external_id: r for r in roles}
    with transaction.atomic():
        guild, _ = Guild.objects.update_or_create(
            bot_id=bot_id,
            platform=platform,
            external_id=external_id,
            defaults={"name": name, "synced_at": timezone.now()},
        )
        GuildChannel.objects.bulk_create(
            [
                GuildChannel(guild=guild, external_id=c.external_id, name=c.name, kind=c.kind)
                for c in channel_rows.values()
            ],
            update_conflicts=True,
            unique_fields=["guild", "external_id"],
            update_fields=["name", "kind"],
        )
        GuildChannel.objects.filter(guild=guild).exclude(external_id__in=list(channel_rows)).delete()
        GuildRole.objects.bulk_create(
            [GuildRole(guild=guild, external_id=r.external_id, name=r.name) for r in role_rows.values()],
            update_conflicts=True,
            unique_fields=["guild", "external_id"],
            update_fields=["name"],
        )
        GuildRole.objects.filter(guild=guild).exclude(external_id__in=list(role_rows)).delete()
    logger.info(
        "bot %s: guild %s synced (%s channels, %s roles)", bot_id, external_id, len(channel_rows), len(role_rows)
    )
    return guild


def quiet_hours_stamp(bot_id: int) -> str:
    """The change stamp of one bot's guild quiet hours (a running host reloads them when it moves)."""
    return f"quiet-hours:{bot_id}"


def guild_quiet_hours_set(*, guild: Guild, time_zone: str, start: time | None, end: time | None) -> Guild:
    """Set a guild's time zone and quiet hours (both ends, or neither for none); a running host sees it next turn."""
    guild.time_zone = time_zone
    guild.quiet_hours_start = start
    guild.quiet_hours_end = end
    guild.full_clean(exclude=["bot"])
    guild.save(update_fields=["time_zone", "quiet_hours_start", "quiet_hours_end"])
    stamps.bump(quiet_hours_stamp(guild.bot_id))
    logger.info("bot %s: guild %s quiet hours %s-%s (%s)", guild.bot_id, guild.external_id, start, end, time_zone)
    return guild
