"""The live decision feed: a decision a host writes reaches every open live page over Channels.

The host's turn path must not get slower for it. The receivers run on the writer's thread right after its
statement: they only queue the row the writer already holds (no query, no Redis call), after commit. One
daemon thread per process builds each message and sends it to the channel layer's group. A full queue drops
the message with a warning: the page is a view, the decision itself is in Postgres.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from functools import partial
from typing import Any

from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_save

from dispositions.models import DispositionDecision
from dispositions.signals import decision_finished, decision_recorded

logger = logging.getLogger(__name__)

# The consumer's handler for a group message of this type is `decision_update`.
MESSAGE_TYPE = "decision.update"
TOP_SCORES = 3
QUEUE_SIZE = 1000


def live_group() -> str:
    """The Channels group of the live pages (settings.DASHBOARD_LIVE_GROUP)."""
    return str(settings.DASHBOARD_LIVE_GROUP)


def top_scores(candidate_scores: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The best-scoring candidates, highest first, with their probability."""
    ranked = sorted(candidate_scores, key=lambda row: row.get("score", 0.0), reverse=True)
    return [
        {
            "slug": row.get("slug", ""),
            "score": round(float(row.get("score", 0.0)), 3),
            "probability": round(float(row.get("probability", 0.0)), 3),
        }
        for row in ranked[:TOP_SCORES]
    ]


def outcome_fields(decision: DispositionDecision) -> dict[str, Any]:
    """What the host fills in once the turn is over."""
    return {
        "id": decision.pk,
        "beat_count": decision.beat_count,
        "latency_ms": round(decision.latency_ms, 1) if decision.latency_ms is not None else None,
        "cost_usd": str(decision.cost_usd),
        "model_used": decision.model_used,
        "finished": decision.latency_ms is not None,
    }


def decision_row(decision: DispositionDecision) -> dict[str, Any]:
    """One decision as the live page shows it (the initial list and a recorded decision alike)."""
    return {
        **outcome_fields(decision),
        "created_at": decision.created_at.isoformat(),
        "guild_id": decision.guild_id,
        "channel_id": decision.channel_id,
        "bot_id": decision.bot_id,
        "trigger_kind": decision.trigger_kind,
        "trigger_id": str(decision.trigger_id) if decision.trigger_id else None,
        "chosen_slug": decision.chosen_slug,
        "top_scores": top_scores(list(decision.candidate_scores or [])),
        "router_latency_ms": round(decision.router_latency_ms, 1),
    }


class Publisher:
    """Sends queued decisions to the live group from one thread of its own, started on first use."""

    def __init__(self, maxsize: int = QUEUE_SIZE) -> None:
        self._queue: queue.Queue[tuple[str, DispositionDecision]] = queue.Queue(maxsize=maxsize)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, kind: str, decision: DispositionDecision) -> None:
        """Queue one decision (`recorded` or `finished`) without waiting."""
        if self._thread is None:
            self._start()
        try:
            self._queue.put_nowait((kind, decision))
        except queue.Full:
            logger.warning("live dashboard: queue full, decision %s not shown live", decision.pk)

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="dashboard-live", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        # One event loop for the thread's life: the channel layer keeps its Redis connections per loop.
        loop = asyncio.new_event_loop()
        layer = get_channel_layer()
        while True:
            kind, decision = self._queue.get()
            row = decision_row(decision) if kind == "recorded" else outcome_fields(decision)
            message = {"type": MESSAGE_TYPE, "kind": kind, "decision": row}
            try:
                if layer is not None:
                    loop.run_until_complete(layer.group_send(live_group(), message))
            except Exception as error:  # noqa: BLE001 - Redis down: the decision is in Postgres, the page misses it
                logger.warning("live dashboard: decision %s not sent: %s", decision.pk, error)


PUBLISHER = Publisher()


def _on_decision(kind: str, decision: DispositionDecision) -> None:
    transaction.on_commit(partial(PUBLISHER.submit, kind, decision))


def decision_was_recorded(sender: Any, decision: DispositionDecision, **kwargs: Any) -> None:
    """A host wrote a decision: show it on the live pages once committed."""
    _on_decision("recorded", decision)


def decision_was_finished(sender: Any, decision: DispositionDecision, **kwargs: Any) -> None:
    """A host wrote a turn's outcome: update its row on the live pages once committed."""
    _on_decision("finished", decision)


def decision_was_saved(sender: Any, instance: DispositionDecision, created: bool, **kwargs: Any) -> None:
    """A decision written through the ORM (`dispositions.services.record_decision`): shown like the host's."""
    if created:
        _on_decision("recorded", instance)


def connect() -> None:
    """Connect the receivers (from the app's `ready`)."""
    post_save.connect(decision_was_saved, sender=DispositionDecision, dispatch_uid="observability.live.saved")
    decision_recorded.connect(decision_was_recorded, dispatch_uid="observability.live.recorded")
    decision_finished.connect(decision_was_finished, dispatch_uid="observability.live.finished")
