"""The `live+lore+dossiers` strategy: live window, lore and dossiers, no archive."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from memory.choices import ContextStrategyId
from memory.context.gathering import core_items, dossier_items, live_items, lore_items, people_of
from memory.context.items import heading, within_budget
from memory.context.types import ContextItem, ContextScope


@dataclass(frozen=True, slots=True)
class LiveLoreDossiersStrategy:
    """The conversation with everything curated about the group and its people."""

    size: int = 30
    budget: int = 2000
    strategy_id: ContextStrategyId = ContextStrategyId.LIVE_LORE_DOSSIERS
    empty_reason: str = "no recent messages, lore or dossiers"

    def gather(self, turn: ContextScope) -> Sequence[ContextItem]:
        """Pinned blocks, dossiers, lore, then the live lines."""
        live = live_items(turn, self.size)
        people = people_of(turn, live)
        return within_budget(
            [
                heading(turn, "Pinned"),
                *core_items(turn, people),
                heading(turn, "People here"),
                *dossier_items(turn, people),
                heading(turn, "Group lore"),
                *lore_items(turn),
                heading(turn, "Recent messages"),
                *live,
            ],
            self.budget,
        )
