"""What the dashboard's charts are drawn from: one read per chart, each returning labels and series.

Every read aggregates in Postgres (one or two grouped queries over an indexed time column), so a chart
costs the same whether the window holds ten rows or a million.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, DateTimeField, Q, Sum
from django.db.models.functions import TruncDay, TruncHour
from django.utils import timezone

from dispositions.models import DispositionDecision
from dispositions.selectors import reception_aggregate, subagent_ignore_rates
from gateway.choices import Outcome
from gateway.models import BudgetEnvelope, UsageEvent
from reactor.choices import TriggerStatus
from reactor.models import Trigger

NO_GUILD = "(no guild)"
DEAD_LETTERS_SHOWN = 25


@dataclass(frozen=True)
class Window:
    """The time a chart covers: the last `days` days up to `until`."""

    days: int
    until: datetime

    @property
    def since(self) -> datetime:
        """The window's start."""
        return self.until - timedelta(days=self.days)


@dataclass(frozen=True)
class Series:
    """One line or bar set of a chart."""

    label: str
    data: list[float]


@dataclass(frozen=True)
class ChartData:
    """A chart as its endpoint answers it: labels on the x axis, one series per legend entry, a table."""

    labels: list[str]
    series: list[Series]
    unit: str = ""
    rows: list[dict[str, Any]] = field(default_factory=list)


def window_ending_now(days: int) -> Window:
    """The last `days` days."""
    return Window(days=days, until=timezone.now())


def _money(value: Decimal | None) -> float:
    return float(round(value or Decimal(0), 6))


def _buckets(window: Window, step: timedelta) -> list[datetime]:
    """Every bucket start in the window (UTC), so an hour or a day without decisions shows as zero."""
    first = window.since.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    if step >= timedelta(days=1):
        first = first.replace(hour=0)
    buckets = []
    bucket = first
    while bucket < window.until:
        buckets.append(bucket)
        bucket += step
    return buckets


def disposition_distribution(window: Window) -> ChartData:
    """Decisions per chosen disposition, per hour (a window of two days or less) or per day."""
    hourly = window.days <= 2
    trunc = TruncHour if hourly else TruncDay
    rows = (
        DispositionDecision.objects.filter(created_at__gte=window.since, created_at__lt=window.until)
        .annotate(bucket=trunc("created_at", output_field=DateTimeField(), tzinfo=UTC))
        .values("bucket", "chosen_slug")
        .annotate(n=Count("id"))
        .order_by("bucket", "chosen_slug")
    )
    counts: dict[str, dict[datetime, int]] = defaultdict(dict)
    for row in rows:
        counts[row["chosen_slug"]][row["bucket"]] = row["n"]
    buckets = _buckets(window, timedelta(hours=1) if hourly else timedelta(days=1))
    label_format = "%Y-%m-%d %H:00" if hourly else "%Y-%m-%d"
    return ChartData(
        labels=[bucket.strftime(label_format) for bucket in buckets],
        series=[
            Series(label=slug, data=[float(per_bucket.get(bucket, 0)) for bucket in buckets])
            for slug, per_bucket in sorted(counts.items())
        ],
        unit="decisions",
    )


def _usage_by(window: Window, key: str) -> ChartData:
    rows = (
        UsageEvent.objects.filter(created_at__gte=window.since, created_at__lt=window.until)
        .values(key)
        .annotate(
            calls=Count("id"),
            failed=Count("id", filter=~Q(outcome=Outcome.OK)),
            cost=Sum("cost_usd"),
            input_tokens=Sum("input_tokens"),
            output_tokens=Sum("output_tokens"),
        )
        .order_by("-cost", key)
    )
    table = [
        {
            key: row[key] or NO_GUILD,
            "calls": row["calls"],
            "failed": row["failed"],
            "input_tokens": row["input_tokens"] or 0,
            "output_tokens": row["output_tokens"] or 0,
            "cost_usd": _money(row["cost"]),
        }
        for row in rows
    ]
    return ChartData(
        labels=[str(row[key]) for row in table],
        series=[
            Series(label="Cost (USD)", data=[row["cost_usd"] for row in table]),
        ],
        unit="USD",
        rows=table,
    )


def usage_by_purpose(window: Window) -> ChartData:
    """Gateway calls and their cost per purpose (every attempt, failed ones included)."""
    return _usage_by(window, "purpose")


def usage_by_guild(window: Window) -> ChartData:
    """Gateway calls and their cost per guild."""
    return _usage_by(window, "guild_id")


