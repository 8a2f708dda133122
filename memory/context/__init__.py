"""Context assembly: strategies (lenses on memory), their registry, and the privacy boundary."""

from __future__ import annotations

from memory.context.types import AssembledContext, ContextItem, ContextStrategy, Provenance, ContextScope  # isort: skip
from memory.context.assembler import aassemble_context, assemble_context
from memory.context.boundary import Boundary
from memory.context.registry import StrategyRegistry
from memory.context.strategies import default_registry

__all__ = [
    "AssembledContext",
    "Boundary",
    "ContextItem",
    "ContextStrategy",
    "Provenance",
    "StrategyRegistry",
    "ContextScope",
    "aassemble_context",
    "assemble_context",
    "default_registry",
]
