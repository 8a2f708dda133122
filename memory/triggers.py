"""Memory's reactor triggers: transcript retention, a bounded batch per run.

The retention timer follows the data, not a clock grid: it is due when the oldest transcript reaches
DIT_TRANSCRIPT_RETENTION_DAYS, purges one batch, and is due again at once while older ones remain, else
when the next oldest comes of age. The dispatcher's start arms it (a changed retention setting takes
effect when the processes restart with it). Epoch close will be declared here when epochs land:

    @trigger("memory.epoch_close", after(silence=epoch_gap, on=EventKind.MESSAGE_INGESTED, key=per_channel))

and dossier consolidation as a when() predicate on the highlight events, keyed per member.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from memory.models import Transcript
from memory.services import purge_transcripts_batch
from reactor.declare import Next, Outcome, TriggerRun, arming, trigger
from reactor.services import EARLIEST, schedule

RETENTION_TRIGGER = "memory.retention"
RETENTION_KEY = f"{RETENTION_TRIGGER}:*"


def retention_period() -> timedelta | None:
    """How long transcripts are kept; None keeps them forever."""
    days = float(settings.DIT_TRANSCRIPT_RETENTION_DAYS)
    return timedelta(days=days) if days > 0 else None


def _next_purge(period: timedelta, now: datetime) -> datetime:
    oldest = Transcript.objects.order_by("created_at").values_list("created_at", flat=True).first()
    return max(now, oldest + period) if oldest is not None else now + period


@trigger(RETENTION_TRIGGER)
def purge_old_transcripts(run: TriggerRun) -> Outcome:
    """Purge one batch of transcripts past retention; come back at once for more, else when the next is due."""
    period = retention_period()
    if period is None:
        return Outcome(result={"retention": "off"})
    now = timezone.now()
    batch = purge_transcripts_batch(before=now - period, limit=int(settings.DIT_RETENTION_BATCH_SIZE))
    due = now if batch.more else _next_purge(period, now)
    return Outcome(result={"purged": batch.purged, "more": batch.more}, then=Next(due_at=due))


@arming
def arm_retention() -> None:
    """With retention on, the retention timer exists, due when the oldest transcript comes of age."""
    period = retention_period()
    if period is None:
        return
    schedule(
        RETENTION_TRIGGER, due_at=_next_purge(period, timezone.now()), dedupe_key=RETENTION_KEY, on_conflict=EARLIEST
    )
