"""The registry of implemented context strategies, keyed by the declared strategy ids."""

from __future__ import annotations

from collections.abc import Iterable

from memory.choices import ContextStrategyId
from memory.context.types import ContextStrategy


class StrategyRegistry:
    """Implemented strategies by id; ids without an implementation are simply absent."""

    def __init__(self, strategies: Iterable[ContextStrategy] = ()) -> None:
        self._by_id: dict[ContextStrategyId, ContextStrategy] = {}
        for strategy in strategies:
            self.register(strategy)

    def register(self, strategy: ContextStrategy) -> None:
        """Add a strategy under its declared id; an id registers once."""
        strategy_id = ContextStrategyId(strategy.strategy_id)
        if strategy_id in self._by_id:
            raise ValueError(f"context strategy {strategy_id} is already registered")
        self._by_id[strategy_id] = strategy

    def get(self, strategy_id: ContextStrategyId) -> ContextStrategy | None:
        """The strategy registered under the id, or None when it is not implemented."""
        return self._by_id.get(strategy_id)

    def implemented(self) -> frozenset[ContextStrategyId]:
        """The ids that have an implementation."""
        return frozenset(self._by_id)
