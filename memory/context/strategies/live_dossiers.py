"""The `live+dossiers` strategy: the live window, then the dossiers of the people in it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from memory.choices import ContextStrategyId
from memory.context.gathering import dossier_items, live_items, people_of
from memory.context.items import heading, within_budget
from memory.context.types import ContextItem, ContextScope


@dataclass(frozen=True, slots=True)
class LiveDossiersStrategy:
    """Who is talking, and what memory knows about each of them."""

    size: int = 30
    budget: int = 1500
    strategy_id: ContextStrategyId = ContextStrategyId.LIVE_DOSSIERS
    empty_reason: str = "no recent messages and no dossier of anyone present"

    def gather(self, turn: ContextScope) -> Sequence[ContextItem]:
        """Dossiers of present people first (they must survive the budget), then the live lines."""
        live = live_items(turn, self.size)
        dossiers = dossier_items(turn, people_of(turn, live))
        return within_budget(
            [heading(turn, "People here"), *dossiers, heading(turn, "Recent messages"), *live], self.budget
        )
