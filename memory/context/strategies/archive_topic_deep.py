"""The `archive-topic-deep` strategy: heavy memory search on the current topic, a lighter live window."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from memory.choices import ContextStrategyId
from memory.context.gathering import live_items, search_items, topic_of
from memory.context.items import gap, heading, within_budget
from memory.context.types import ContextItem, ContextScope

LAYERS = frozenset({"archive", "highlight", "fact", "epoch"})


@dataclass(frozen=True, slots=True)
class ArchiveTopicDeepStrategy:
    """Everything memory holds on what is being talked about, with only the last few live lines."""

    k: int = 15
    live_size: int = 8
    budget: int = 2000
    strategy_id: ContextStrategyId = ContextStrategyId.ARCHIVE_TOPIC_DEEP
    empty_reason: str = "nothing in memory matches the current topic"

    def gather(self, turn: ContextScope) -> Sequence[ContextItem]:
        """Search hits on the topic (older than the live window), then the last few live lines."""
        live = live_items(turn, self.live_size)
        # Older than the live lines shown below, so the two halves of the block never repeat each other.
        until = min((item.created_at for item in live if item.created_at), default=None)
        found = search_items(
            turn, topic_of(turn), k=self.k, layers=LAYERS, until=until, token_budget=self.budget * 3 // 4
        )
        if not found:
            return within_budget([gap(turn, self.empty_reason), heading(turn, "Recent messages"), *live], self.budget)
        return within_budget(
            [heading(turn, "From memory, on this topic"), *found, heading(turn, "Recent messages"), *live], self.budget
        )
