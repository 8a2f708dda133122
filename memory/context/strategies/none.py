"""The `none` strategy: no memory at all, only the system prompt."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from memory.choices import ContextStrategyId
from memory.context.types import ContextItem, ContextScope


@dataclass(frozen=True, slots=True)
class NoneStrategy:
    """Assembles nothing: the turn is answered from the prompt alone."""

    strategy_id: ContextStrategyId = ContextStrategyId.NONE

    def gather(self, turn: ContextScope) -> Sequence[ContextItem]:
        """No items."""
        return ()
