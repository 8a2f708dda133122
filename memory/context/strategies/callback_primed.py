"""The `callback-primed` strategy: the ripe callback memory flagged for this moment, first and in full."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from memory.choices import ContextStrategyId
from memory.context.gathering import live_items, now_of, scoped, topic_of
from memory.context.items import fact_item, gap, heading, highlight_item, hit_item, within_budget
from memory.context.strategies.time_shifted import _as_hit
from memory.context.types import ContextItem, ContextScope
from memory.models import ArchiveEntry, Fact, Highlight
from memory.selectors import primed_callback


@dataclass(frozen=True, slots=True)
class CallbackPrimedStrategy:
    """The primed highlight or fact (the same one the router's callback signal saw), its context, then live."""

    live_size: int = 12
    budget: int = 1200
    strategy_id: ContextStrategyId = ContextStrategyId.CALLBACK_PRIMED
    empty_reason: str = "no highlight or fact from before matches the live topic"

    def gather(self, turn: ContextScope) -> Sequence[ContextItem]:
        """The primed row, the archived lines around where it was said, and the live window."""
        live = live_items(turn, self.live_size)
        primed = primed_callback(
            guild_id=turn.guild_id,
            channel_id=turn.channel_id,
            is_dm=turn.is_dm,
            requester_id=turn.requester_id,
            text=topic_of(turn),
            now=now_of(turn),
        )
        if primed is None:
            return within_budget([gap(turn, self.empty_reason), heading(turn, "Recent messages"), *live], self.budget)
        if primed.layer == "highlight":
            row: ContextItem = highlight_item(Highlight.objects.get(pk=primed.row_id))
        else:
            row = fact_item(Fact.objects.get(pk=primed.row_id))
        around = [
            hit_item(_as_hit(entry))
            for entry in scoped(ArchiveEntry.objects.all(), turn)
            .filter(transcript_id__in=list(primed.source_transcript_ids))
            .order_by("said_at")[:6]
        ]
        return within_budget(
            [
                heading(turn, f"Callback ready (similarity {primed.similarity:.2f})"),
                row,
                *around,
                heading(turn, "Recent messages"),
                *live,
            ],
            self.budget,
        )
