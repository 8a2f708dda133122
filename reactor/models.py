"""Models of the reactor app: the append-only event log."""

from __future__ import annotations

from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models.functions import Now

from reactor.choices import EventKind
from reactor.errors import EventLogAppendOnly


class EventQuerySet(models.QuerySet[Any]):
    """Events are read and appended; a bulk update would rewrite history."""

    def update(self, **kwargs: Any) -> int:
        """Refuse: events never change once written."""
        raise EventLogAppendOnly("reactor events are append-only; emit a new event instead")


class ReactorEvent(models.Model):
    """Something that happened, recorded once; triggers read this log, nothing rewrites it."""

    kind = models.CharField(max_length=64, choices=EventKind.choices)
    payload = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    guild_id = models.CharField(max_length=64, blank=True)
    channel_id = models.CharField(max_length=64, blank=True)
    idempotency_key = models.CharField(
        max_length=200, null=True, blank=True, help_text="Emitting twice with one key records one event."
    )
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ("-id",)
        constraints = (
            models.UniqueConstraint(fields=("idempotency_key",), name="reactor_event_unique_idempotency_key"),
        )
        indexes = (
            models.Index(fields=("kind", "created_at"), name="reactor_event_kind_created"),
            models.Index(fields=("guild_id", "created_at"), name="reactor_event_guild_created"),
        )

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Append a new event; refuse to rewrite an existing one."""
        if not self._state.adding:
            raise EventLogAppendOnly(f"reactor event {self.pk} is append-only; emit a new event instead")
        super().save(*args, **kwargs)
