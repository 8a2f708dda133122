"""The `epochs-only` strategy: recent epoch summaries, high-level vibe, no raw messages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from memory.choices import ContextStrategyId
from memory.context.gathering import epoch_items
from memory.context.items import heading, within_budget
from memory.context.types import ContextItem, ContextScope


@dataclass(frozen=True, slots=True)
class EpochsOnlyStrategy:
    """How the recent conversations went, summarized, and nothing verbatim."""

    limit: int = 8
    budget: int = 1200
    strategy_id: ContextStrategyId = ContextStrategyId.EPOCHS_ONLY
    empty_reason: str = "no conversation epoch has been summarized yet"

    def gather(self, turn: ContextScope) -> Sequence[ContextItem]:
        """The latest summarized epochs across the guild, newest first."""
        epochs = epoch_items(turn, self.limit)
        return (
            within_budget([heading(turn, "Recent conversations, summarized"), *epochs], self.budget) if epochs else []
        )
