"""Context assembly: run the disposition's strategy for a turn, then pass its output through the boundary.

No strategy falls back silently: every declared id has an implementation, a registry without one is a
configuration error, and a strategy with nothing to say returns an empty block marked `empty`, with its
reason, for the decision log to record.
"""

from __future__ import annotations

from types import MappingProxyType

from asgiref.sync import sync_to_async

from dit_project.errors import ConfigurationError
from memory.choices import ContextItemKind, ContextStrategyId
from memory.context.boundary import Boundary
from memory.context.registry import StrategyRegistry
from memory.context.strategies import default_registry
from memory.context.types import AssembledContext, ContextScope, empty_reason_of
from memory.embedding.tokens import count_tokens
from memory.errors import UnknownContextStrategy


def assemble_context(
    *, strategy: ContextStrategyId | str, turn: ContextScope, registry: StrategyRegistry | None = None
) -> AssembledContext:
    """Assemble the context block for a turn with the named strategy, within the boundary."""
    requested = _strategy_id(strategy)
    registry = default_registry if registry is None else registry
    chosen = registry.get(requested)
    if chosen is None:
        raise ConfigurationError(f"no implementation of the context strategy {requested.value} is registered")
    metadata: dict[str, str | int] = {"requested_strategy": requested.value}
    gathered, dropped = Boundary(turn).apply(chosen.gather(turn))
    metadata["dropped_by_boundary"] = dropped
    gaps = tuple(item.text for item in gathered if item.kind == ContextItemKind.GAP)
    items = tuple(item for item in gathered if item.kind != ContextItemKind.GAP)
    substance = [item for item in items if item.kind != ContextItemKind.HEADING]
    empty = not substance and requested != ContextStrategyId.NONE
    if empty:
        # Headings alone say nothing: the synthesizer gets no block, the decision gets the reason.
        items = ()
    text = "\n".join(item.text for item in items)
    return AssembledContext(
        items=items,
        text=text,
        strategy_used=ContextStrategyId(chosen.strategy_id),
        metadata=MappingProxyType(metadata),
        empty=empty,
        empty_reason=("; ".join(gaps) or empty_reason_of(chosen)) if empty else "",
        tokens=count_tokens(text),
        gaps=gaps,
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
