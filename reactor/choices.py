"""Enumerations of the reactor app."""

from __future__ import annotations

from django.db import models


class EventKind(models.TextChoices):
    """Kinds of events in the reactor's append-only log; each emitting app adds the kinds it emits."""

    MESSAGE_INGESTED = "message.ingested", "Message ingested"
    MESSAGE_EDITED = "message.edited", "Message edited"
    REACTION_ADDED = "reaction.added", "Reaction added"
    REACTION_REMOVED = "reaction.removed", "Reaction removed"
    TRANSCRIPTS_PURGED = "transcripts.purged", "Transcripts purged by retention"
    BOT_SPOKE = "bot.spoke", "Bot spoke"
    TURN_FINISHED = "turn.finished", "Turn finished"
    MUTE_EXPIRED = "mute.expired", "Mute expired"
    BUDGET_PERIOD_OPENED = "budget.period_opened", "Budget period opened"


class TriggerStatus(models.TextChoices):
    """Where a trigger is in its life: waiting, handed to Celery, running, or finished one way or another."""

    PENDING = "pending", "Pending (waiting for its time or its events)"
    ENQUEUED = "enqueued", "Enqueued (sent to Celery, not started)"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    DEAD = "dead", "Dead (failed; kept for requeue)"
    CANCELLED = "cancelled", "Cancelled"


# Rows a new trigger with the same dedupe key would duplicate: not started yet. A running trigger may
# schedule its own successor under its key, so running rows are left out of the uniqueness rule.
WAITING_STATUSES = (TriggerStatus.PENDING, TriggerStatus.ENQUEUED)
FINISHED_STATUSES = (TriggerStatus.DONE, TriggerStatus.DEAD, TriggerStatus.CANCELLED)


class TriggerMode(models.TextChoices):
    """How a trigger becomes due."""

    TIMER = "timer", "Timer (a due time)"
    EVENT = "event", "Event (due when an event arrives)"
    PREDICATE = "predicate", "State predicate (checked when its events arrive)"
    COMPOSITE = "composite", "Composite (all of / any of its parts)"


class Combine(models.TextChoices):
    """How the parts of a composite trigger combine."""

    NONE = "", "Not a composite"
    ALL = "all", "All of"
    ANY = "any", "Any of"


class FollowupStatus(models.TextChoices):
    """The life of a self-followup: scheduled, then fired, aborted, downgraded, cancelled or expired."""

    SCHEDULED = "scheduled", "Scheduled"
    FIRED = "fired", "Fired (a turn was handed to the bot)"
    ABORTED = "aborted", "Aborted"
    DOWNGRADED = "downgraded", "Downgraded (rescheduled as a later callback)"
    CANCELLED = "cancelled", "Cancelled"
    EXPIRED = "expired", "Expired (the bot did not take the turn in time)"


class DeliveryStatus(models.TextChoices):
    """A piece of work handed to a long-running process (a bot holding its platform connection)."""

    WAITING = "waiting", "Waiting for its recipient"
    CLAIMED = "claimed", "Claimed (taken by the recipient, at most once)"
    DONE = "done", "Done"
    EXPIRED = "expired", "Expired"
