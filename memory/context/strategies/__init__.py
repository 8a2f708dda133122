"""Implemented context strategies, one module each; `default_registry` holds them all.

Adding a strategy: a module here with a class satisfying `ContextStrategy`, and one entry below.
"""

from __future__ import annotations

from memory.context.registry import StrategyRegistry
from memory.context.strategies.live import LiveStrategy
from memory.context.strategies.narrow_live import NarrowLiveStrategy
from memory.context.strategies.none import NoneStrategy

__all__ = ["LiveStrategy", "NarrowLiveStrategy", "NoneStrategy", "default_registry"]

default_registry = StrategyRegistry((NoneStrategy(), NarrowLiveStrategy(), LiveStrategy()))
