"""Context assembly: run the disposition's strategy for a turn, then pass its output through the boundary."""

from __future__ import annotations

from types import MappingProxyType

from asgiref.sync import sync_to_async

from dit_project.errors import ConfigurationError
from memory.choices import ContextStrategyId
from memory.context.boundary import Boundary
from memory.context.registry import StrategyRegistry
from memory.context.strategies import default_registry
from memory.context.types import AssembledContext, ContextScope
from memory.errors import UnknownContextStrategy

# What an id without an implementation yet is assembled with.
FALLBACK_STRATEGY = ContextStrategyId.LIVE


def assemble_context(
    *, strategy: ContextStrategyId | str, turn: ContextScope, registry: StrategyRegistry | None = None
) -> AssembledContext:
    """Assemble the context block for a turn with the named strategy (falling back to `live`), within the boundary."""
    requested = _strategy_id(strategy)
    registry = default_registry if registry is None else registry
    metadata: dict[str, str | int] = {"requested_strategy": requested.value}
    chosen = registry.get(requested)
    fallback = chosen is None
    if chosen is None:
        chosen = registry.get(FALLBACK_STRATEGY)
        if chosen is None:
            raise ConfigurationError(f"no implementation of the fallback context strategy {FALLBACK_STRATEGY}")
        metadata["fallback_reason"] = (
            f"context strategy {requested.value} is not implemented yet; assembled with {FALLBACK_STRATEGY.value}"
        )
    items, dropped = Boundary(turn).apply(chosen.gather(turn))
    metadata["dropped_by_boundary"] = dropped
    return AssembledContext(
        items=items,
        text="\n".join(item.text for item in items),
        strategy_used=ContextStrategyId(chosen.strategy_id),
        fallback=fallback,
        metadata=MappingProxyType(metadata),
    )


async def aassemble_context(
    *, strategy: ContextStrategyId | str, turn: ContextScope, registry: StrategyRegistry | None = None
) -> AssembledContext:
    """Async form of assemble_context for the host's event loop; the database work runs off the loop."""
    return await sync_to_async(assemble_context)(strategy=strategy, turn=turn, registry=registry)


def _strategy_id(strategy: ContextStrategyId | str) -> ContextStrategyId:
    try:
        return ContextStrategyId(strategy)
    except ValueError:
        known = ", ".join(ContextStrategyId.values)
        raise UnknownContextStrategy(
            f"unknown context strategy {strategy!r}; known strategies: {known}", strategy=str(strategy)
        ) from None
