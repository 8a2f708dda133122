"""Running a trigger in the test process exactly as a worker would (claim, checks, effect, done)."""

from __future__ import annotations

import uuid

from reactor.choices import TriggerStatus
from reactor.execution import RunReport, run_trigger
from reactor.models import Trigger


def run_inline(trigger_id: uuid.UUID) -> RunReport:
    """Mark a trigger enqueued (as the dispatcher does) and run it here; returns how the run ended."""
    Trigger.objects.filter(pk=trigger_id).update(status=TriggerStatus.ENQUEUED)
    return run_trigger(trigger_id)


def waiting(kind: str, **filters: object) -> Trigger:
    """The one waiting trigger of a kind (matching `filters`)."""
    return Trigger.objects.get(kind=kind, status__in=(TriggerStatus.PENDING, TriggerStatus.ENQUEUED), **filters)
