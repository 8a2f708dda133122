"""The dashboard's pages, declared once: each chart page is a title and its charts, each chart one read.

A chart here is also its endpoint: `/api/dashboard/<chart slug>/` answers the read's ChartData for a window
(`?days=`), and the page draws the chart from exactly that endpoint. Adding a page is one entry in `PAGES`
with a read in `charts.py`; the endpoint, its schema, the page's URL and its place in the menu follow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from observability.dashboard import charts
from observability.dashboard.charts import ChartData, Window


@dataclass(frozen=True)
class Chart:
    """One chart: where it is served, how it is drawn, what it reads."""

    slug: str
    title: str
    summary: str
    read: Callable[[Window], ChartData]
    kind: str = "bar"
    stacked: bool = False


@dataclass(frozen=True)
class Page:
    """One dashboard page of charts, at /dashboard/<slug>/."""

    slug: str
    title: str
    summary: str
    charts: tuple[Chart, ...]


PAGES: tuple[Page, ...] = (
    Page(
        slug="dispositions",
        title="Dispositions over time",
        summary="How often each disposition was chosen.",
        charts=(
            Chart(
                slug="dispositions",
                title="Decisions per disposition",
                summary="Decisions per chosen disposition, per hour (two days or less) or per day.",
                read=charts.disposition_distribution,
                stacked=True,
            ),
        ),
    ),
    Page(
        slug="usage",
        title="Model usage and cost",
        summary="Every gateway call attempt and its cost, per purpose and per guild.",
        charts=(
            Chart(
                slug="usage-by-purpose",
                title="Cost per purpose",
                summary="Gateway calls, tokens and cost per purpose.",
                read=charts.usage_by_purpose,
            ),
            Chart(
                slug="usage-by-guild",
                title="Cost per guild",
                summary="Gateway calls, tokens and cost per guild.",
                read=charts.usage_by_guild,
            ),
        ),
    ),
    Page(
        slug="budget",
        title="Budget burn",
        summary="What each guild has spent and holds reserved against its envelope.",
        charts=(
            Chart(
                slug="budget",
                title="Envelopes",
                summary="Budget envelopes open during the window: allocated, spent, reserved.",
                read=charts.budget_burn,
            ),
        ),
    ),
    Page(
        slug="reception",
        title="Reception",
        summary="How each disposition's turns landed: reactions, replies, later quotes, or silence after them.",
        charts=(
            Chart(
                slug="reception",
                title="Reception per disposition",
                summary="Turns that sent something, per disposition, by what came back (a turn counts once per kind).",
                read=charts.reception_by_disposition,
            ),
        ),
    ),
    Page(
        slug="subagents",
        title="Research subagents",
        summary="How often each research persona ran, and how much of what it found the reply used.",
        charts=(
            Chart(
                slug="subagents",
                title="Runs per research persona",
                summary="Runs in the window: payloads the reply used, ignored (the ignore rate), and failed runs.",
                read=charts.subagent_use,
                stacked=True,
            ),
        ),
    ),
    Page(
        slug="triggers",
        title="Reactor triggers",
        summary="Triggers by status, and the dead letters waiting for a requeue.",
        charts=(
            Chart(
                slug="triggers",
                title="Triggers by status",
                summary="Reactor triggers created in the window, per kind, stacked by status.",
                read=charts.triggers_by_status,
                stacked=True,
            ),
            Chart(
                slug="dead-letters",
                title="Dead letters",
                summary="Triggers that died (attempts spent), per kind, with the latest and their errors.",
                read=charts.dead_letters,
            ),
        ),
    ),
)

CHARTS: dict[str, Chart] = {chart.slug: chart for page in PAGES for chart in page.charts}
PAGES_BY_SLUG: dict[str, Page] = {page.slug: page for page in PAGES}
