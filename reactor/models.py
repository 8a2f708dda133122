"""Models of the reactor app: the append-only event log, triggers, self-followup schedules and deliveries.

The reactor imports no other app: decisions, bots and guilds are plain ids here, as in the lower apps.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now

from reactor.choices import (
    WAITING_STATUSES,
    Combine,
    DeliveryStatus,
    EventKind,
    FollowupStatus,
    TriggerMode,
    TriggerStatus,
)
from reactor.errors import EventLogAppendOnly

__all__ = ["DeadLetter", "Delivery", "ReactorEvent", "SelfFollowupSchedule", "Trigger"]


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
            models.Index(fields=("channel_id", "kind", "created_at"), name="reactor_event_channel_kind"),
        )

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Append a new event; refuse to rewrite an existing one."""
        if not self._state.adding:
            raise EventLogAppendOnly(f"reactor event {self.pk} is append-only; emit a new event instead")
        super().save(*args, **kwargs)


class Trigger(models.Model):
    """Work W to do when condition C holds: durable here, executed by Celery once it is due.

    The id is also the Celery task id and the idempotency key of the trigger's effect. Postgres is the
    truth: a row is `pending` until due, `enqueued` once the dispatcher has handed it to Celery (with a
    lease), `running` once a worker has claimed it, then `done`, `dead` or `cancelled`.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=100, help_text="The declaration this trigger belongs to, e.g. bots.followup.")
    mode = models.CharField(max_length=12, choices=TriggerMode.choices, default=TriggerMode.TIMER)
    predicate = models.JSONField(
        default=dict, blank=True, encoder=DjangoJSONEncoder, help_text="The condition, as data."
    )
    payload = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    guild_id = models.CharField(max_length=64, blank=True)
    channel_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=12, choices=TriggerStatus.choices, default=TriggerStatus.PENDING)
    due_at = models.DateTimeField(null=True, blank=True, help_text="Empty: waiting for the events it depends on.")
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Cancelled if not due by then.")
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=5)
    sent_count = models.PositiveIntegerField(default=0, help_text="How many times the dispatcher sent it to Celery.")
    lease_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    dedupe_key = models.CharField(
        max_length=200, null=True, blank=True, help_text="At most one trigger per key is waiting at a time."
    )
    wake_keys = ArrayField(
        models.CharField(max_length=200),
        default=list,
        blank=True,
        help_text="Events carrying one of these keys make the trigger due at once.",
    )
    combine = models.CharField(max_length=3, choices=Combine.choices, blank=True, default=Combine.NONE)
    parts_all = models.IntegerField(default=0, help_text="Composite: a bit per event part.")
    parts_met = models.IntegerField(default=0, help_text="Composite: the event parts seen so far.")
    timer_at = models.DateTimeField(null=True, blank=True, help_text="Composite: when its quiet timer elapses.")
    result = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder, help_text="What the run did.")
    parent_event = models.ForeignKey(
        ReactorEvent, on_delete=models.SET_NULL, null=True, blank=True, related_name="triggers"
    )
    parent_trigger = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="children"
    )
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    updated_at = models.DateTimeField(db_default=Now())
    enqueued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)
        constraints = (
            models.CheckConstraint(condition=Q(status__in=TriggerStatus.values), name="reactor_trigger_status_valid"),
            models.CheckConstraint(condition=Q(mode__in=TriggerMode.values), name="reactor_trigger_mode_valid"),
            models.CheckConstraint(condition=Q(combine__in=Combine.values), name="reactor_trigger_combine_valid"),
            models.UniqueConstraint(
                fields=("dedupe_key",),
                condition=Q(status__in=WAITING_STATUSES, dedupe_key__isnull=False),
                name="reactor_trigger_one_waiting_per_key",
            ),
        )
        indexes = (
            # The dispatcher's two questions: what is due, and whose lease has run out.
            models.Index(fields=("due_at",), condition=Q(status=TriggerStatus.PENDING), name="reactor_trigger_due"),
            models.Index(
                fields=("lease_until",),
                condition=Q(status__in=(TriggerStatus.ENQUEUED, TriggerStatus.RUNNING)),
                name="reactor_trigger_leased",
            ),
            models.Index(
                fields=("expires_at",),
                condition=Q(status=TriggerStatus.PENDING, expires_at__isnull=False),
                name="reactor_trigger_expiry",
            ),
            models.Index(fields=("status", "-created_at"), name="reactor_trigger_status_created"),
            models.Index(fields=("guild_id", "kind", "finished_at"), name="reactor_trigger_guild_kind"),
            # Only rows that wait to be woken: an empty array would still be an entry in a full GIN index.
            GinIndex(
                fields=("wake_keys",),
                condition=Q(status=TriggerStatus.PENDING) & ~Q(wake_keys=[]),
                name="reactor_trigger_wake_keys",
            ),
        )

    def __str__(self) -> str:
        return f"{self.kind} {self.pk} ({self.status})"

    @property
    def is_waiting(self) -> bool:
        """Not started yet: pending or enqueued."""
        return self.status in WAITING_STATUSES


class DeadLetter(Trigger):
    """Dead triggers, as their own admin list: what failed for good, kept for requeue."""

    class Meta:
        proxy = True
        verbose_name = "dead letter"


class SelfFollowupSchedule(models.Model):
    """A pending chance for the bot to come back to what it said: scheduled, then fired or not, and why.

    Every roll that lands gets a row; every evaluation is appended to `evaluations`, so the admin shows
    why a follow-up fired, waited, was downgraded to a later callback or was aborted.
    """

    parent_decision_id = models.BigIntegerField(help_text="The decision whose turn this follows (a plain id).")
    bot_id = models.BigIntegerField()
    guild_id = models.CharField(max_length=64, blank=True)
    channel_id = models.CharField(max_length=64)
    bias = models.CharField(max_length=20, help_text="go-deeper, self-correct, contrarian-self, add-nuance...")
    status = models.CharField(max_length=12, choices=FollowupStatus.choices, default=FollowupStatus.SCHEDULED)
    scheduled_for = models.DateTimeField()
    seed = models.BigIntegerField(help_text="The parent decision's seed, which the roll used.")
    roll = models.FloatField(help_text="The roll (0..1) that landed under the hint's probability.")
    window_min_seconds = models.PositiveIntegerField()
    window_max_seconds = models.PositiveIntegerField()
    bot_message_ids = ArrayField(models.CharField(max_length=64), default=list, blank=True)
    context = models.JSONField(
        default=dict, blank=True, encoder=DjangoJSONEncoder, help_text="The previous turn: what was answered, said."
    )
    defers = models.PositiveSmallIntegerField(default=0)
    trigger = models.ForeignKey(
        Trigger, on_delete=models.SET_NULL, null=True, blank=True, related_name="followup_schedules"
    )
    downgraded_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="downgrades"
    )
    fired_decision_id = models.BigIntegerField(null=True, blank=True, help_text="The decision the fired turn made.")
    abort_reason = models.CharField(max_length=200, blank=True)
    evaluations = models.JSONField(default=list, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = (
            models.CheckConstraint(condition=Q(status__in=FollowupStatus.values), name="reactor_followup_status_valid"),
            models.CheckConstraint(
                condition=Q(window_min_seconds__lte=models.F("window_max_seconds")),
                name="reactor_followup_window_ordered",
            ),
        )
        indexes = (
            models.Index(fields=("parent_decision_id",), name="reactor_followup_parent"),
            models.Index(fields=("channel_id", "status"), name="reactor_followup_channel"),
        )

    def __str__(self) -> str:
        return f"follow-up of decision {self.parent_decision_id} ({self.bias}, {self.status})"


class Delivery(models.Model):
    """Work a trigger hands to a long-running process (a bot that holds its platform connection).

    Kept here until its recipient claims it (once: the claim is a conditional update) or it expires;
    announced on the Channels layer after commit, so a live recipient hears of it at once and one that
    was down finds it when it starts.
    """

    trigger = models.OneToOneField(Trigger, on_delete=models.CASCADE, primary_key=True, related_name="delivery")
    recipient = models.CharField(max_length=90, help_text="The Channels group of the recipient, e.g. bot.12.")
    kind = models.CharField(max_length=50)
    payload = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.WAITING)
    expires_at = models.DateTimeField()
    outcome = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    claimed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)
        verbose_name_plural = "deliveries"
        constraints = (
            models.CheckConstraint(condition=Q(status__in=DeliveryStatus.values), name="reactor_delivery_status_valid"),
        )
        indexes = (models.Index(fields=("recipient", "status", "created_at"), name="reactor_delivery_recipient"),)

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient} ({self.status})"
