"""What the host does when the reactor announces an event: claims go with the transcripts they are about."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bots.host.services import claims_purge
from reactor.choices import EventKind
from reactor.models import ReactorEvent
from reactor.signals import event_committed


def transcripts_purged(sender: type, *, event: ReactorEvent, **kwargs: Any) -> None:
    """Retention purged transcripts: purge the claims taken before the same moment (in batches)."""
    if event.kind != EventKind.TRANSCRIPTS_PURGED:
        return
    claims_purge(before=datetime.fromisoformat(event.payload["before"]))


def connect() -> None:
    """Connect the receivers (from HostAppConfig.ready)."""
    event_committed.connect(transcripts_purged, sender=ReactorEvent, dispatch_uid="host-transcripts-purged")
