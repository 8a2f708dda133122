"""The `cross-channel-similar` strategy: recent talk in OTHER channels on a similar topic, mixed in."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from memory.choices import ContextStrategyId
from memory.context.gathering import live_items, now_of, search_items, topic_of
from memory.context.items import gap, heading, within_budget
from memory.context.types import ContextItem, ContextScope

LAYERS = frozenset({"archive", "epoch"})


@dataclass(frozen=True, slots=True)
class CrossChannelSimilarStrategy:
    """What the rest of the guild said lately about the same thing, never from this channel."""

    k: int = 10
    recent: timedelta = timedelta(days=14)
    live_size: int = 12
    budget: int = 1500
    strategy_id: ContextStrategyId = ContextStrategyId.CROSS_CHANNEL_SIMILAR
    empty_reason: str = "no other channel talked about this topic lately"

    def gather(self, turn: ContextScope) -> Sequence[ContextItem]:
        """Search hits from other channels of the last two weeks, then this channel's live lines."""
        found = search_items(
            turn,
            topic_of(turn),
            k=self.k,
            layers=LAYERS,
            exclude_channel_ids=(turn.channel_id,),
            since=now_of(turn) - self.recent,
        )
        live = live_items(turn, self.live_size)
        if not found:
            return within_budget([gap(turn, self.empty_reason), heading(turn, "Here"), *live], self.budget)
        return within_budget([heading(turn, "Meanwhile, elsewhere"), *found, heading(turn, "Here"), *live], self.budget)
