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


class TaskStatus(models.TextChoices):
    """Where a task worker's run is: waiting for the reactor, running, or how it ended."""

    QUEUED = "queued", "Queued (waiting for a worker)"
    RUNNING = "running", "Running"
    DONE = "done", "Done (the model answered)"
    OUT_OF_STEPS = "out_of_steps", "Stopped at its step limit (answered with what it had)"
    OUT_OF_BUDGET = "out_of_budget", "Stopped at its budget (answered with what it had)"
    OUT_OF_TIME = "out_of_time", "Stopped at its time limit"
    FAILED = "failed", "Failed"


# A task in one of these has its result (or its failure) and is never run again.
TASK_FINISHED = (
    TaskStatus.DONE,
    TaskStatus.OUT_OF_STEPS,
    TaskStatus.OUT_OF_BUDGET,
    TaskStatus.OUT_OF_TIME,
    TaskStatus.FAILED,
)
