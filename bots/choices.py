"""Enumerations of the bots app, declared once."""

from __future__ import annotations

from django.db import models


class FieldType(models.TextChoices):
    """The type of one manifest setting: it picks the admin control and the validator."""

    STRING = "string", "Text"
    NUMBER = "number", "Number"
    BOOLEAN = "boolean", "Yes / no"
    SELECT = "select", "Choice"
    SECRET = "secret", "Secret"
    DISCORD_CHANNEL = "discord_channel", "Discord channel"
    DISCORD_ROLE = "discord_role", "Discord role"


class Platform(models.TextChoices):
    """A chat platform a bot can run on."""

    DISCORD = "discord", "Discord"
    LOCAL = "local", "Local (terminal)"


class ChannelKind(models.TextChoices):
    """What a guild channel is, as far as the pickers care."""

    TEXT = "text", "Text"
    VOICE = "voice", "Voice"
    CATEGORY = "category", "Category"
    FORUM = "forum", "Forum"
    THREAD = "thread", "Thread"
    OTHER = "other", "Other"


class SettingSource(models.TextChoices):
    """Where a resolved setting value came from, in resolution order."""

    OVERRIDE = "override", "Admin override"
    ENVIRONMENT = "env", "Environment variable"
    DEFAULT = "default", "Manifest default"
    UNSET = "unset", "Not set"
