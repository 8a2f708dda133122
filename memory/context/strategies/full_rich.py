"""The `full-rich` strategy: everything (live, pinned, dossiers, lore, top archive matches, recent epochs)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from memory.choices import ContextStrategyId
from memory.context.gathering import (
    core_items,
    dossier_items,
    epoch_items,
    live_items,
    lore_items,
    people_of,
    search_items,
    topic_of,
)
from memory.context.items import heading, within_budget
from memory.context.types import ContextItem, ContextScope

LAYERS = frozenset({"archive", "highlight", "fact"})


@dataclass(frozen=True, slots=True)
class FullRichStrategy:
    """The expensive lens: every layer, each a section, trimmed to the largest budget of all."""

    size: int = 30
    k: int = 8
    budget: int = 3500
    strategy_id: ContextStrategyId = ContextStrategyId.FULL_RICH
    empty_reason: str = "memory holds nothing at all for this guild yet"

    def gather(self, turn: ContextScope) -> Sequence[ContextItem]:
        """Pinned, people, lore, archive matches, epochs, then the live window."""
        live = live_items(turn, self.size)
        people = people_of(turn, live)
        until = min((item.created_at for item in live if item.created_at), default=None)
        return within_budget(
            [
                heading(turn, "Pinned"),
                *core_items(turn, people),
                heading(turn, "People here"),
                *dossier_items(turn, people),
                heading(turn, "Group lore"),
                *lore_items(turn, 6),
                heading(turn, "From memory, on this topic"),
                *search_items(turn, topic_of(turn), k=self.k, layers=LAYERS, until=until),
                heading(turn, "Recent conversations"),
                *epoch_items(turn, 4),
                heading(turn, "Recent messages"),
                *live,
            ],
            self.budget,
        )
