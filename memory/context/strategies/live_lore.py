"""The `live+lore` strategy: the live window, with the group's lore and pinned blocks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from memory.choices import ContextStrategyId
from memory.context.gathering import core_items, live_items, lore_items
from memory.context.items import heading, within_budget
from memory.context.types import ContextItem, ContextScope


@dataclass(frozen=True, slots=True)
class LiveLoreStrategy:
    """The conversation, and the running jokes, rivalries and vocabulary of the group."""

    size: int = 30
    budget: int = 1500
    strategy_id: ContextStrategyId = ContextStrategyId.LIVE_LORE
    empty_reason: str = "no recent messages and no group lore yet"

    def gather(self, turn: ContextScope) -> Sequence[ContextItem]:
        """Pinned guild and channel blocks and lore first, then the live lines."""
        live = live_items(turn, self.size)
        lore = [*core_items(turn), *lore_items(turn)]
        return within_budget([heading(turn, "Group lore"), *lore, heading(turn, "Recent messages"), *live], self.budget)
