"""The `serendipity` strategy: a random sample of the archive and highlights, for surprise."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Max, Min

from memory.choices import ContextStrategyId
from memory.context.gathering import live_items, now_of, scoped
from memory.context.items import gap, heading, highlight_item, hit_item, within_budget
from memory.context.strategies.time_shifted import _as_hit
from memory.context.types import ContextItem, ContextScope
from memory.models import ArchiveEntry, Highlight


@dataclass(frozen=True, slots=True)
class SerendipityStrategy:
    """A few lines from anywhere in the guild's past (seeded by the turn), and one highlight."""

    samples: int = 5
    min_age: timedelta = timedelta(days=2)
    live_size: int = 6
    budget: int = 1000
    strategy_id: ContextStrategyId = ContextStrategyId.SERENDIPITY
    empty_reason: str = "the archive holds nothing older than two days"

    def gather(self, turn: ContextScope) -> Sequence[ContextItem]:
        """Random moments by index seeks (no table scan): a random time, the first message after it."""
        rng = random.Random(turn.seed)  # noqa: S311 - variety, not security
        cutoff = now_of(turn) - self.min_age
        rows = scoped(ArchiveEntry.objects.all(), turn).filter(said_at__lt=cutoff)
        span = rows.aggregate(first=Min("said_at"), last=Max("said_at"))
        picked: list[ContextItem] = []
        seen: set[int] = set()
        if span["first"] is not None:
            width = (span["last"] - span["first"]).total_seconds()
            for _ in range(self.samples):
                moment = span["first"] + timedelta(seconds=rng.uniform(0, width))
                row = rows.filter(said_at__gte=moment).order_by("said_at").first()
                if row is not None and row.pk not in seen:
                    seen.add(row.pk)
                    picked.append(hit_item(_as_hit(row)))
        highlights = scoped(Highlight.objects.all(), turn).filter(said_at__lt=cutoff)
        count = highlights.count()
        if count:
            picked.append(highlight_item(highlights.order_by("pk")[rng.randrange(count)]))
        if not picked:
            live = live_items(turn, self.live_size)
            return within_budget([gap(turn, self.empty_reason), heading(turn, "Now"), *live], self.budget)
        return within_budget(
            [heading(turn, "Something from before"), *picked, heading(turn, "Now"), *live_items(turn, self.live_size)],
            self.budget,
        )
