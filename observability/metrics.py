"""Prometheus metrics, read from Postgres when `/metrics` is scraped.

Every number here is already a row in the database: decisions (with how each turn ended), the gateway's
usage events, the reactor's triggers, the errors. So the web process answers for the whole deployment
(every bot process and worker) with a handful of grouped queries per scrape, and nothing needs
prometheus_client's multiprocess mode or a port per process. Counts of rows are exposed as counters: they
only fall when retention deletes rows, which Prometheus reads as a counter reset.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from datetime import timedelta

from django.conf import settings
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Max, Min, Q, Sum, TextField, Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils import timezone
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from dispositions.models import DispositionDecision
from gateway.models import UsageEvent
from observability.models import ErrorEvent
from reactor.choices import TriggerStatus
from reactor.models import Trigger

# Statuses whose rows wait or run: the queue. Done and cancelled rows only grow, and are not a queue.
QUEUE_STATUSES = (TriggerStatus.PENDING, TriggerStatus.ENQUEUED, TriggerStatus.RUNNING, TriggerStatus.DEAD)
# How far back "recent" trigger starts reach for their lateness.
LATENESS_WINDOW = timedelta(minutes=5)
UNFINISHED = "unfinished"


class DatabaseCollector(Collector):
    """Turns, decisions, gateway calls and cost, the reactor's queue and lateness, and errors, from Postgres."""

    def collect(self) -> Iterator[Metric]:
        """One scrape: five grouped queries."""
        yield from self._decisions()
        yield from self._gateway()
        yield from self._reactor()
        yield from self._errors()

    def _decisions(self) -> Iterator[Metric]:
        turns = CounterMetricFamily("dit_turns", "Turns that reached the router, by how they ended.", labels=["ending"])
        chosen = CounterMetricFamily(
            "dit_decisions", "Router decisions, by the disposition chosen.", labels=["disposition"]
        )
        rows = (
            DispositionDecision.objects.order_by()
            .annotate(ending=Coalesce(KeyTextTransform("end", "outcome"), Value(UNFINISHED), output_field=TextField()))
            .values_list("ending", "chosen_slug")
            .annotate(n=Count("id"))
        )
        by_ending: dict[str, int] = {}
        by_slug: dict[str, int] = {}
        for ending, slug, n in rows:
            by_ending[ending] = by_ending.get(ending, 0) + n
            by_slug[slug] = by_slug.get(slug, 0) + n
        for ending, n in sorted(by_ending.items()):
            turns.add_metric([ending], n)
        for slug, n in sorted(by_slug.items()):
            chosen.add_metric([slug], n)
        yield turns
        yield chosen

    def _gateway(self) -> Iterator[Metric]:
        calls = CounterMetricFamily(
            "dit_gateway_calls", "Model call attempts, by purpose and outcome.", labels=["purpose", "outcome"]
        )
        cost = CounterMetricFamily("dit_gateway_cost_usd", "Model spend in USD, by purpose.", labels=["purpose"])
        rows = (
            UsageEvent.objects.order_by().values_list("purpose", "outcome").annotate(n=Count("id"), c=Sum("cost_usd"))
        )
        spent: dict[str, float] = {}
        for purpose, outcome, n, c in rows:
            calls.add_metric([purpose, outcome], n)
            spent[purpose] = spent.get(purpose, 0.0) + float(c or 0)
        for purpose, usd in sorted(spent.items()):
            cost.add_metric([purpose], usd)
        yield calls
        yield cost

    def _reactor(self) -> Iterator[Metric]:
        now = timezone.now()
        depth = GaugeMetricFamily(
            "dit_reactor_triggers", "Reactor triggers waiting, running or dead.", labels=["status"]
        )
        overdue = GaugeMetricFamily(
            "dit_reactor_overdue_seconds",
            "How long the oldest due trigger of each waiting status has been due (0: none due).",
            labels=["status"],
        )
        rows = {
            status: (n, oldest)
            for status, n, oldest in Trigger.objects.order_by()
            .filter(status__in=QUEUE_STATUSES)
            .values_list("status")
            .annotate(n=Count("id"), oldest=Min("due_at", filter=Q(due_at__lte=now)))
        }
        for status in QUEUE_STATUSES:
            n, oldest = rows.get(status, (0, None))
            depth.add_metric([status], n)
            if status in (TriggerStatus.PENDING, TriggerStatus.ENQUEUED):
                overdue.add_metric([status], (now - oldest).total_seconds() if oldest is not None else 0.0)
        lateness = ExpressionWrapper(F("started_at") - F("due_at"), output_field=DurationField())
        recent = Trigger.objects.filter(started_at__gte=now - LATENESS_WINDOW, due_at__isnull=False).aggregate(
            mean=Avg(lateness), worst=Max(lateness)
        )
        started = GaugeMetricFamily(
            "dit_reactor_start_lateness_seconds",
            f"Start after due time of triggers started in the last {int(LATENESS_WINDOW.total_seconds())} s.",
            labels=["stat"],
        )
        for stat, key in (("mean", "mean"), ("max", "worst")):
            value = recent[key]
            started.add_metric([stat], max(0.0, value.total_seconds()) if value is not None else 0.0)
        yield depth
        yield overdue
        yield started

    def _errors(self) -> Iterator[Metric]:
        errors = CounterMetricFamily(
            "dit_errors", "Captured errors (occurrences), by where they happened.", labels=["source"]
        )
        for source, n in ErrorEvent.objects.order_by().values_list("source").annotate(n=Sum("count")):
            errors.add_metric([source], n)
        yield errors


def metrics_text() -> bytes:
    """The metrics in Prometheus's text format."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector())
    return generate_latest(registry)


def scraper_allowed(request: HttpRequest) -> bool:
    """Whether the request may read the metrics: a staff session, or the bearer DIT_METRICS_TOKEN."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_staff:
        return True
    token = settings.DIT_METRICS_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token)
