"""The `time-shifted` strategy: the same channel at a similar time of day in past weeks (the moment's vibe)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from memory.choices import ContextStrategyId
from memory.context.gathering import live_items, now_of, scoped
from memory.context.items import gap, heading, hit_item, within_budget
from memory.context.types import ContextItem, ContextScope
from memory.models import ArchiveEntry
from memory.provenance import Provenance
from memory.search import SearchHit


@dataclass(frozen=True, slots=True)
class TimeShiftedStrategy:
    """For each of the last few weeks, what this channel said around this time of day."""

    weeks: int = 4
    half_window: timedelta = timedelta(minutes=45)
    per_week: int = 6
    live_size: int = 8
    budget: int = 1500
    strategy_id: ContextStrategyId = ContextStrategyId.TIME_SHIFTED
    empty_reason: str = "this channel was quiet at this time of day in the past weeks"

    def gather(self, turn: ContextScope) -> Sequence[ContextItem]:
        """Archived lines from the same channel one to `weeks` weeks ago, within the window around now."""
        now = now_of(turn)
        past: list[ContextItem] = []
        for week in range(1, self.weeks + 1):
            centre = now - timedelta(weeks=week)
            rows = scoped(ArchiveEntry.objects.all(), turn).filter(
                channel_id=turn.channel_id,
                said_at__gte=centre - self.half_window,
                said_at__lt=centre + self.half_window,
            )
            chosen = list(rows.order_by("said_at")[: self.per_week])
            if chosen:
                past.append(heading(turn, f"#{chosen[0].channel_name or turn.channel_id}, {week} week(s) ago"))
                past += [hit_item(_as_hit(row)) for row in chosen]
        if not past:
            live = live_items(turn, self.live_size)
            return within_budget([gap(turn, self.empty_reason), heading(turn, "Recent messages"), *live], self.budget)
        return within_budget([*past, heading(turn, "Recent messages"), *live_items(turn, self.live_size)], self.budget)


def _as_hit(row: ArchiveEntry) -> SearchHit:
    return SearchHit(
        layer="archive",
        row_id=row.pk,
        text=row.content,
        author=row.author_display_name,
        subject_user_id=row.subject_user_id,
        channel_id=row.channel_id,
        channel_name=row.channel_name,
        said_at=row.said_at,
        score=0.0,
        transcript_ids=(row.transcript_id,),
        provenance=Provenance(row.guild_id, row.channel_id, row.is_dm, frozenset({row.subject_user_id})),
    )
