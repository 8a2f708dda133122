"""Reads of the reactor app: lists for admin and the API, counts by status for dashboards."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, QuerySet

from reactor.choices import DeliveryStatus, FollowupStatus, TriggerStatus
from reactor.models import Delivery, ReactorEvent, SelfFollowupSchedule, Trigger


def event_list() -> QuerySet[ReactorEvent]:
    """Events, newest first."""
    return ReactorEvent.objects.order_by("-id")


def trigger_list() -> QuerySet[Trigger]:
    """Triggers, newest first."""
    return Trigger.objects.order_by("-created_at")


def followup_list() -> QuerySet[SelfFollowupSchedule]:
    """Self-followup schedules, newest first."""
    return SelfFollowupSchedule.objects.order_by("-created_at", "-id")


def _by(
    queryset: QuerySet[Trigger] | QuerySet[SelfFollowupSchedule] | QuerySet[Delivery], *names: str
) -> dict[str, int]:
    counted = dict.fromkeys(names, 0)
    for status, total in queryset.order_by().values_list("status").annotate(total=Count("pk")):
        counted[status] = total
    return counted


@dataclass(frozen=True, slots=True)
class ReactorCounts:
    """How many triggers, follow-ups and deliveries are in each status, and which kinds have dead letters."""

    triggers: dict[str, int]
    followups: dict[str, int]
    deliveries: dict[str, int]
    dead_by_kind: dict[str, int]
    oldest_due_pending_seconds: float | None


def reactor_counts() -> ReactorCounts:
    """Counts for a dashboard: four grouped queries and one for the oldest overdue trigger."""
    from django.utils import timezone

    dead = Trigger.objects.filter(status=TriggerStatus.DEAD).order_by().values_list("kind").annotate(total=Count("pk"))
    overdue = (
        Trigger.objects.filter(status=TriggerStatus.PENDING, due_at__lte=timezone.now())
        .order_by("due_at")
        .values_list("due_at", flat=True)
        .first()
    )
    return ReactorCounts(
        triggers=_by(Trigger.objects.all(), *TriggerStatus.values),
        followups=_by(SelfFollowupSchedule.objects.all(), *FollowupStatus.values),
        deliveries=_by(Delivery.objects.all(), *DeliveryStatus.values),
        dead_by_kind=dict(dead),
        oldest_due_pending_seconds=(timezone.now() - overdue).total_seconds() if overdue is not None else None,
    )