def budget_burn(window: Window) -> ChartData:
    """Each guild's budget envelopes open during the window: allocated, spent and reserved."""
    envelopes = BudgetEnvelope.objects.filter(period_start__lt=window.until, period_end__gt=window.since).order_by(
        "guild_id", "period_start"
    )
    table: list[dict[str, Any]] = [
        {
            "guild_id": envelope.guild_id,
            "period_start": envelope.period_start.isoformat(),
            "period_end": envelope.period_end.isoformat(),
            "allocated_usd": _money(envelope.allocated_usd),
            "spent_usd": _money(envelope.spent_usd),
            "reserved_usd": _money(envelope.reserved_usd),
            "burn_percent": round(float(envelope.spent_usd / envelope.allocated_usd * 100), 1)
            if envelope.allocated_usd
            else None,
        }
        for envelope in envelopes
    ]
    labels = [f"{row['guild_id']} from {row['period_start'][:10]}" for row in table]
    return ChartData(
        labels=labels,
        series=[
            Series(label="Allocated", data=[row["allocated_usd"] for row in table]),
            Series(label="Spent", data=[row["spent_usd"] for row in table]),
            Series(label="Reserved", data=[row["reserved_usd"] for row in table]),
        ],
        unit="USD",
        rows=table,
    )


def triggers_by_status(window: Window) -> ChartData:
    """Reactor triggers created in the window, per kind, stacked by status."""
    rows = (
        Trigger.objects.filter(created_at__gte=window.since, created_at__lt=window.until)
        .values("kind", "status")
        .annotate(n=Count("id"))
        .order_by("kind", "status")
    )
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for row in rows:
        counts[row["status"]][row["kind"]] = row["n"]
    kinds = sorted({row["kind"] for row in rows})
    return ChartData(
        labels=kinds,
        series=[
            Series(label=str(status.value), data=[float(counts[status].get(kind, 0)) for kind in kinds])
            for status in TriggerStatus
            if status in counts
        ],
        unit="triggers",
    )


def dead_letters(window: Window) -> ChartData:
    """Triggers that died in the window (attempts spent), per kind, and the latest of them with their error."""
    dead = Trigger.objects.filter(status=TriggerStatus.DEAD, created_at__gte=window.since, created_at__lt=window.until)
    per_kind = list(dead.values("kind").annotate(n=Count("id")).order_by("-n", "kind"))
    latest = dead.order_by("-updated_at").values("id", "kind", "attempts", "last_error", "updated_at")[
        :DEAD_LETTERS_SHOWN
    ]
    return ChartData(
        labels=[row["kind"] for row in per_kind],
        series=[Series(label="Dead", data=[float(row["n"]) for row in per_kind])],
        unit="triggers",
        rows=[
            {
                "id": str(row["id"]),
                "kind": row["kind"],
                "attempts": row["attempts"],
                "last_error": row["last_error"][:300],
                "died_at": row["updated_at"].isoformat(),
            }
            for row in latest
        ],
    )


def subagent_use(window: Window) -> ChartData:
    """Runs per research persona, split into payloads the reply used and ones it ignored, with the ignore rate."""
    rates = subagent_ignore_rates(since=window.since, until=window.until)
    table: list[dict[str, Any]] = [
        {
            "persona": rate.persona,
            "runs": rate.runs,
            "failed": rate.failed,
            "measured": rate.measured,
            "ignored": rate.ignored,
            "ignore_rate": round(rate.ignore_rate, 3) if rate.ignore_rate is not None else None,
        }
        for rate in rates
    ]
    return ChartData(
        labels=[rate.persona for rate in rates],
        series=[
            Series(label="Used", data=[float(rate.measured - rate.ignored) for rate in rates]),
            Series(label="Ignored", data=[float(rate.ignored) for rate in rates]),
            Series(label="Failed", data=[float(rate.failed) for rate in rates]),
        ],
        unit="runs",
        rows=table,
    )


def reception_by_disposition(window: Window) -> ChartData:
    """Per disposition, the turns that sent something and how they landed: a reaction, a reply, a quote, or
    silence (a turn counts once per kind), with the engaged share in the table."""
    rows = reception_aggregate(since=window.since, until=window.until).by_disposition
    kinds = ("reaction", "reply", "quote", "silence")
    return ChartData(
        labels=[row.disposition for row in rows],
        series=[Series(label=kind, data=[float(getattr(row, kind)) for row in rows]) for kind in kinds],
        unit="turns",
        rows=[
            {
                "disposition": row.disposition,
                "spoke": row.spoke,
                **{kind: getattr(row, kind) for kind in kinds},
                "engaged": row.engaged,
                "engaged_rate": round(row.engaged_rate, 3) if row.engaged_rate is not None else None,
            }
            for row in rows
        ],
    )
