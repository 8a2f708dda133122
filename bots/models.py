"""Models of the bots app: bots, their versioned manifests, setting overrides, the guilds they see, and the
task workers their turns delegate to."""

from __future__ import annotations

from functools import cached_property
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from bots.bot_settings import BotSettings, StoredOverride
from bots.choices import ChannelKind, Platform, TaskStatus
from bots.manifest import Manifest, manifest_from_data

__all__ = ["Bot", "BotManifest", "Guild", "GuildChannel", "GuildRole", "SettingOverride", "TaskRun"]


class Bot(models.Model):
    """A bot D.I.T. runs; its identity, features and settings schema come from its current manifest."""

    slug = models.SlugField(max_length=50, help_text="Stable identifier, as in the manifest's bot.slug.")
    name = models.CharField(max_length=100)
    version = models.CharField(max_length=50, blank=True, help_text="The bot's release version from its manifest.")
    current_manifest = models.ForeignKey(
        "BotManifest",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The latest loaded manifest version; earlier versions stay in the history.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["slug"]
        constraints = [models.UniqueConstraint(fields=["slug"], name="bots_bot_unique_slug")]

    def __str__(self) -> str:
        return self.slug

    @property
    def manifest(self) -> Manifest | None:
        """The current manifest, typed; None for a bot that has none."""
        return self.current_manifest.parsed if self.current_manifest is not None else None

    @property
    def settings(self) -> BotSettings:
        """A fresh typed settings view (overrides read now); empty but usable when the bot has no manifest."""
        manifest = self.manifest
        fields = manifest.setting_fields() if manifest is not None else ()
        overrides = {override.key: override.stored() for override in self.setting_overrides.all()}
        return BotSettings(fields, overrides)


class BotManifest(models.Model):
    """One version of a bot's manifest; loading a changed manifest adds a version and keeps the old ones."""

    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="manifests")
    version = models.PositiveIntegerField(help_text="1 for the first manifest loaded, then one more per change.")
    content = models.JSONField(help_text="The validated manifest as loaded.")
    digest = models.CharField(max_length=64, help_text="SHA-256 of the canonical JSON; equal content, equal digest.")
    source = models.CharField(max_length=500, blank=True, help_text="Where the manifest was loaded from.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["bot", "-version"]
        constraints = [models.UniqueConstraint(fields=["bot", "version"], name="bots_botmanifest_unique_version")]

    def __str__(self) -> str:
        return f"manifest v{self.version}"

    @cached_property
    def parsed(self) -> Manifest:
        """The stored content as a typed Manifest (validated again, so a hand-edited row cannot slip through)."""
        return manifest_from_data(self.content, source=f"stored manifest v{self.version}")


class SettingOverride(models.Model):
    """An admin's value for one setting or credential of a bot; secrets are stored encrypted, never in `value`."""

    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="setting_overrides")
    key = models.CharField(max_length=100)
    value = models.JSONField(null=True, blank=True, help_text="The value for a non-secret setting.")
    sealed_value = models.TextField(blank=True, default="", help_text="The encrypted value of a secret.")
    is_secret = models.BooleanField(default=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["bot", "key"]
        constraints = [
            models.UniqueConstraint(fields=["bot", "key"], name="bots_settingoverride_unique_key"),
            models.CheckConstraint(
                condition=Q(is_secret=False, sealed_value="") | Q(is_secret=True, value__isnull=True),
                name="bots_settingoverride_secret_only_sealed",
            ),
        ]

    def __str__(self) -> str:
        return self.key

    def stored(self) -> StoredOverride:
        """The override as the settings view reads it."""
        return StoredOverride(key=self.key, value=self.value, sealed=self.sealed_value, is_secret=self.is_secret)


class Guild(models.Model):
    """A server (guild) a bot is in, as last synced from its platform; feeds the channel and role pickers.

    Its time zone and quiet hours are set by people (admin), never by a sync: during quiet hours the bot
    stays out of unaddressed talk and answers a mention with a short sleepy line or not at all.
    """

    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="guilds")
    platform = models.CharField(max_length=20, choices=Platform.choices, default=Platform.DISCORD)
    external_id = models.CharField(max_length=64, help_text="The platform's id for the guild.")
    name = models.CharField(max_length=200)
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        help_text=(
            "The guild's IANA time zone (e.g. Europe/Berlin) for speculative turns and quiet hours; "
            "blank: the server's."
        ),
    )
    synced_at = models.DateTimeField(default=timezone.now)
    quiet_hours_start = models.TimeField(
        null=True, blank=True, help_text="When the guild's night begins, in its time zone; empty for no quiet hours."
    )
    quiet_hours_end = models.TimeField(
        null=True, blank=True, help_text="When it ends; before the start means past midnight (23:00 to 07:00)."
    )

    class Meta:
        ordering = ["bot", "name"]
        constraints = [
            models.UniqueConstraint(fields=["bot", "platform", "external_id"], name="bots_guild_unique_external_id"),
            models.CheckConstraint(
                condition=(
                    Q(quiet_hours_start__isnull=True, quiet_hours_end__isnull=True)
                    | Q(quiet_hours_start__isnull=False, quiet_hours_end__isnull=False)
                ),
                name="bots_guild_quiet_hours_both_or_neither",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """A known time zone (blank: the server's); quiet hours have both ends or none, and are not empty."""
        errors: dict[str, str] = {}
        if self.time_zone:
            try:
                ZoneInfo(self.time_zone)
            except (ZoneInfoNotFoundError, ValueError):
                errors["time_zone"] = f"Unknown time zone {self.time_zone!r}; use e.g. Europe/Berlin."
        start, end = self.quiet_hours_start, self.quiet_hours_end
        if (start is None) != (end is None):
            errors["quiet_hours_end" if end is None else "quiet_hours_start"] = "Give both ends of the quiet hours."
        elif start is not None and start == end:
            errors["quiet_hours_end"] = "Quiet hours must not end when they start."
        if errors:
            raise ValidationError(errors)

    @property
    def zone(self) -> ZoneInfo:
        """The guild's time zone (the server's TIME_ZONE when none is set)."""
        try:
            return ZoneInfo(self.time_zone or settings.TIME_ZONE)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo(settings.TIME_ZONE)


class GuildChannel(models.Model):
    """A channel of a guild, as last synced."""

    guild = models.ForeignKey(Guild, on_delete=models.CASCADE, related_name="channels")
    external_id = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=ChannelKind.choices, default=ChannelKind.TEXT)

    class Meta:
        ordering = ["guild", "name"]
        constraints = [
            models.UniqueConstraint(fields=["guild", "external_id"], name="bots_guildchannel_unique_external_id")
        ]

    def __str__(self) -> str:
        return f"#{self.name}"


class GuildRole(models.Model):
    """A role of a guild, as last synced."""

    guild = models.ForeignKey(Guild, on_delete=models.CASCADE, related_name="roles")
    external_id = models.CharField(max_length=64)
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["guild", "name"]
        constraints = [
            models.UniqueConstraint(fields=["guild", "external_id"], name="bots_guildrole_unique_external_id")
        ]

    def __str__(self) -> str:
        return f"@{self.name}"


class TaskRun(models.Model):
    """A goal-shaped request a turn delegated to a task worker, its progress and its result.

    Written by the host when an addressed message asks for multi-step work (`bots.host.stages.delegate`),
    run by the reactor trigger `bots.task` on a Celery worker (`bots.task_workers`), and posted back in its
    channel once by the bot's process (`posted_at` is set by a conditional update before the send).
    """

    bot = models.ForeignKey(Bot, on_delete=models.CASCADE, related_name="task_runs")
    guild_id = models.CharField(max_length=64, blank=True, help_text="The guild asked in (empty in a DM).")
    channel_id = models.CharField(max_length=64, help_text="The channel the result is posted in.")
    decision = models.ForeignKey(
        "dispositions.DispositionDecision",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="task_runs",
        help_text="The turn that took the request on (and acknowledged it).",
    )
    requested_by = models.CharField(max_length=64, blank=True, help_text="The platform user id who asked.")
    request_message_id = models.CharField(
        max_length=64, blank=True, help_text="The message that asked; the result replies to it."
    )
    goal = models.TextField(help_text="What the worker is to do, in the parser's words.")
    status = models.CharField(max_length=20, choices=TaskStatus.choices, default=TaskStatus.QUEUED)
    trigger_id = models.UUIDField(help_text="The reactor trigger that runs the worker (and keys its delivery).")
    max_steps = models.PositiveSmallIntegerField(help_text="Model calls offered tools, at most (TASK_MAX_STEPS).")
    max_seconds = models.FloatField(help_text="Wall time of one run, at most (TASK_MAX_SECONDS).")
    max_cost_usd = models.DecimalField(
        max_digits=10, decimal_places=6, help_text="Spend of one run, at most (TASK_MAX_COST_USD)."
    )
    steps = models.PositiveSmallIntegerField(default=0, help_text="Steps taken by the latest run so far.")
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Runs started (a worker restart adds one).")
    cost_usd = models.DecimalField(
        max_digits=10, decimal_places=6, default=0, help_text="What every run spent on model calls, together."
    )
    model_used = models.CharField(max_length=200, blank=True)
    started_at = models.DateTimeField(null=True, blank=True, help_text="When the first run began.")
    finished_at = models.DateTimeField(null=True, blank=True)
    result_text = models.TextField(blank=True, help_text="What is posted back in the channel.")
    error = models.TextField(blank=True, help_text="Why the run failed or stopped short.")
    posted_at = models.DateTimeField(
        null=True, blank=True, help_text="When the bot took the result for posting (set once, before the send)."
    )
    posted_message_id = models.CharField(max_length=64, blank=True, help_text="The platform message of the result.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["bot", "created_at"], name="bots_taskrun_bot_created_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=TaskStatus.values), name="bots_taskrun_status_valid"),
            models.CheckConstraint(condition=Q(max_steps__gte=1), name="bots_taskrun_max_steps_positive"),
        ]

    def __str__(self) -> str:
        return f"task {self.pk}: {self.goal[:60]}"
