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
