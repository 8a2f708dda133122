"""Reads of the bots app."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from django.conf import settings as django_settings
from django.db.models import Count, Max, QuerySet

from bots.bot_settings import BotSettings
from bots.choices import FieldType, SettingSource
from bots.errors import BotNotFound, SettingResolutionError, UnknownSetting
from bots.models import Bot, Guild, GuildChannel, GuildRole
from bots.setting_types import SettingField, SettingValue
from dispositions.models import DispositionDecision
from dit_project.vault import SecretValue
from gateway.models import UsageEvent

# Grouped choices for a Django ChoiceField: [(guild name, [(external id, label), ...]), ...]
GroupedChoices = list[tuple[str, list[tuple[str, str]]]]


@dataclass(frozen=True)
class SettingState:
    """One setting as an operator sees it: the public (masked) value, its source, or why it cannot resolve."""

    field: SettingField
    source: SettingSource | None
    public_value: SettingValue | None
    has_override: bool
    error: str = ""


def bot_history(*, bot: Bot) -> dict[str, int]:
    """What a bot has left behind, by kind (only kinds it has): what a delete would orphan or destroy.

    Decisions and usage events name the bot by a plain id, so a delete would leave them pointing at
    nothing; platform accounts, claimed messages and mutes would go with the row.
    """
    counts = {
        "routing decisions": DispositionDecision.objects.filter(bot_id=bot.pk).count(),
        "model usage events": UsageEvent.objects.filter(bot_id=bot.pk).count(),
        "platform accounts": bot.platform_accounts.count(),
        "handled messages": bot.inbound_claims.count(),
        "channel mutes": bot.channel_mutes.count(),
    }
    return {kind: count for kind, count in counts.items() if count}


@dataclass(frozen=True)
class BotRevision:
    """What a running host must notice about its bot row: its name, manifest and settings as of now.

    Two revisions compare equal exactly when nothing the host reads changed (a rename, a new manifest
    version, an override set, changed or cleared).
    """

    bot_id: int
    slug: str
    name: str
    manifest_id: int | None
    updated_at: datetime
    override_count: int
    overrides_updated_at: datetime | None


def bot_revision(*, bot_id: int) -> BotRevision | None:
    """The bot's current revision in one query, or None when the row is gone (the host must stop)."""
    row = (
        Bot.objects.filter(pk=bot_id)
        .annotate(override_count=Count("setting_overrides"), overrides_updated_at=Max("setting_overrides__updated_at"))
        .values("slug", "name", "current_manifest_id", "updated_at", "override_count", "overrides_updated_at")
        .first()
    )
    if row is None:
        return None
    return BotRevision(
        bot_id=bot_id,
        slug=row["slug"],
        name=row["name"],
        manifest_id=row["current_manifest_id"],
        updated_at=row["updated_at"],
        override_count=row["override_count"],
        overrides_updated_at=row["overrides_updated_at"],
    )


def bot_discord_token_set(*, slug: str) -> bool:
    """Whether the bot would connect to Discord: a DISCORD_TOKEN from an admin override, the environment
    variable, or a default (the same order the runner reads it in)."""
    token = bot_get(slug=slug).settings.get("DISCORD_TOKEN")
    if token is None:
        token = os.environ.get("DISCORD_TOKEN")
    plain = token.reveal() if isinstance(token, SecretValue) else str(token or "")
    return bool(plain.strip())


def bot_list() -> QuerySet[Bot]:
    """All bots with their current manifest, for lists."""
    return Bot.objects.select_related("current_manifest").order_by("slug")


def bot_get(*, slug: str) -> Bot:
    """One bot by slug with its current manifest; BotNotFound names the slug."""
    try:
        return bot_list().get(slug=slug)
    except Bot.DoesNotExist:
        raise BotNotFound(
            f"No bot with slug {slug!r}; load its manifest with `manage.py loadmanifest PATH`", slug=slug
        ) from None


def setting_fields(*, bot: Bot) -> tuple[SettingField, ...]:
    """The fields the bot's current manifest declares (none without a manifest)."""
    manifest = bot.manifest
    return manifest.setting_fields() if manifest is not None else ()


