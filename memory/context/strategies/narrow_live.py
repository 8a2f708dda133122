"""The `narrow-live` strategy: the last few messages of the current channel, for quick reactions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from memory.choices import ContextStrategyId
from memory.context.messages import message_item
from memory.context.types import ContextItem, ContextScope
from memory.live import DEFAULT_NARROW_SIZE, narrow_live


@dataclass(frozen=True, slots=True)
class NarrowLiveStrategy:
    """The current channel's last `size` messages, oldest first."""

    size: int = DEFAULT_NARROW_SIZE
    strategy_id: ContextStrategyId = ContextStrategyId.NARROW_LIVE

    def gather(self, turn: ContextScope) -> Sequence[ContextItem]:
        """One line per recent message of the turn's channel."""
        if turn.recent is not None and turn.recent.covers(self.size):
            return [message_item(message) for message in turn.recent.last(self.size)]
        return [message_item(message) for message in narrow_live(turn.channel_id, n=self.size)]
