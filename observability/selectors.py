"""Reads of the observability app."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from dispositions.models import DispositionDecision
from observability.dashboard.live import decision_row
from observability.models import ErrorEvent


def error_event_list() -> QuerySet[ErrorEvent]:
    """Every error kind, the latest seen first."""
    return ErrorEvent.objects.order_by("-last_seen", "-id")


def recent_decision_rows(*, limit: int) -> list[dict[str, Any]]:
    """The latest decisions as the live page shows them, newest first."""
    decisions = DispositionDecision.objects.order_by("-created_at", "-id").defer("router_inputs")[:limit]
    return [decision_row(decision) for decision in decisions]