def setting_state(*, settings: BotSettings, key: str) -> SettingState:
    """Resolve one key for display; a value that cannot resolve becomes an error message instead of a failure."""
    setting = settings.field(key)
    overridden = settings.has_override(key)
    try:
        resolved = settings.resolve(key)
    except SettingResolutionError as exc:
        return SettingState(setting, None, None, overridden, error=exc.message)
    return SettingState(setting, resolved.source, resolved.public_value, overridden)


def setting_states(*, bot: Bot) -> list[SettingState]:
    """Every declared setting of the bot, resolved for display, secrets masked."""
    settings = bot.settings
    return [setting_state(settings=settings, key=f.key) for f in settings.fields]


def setting_state_get(*, bot: Bot, key: str) -> SettingState:
    """One declared setting of the bot, resolved for display; UnknownSetting when not declared."""
    settings = bot.settings
    if not settings.declares(key):
        raise UnknownSetting(f"Bot {bot.slug!r} declares no setting or credential {key!r}", key=key)
    return setting_state(settings=settings, key=key)


def _grouped(rows: list[tuple[str, str, str]], prefix: str) -> GroupedChoices:
    groups: dict[str, list[tuple[str, str]]] = {}
    for guild_name, external_id, name in rows:
        groups.setdefault(guild_name, []).append((external_id, f"{prefix}{name}"))
    return list(groups.items())


def guild_channel_choices(*, bot: Bot) -> GroupedChoices:
    """The channels of the bot's synced guilds, grouped by guild, for a picker."""
    rows = GuildChannel.objects.filter(guild__bot=bot).order_by("guild__name", "name")
    return _grouped(list(rows.values_list("guild__name", "external_id", "name")), "#")


def guild_role_choices(*, bot: Bot) -> GroupedChoices:
    """The roles of the bot's synced guilds, grouped by guild, for a picker."""
    rows = GuildRole.objects.filter(guild__bot=bot).order_by("guild__name", "name")
    return _grouped(list(rows.values_list("guild__name", "external_id", "name")), "@")


def platform_reference_known(*, bot: Bot, field_type: FieldType, external_id: str) -> bool | None:
    """Whether a channel or role id is among the bot's synced guilds; None when nothing is synced yet."""
    model: type[GuildChannel] | type[GuildRole] = GuildChannel if field_type == FieldType.DISCORD_CHANNEL else GuildRole
    known = model.objects.filter(guild__bot=bot)
    if not known.exists():
        return None
    return known.filter(external_id=external_id).exists()


@dataclass(frozen=True)
class QuietHours:
    """A guild's quiet hours: a local start and end in its time zone (an end before the start is past midnight)."""

    time_zone: str
    start: time
    end: time

    def covers(self, moment: datetime) -> bool:
        """Whether `moment` (aware) falls within the quiet hours, read in the guild's time zone."""
        local = moment.astimezone(ZoneInfo(self.time_zone)).time()
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


def quiet_hours_by_guild(*, bot_id: int) -> dict[str, QuietHours]:
    """The quiet hours of every guild of a bot that has them, by the guild's platform id."""
    rows = Guild.objects.filter(bot_id=bot_id, quiet_hours_start__isnull=False, quiet_hours_end__isnull=False)
    found: dict[str, QuietHours] = {}
    for external_id, zone, start, end in rows.values_list(
        "external_id", "time_zone", "quiet_hours_start", "quiet_hours_end"
    ):
        if start is not None and end is not None:
            # A blank time zone is the server's, as for speculative turns (`Guild.zone`).
            found[external_id] = QuietHours(time_zone=zone or django_settings.TIME_ZONE, start=start, end=end)
    return found


def channel_name(*, bot_id: int, guild_id: str, channel_id: str) -> str:
    """A guild channel's name as last synced for a bot ("" when it is not known)."""
    name = (
        GuildChannel.objects.filter(guild__bot_id=bot_id, guild__external_id=guild_id, external_id=channel_id)
        .values_list("name", flat=True)
        .first()
    )
    return name or ""
