"""Implemented context strategies, one module each; `default_registry` holds all seventeen.

Adding a strategy: a module here with a class satisfying `ContextStrategy`, and one entry below.
"""

from __future__ import annotations

from memory.context.registry import StrategyRegistry
from memory.context.strategies.archive_person_deep import ArchivePersonDeepStrategy
from memory.context.strategies.archive_topic_deep import ArchiveTopicDeepStrategy
from memory.context.strategies.bot_history import BotHistoryStrategy
from memory.context.strategies.callback_primed import CallbackPrimedStrategy
from memory.context.strategies.contrasting import ContrastingStrategy
from memory.context.strategies.cross_channel_similar import CrossChannelSimilarStrategy
from memory.context.strategies.epochs_only import EpochsOnlyStrategy
from memory.context.strategies.full_rich import FullRichStrategy
from memory.context.strategies.live import LiveStrategy
from memory.context.strategies.live_dossiers import LiveDossiersStrategy
from memory.context.strategies.live_lore import LiveLoreStrategy
from memory.context.strategies.live_lore_dossiers import LiveLoreDossiersStrategy
from memory.context.strategies.narrow_live import NarrowLiveStrategy
from memory.context.strategies.none import NoneStrategy
from memory.context.strategies.serendipity import SerendipityStrategy
from memory.context.strategies.time_shifted import TimeShiftedStrategy
from memory.context.strategies.unanswered import UnansweredStrategy

__all__ = [
    "ArchivePersonDeepStrategy",
    "ArchiveTopicDeepStrategy",
    "BotHistoryStrategy",
    "CallbackPrimedStrategy",
    "ContrastingStrategy",
    "CrossChannelSimilarStrategy",
    "EpochsOnlyStrategy",
    "FullRichStrategy",
    "LiveDossiersStrategy",
    "LiveLoreDossiersStrategy",
    "LiveLoreStrategy",
    "LiveStrategy",
    "NarrowLiveStrategy",
    "NoneStrategy",
    "SerendipityStrategy",
    "TimeShiftedStrategy",
    "UnansweredStrategy",
    "default_registry",
]

default_registry = StrategyRegistry(
    (
        NoneStrategy(),
        NarrowLiveStrategy(),
        LiveStrategy(),
        LiveDossiersStrategy(),
        LiveLoreStrategy(),
        LiveLoreDossiersStrategy(),
        ArchiveTopicDeepStrategy(),
        ArchivePersonDeepStrategy(),
        EpochsOnlyStrategy(),
        TimeShiftedStrategy(),
        CrossChannelSimilarStrategy(),
        ContrastingStrategy(),
        SerendipityStrategy(),
        UnansweredStrategy(),
        BotHistoryStrategy(),
        CallbackPrimedStrategy(),
        FullRichStrategy(),
    )
)
