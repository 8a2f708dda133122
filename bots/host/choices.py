"""Enumerations of the host harness, declared once."""

from __future__ import annotations

from django.db import models


class BeatStatus(models.TextChoices):
    """Where an outbound beat is: recorded before sending, then sent, failed or cancelled."""

    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class BeatKind(models.TextChoices):
    """What an outbound beat puts on the platform."""

    MESSAGE = "message", "Message"
    REACTION = "reaction", "Reaction"


class MuteSource(models.TextChoices):
    """Who or what muted a channel."""

    PHRASE = "phrase", "Mute phrase from a member"
    CLASSIFIER = "classifier", "Classifier on a member's message"
    ADMIN = "admin", "Moderator in admin"
    API = "api", "Moderator through the API"


class RecheckOutcome(models.TextChoices):
    """What a turn did when it looked at the channel again just before sending."""

    SEND = "send", "Sent as is (nothing new arrived)"
    REPLY = "reply", "Sent as a platform reply (others spoke meanwhile)"
    FOLD = "fold", "Folded the new messages in"
    STALE = "stale", "Dropped as stale"


class Ending(models.TextChoices):
    """How a turn ended, as recorded in the decision's outcome."""

    SPOKE = "spoke", "Spoke"
    REACTED = "reacted", "Reacted"
    SILENT = "silent", "Stayed silent"
    STALE = "stale", "Dropped as stale"
    ERROR = "error", "Failed (silent)"
    CANCELLED = "cancelled", "Cancelled while draining"


class GoalKind(models.TextChoices):
    """How a turn read a request that looked goal-shaped."""

    TASK = "task", "A task for a worker"
    CHAT = "chat", "Chat: a reply will do"
    AMBIGUOUS = "ambiguous", "Ambiguous: ask first"
    ERROR = "error", "Could not be read"
