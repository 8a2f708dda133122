"""The `live` strategy: the guild-wide live window, channel-tagged, the current channel weighted."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from memory.choices import ContextStrategyId
from memory.context.messages import message_item
from memory.context.types import ContextItem, ContextScope
from memory.live import DEFAULT_CURRENT_CHANNEL_SHARE, DEFAULT_LIVE_SIZE, live_window


@dataclass(frozen=True, slots=True)
class LiveStrategy:
    """Recent messages across the guild (or the DM channel alone, in a DM)."""

    size: int = DEFAULT_LIVE_SIZE
    current_channel_share: float = DEFAULT_CURRENT_CHANNEL_SHARE
    strategy_id: ContextStrategyId = ContextStrategyId.LIVE

    def gather(self, turn: ContextScope) -> Sequence[ContextItem]:
        """One line per message of the live window, oldest first."""
        if turn.recent is not None and self.size <= DEFAULT_LIVE_SIZE:
            window = turn.recent.window(size=self.size, current_channel_share=self.current_channel_share)
            return [message_item(message) for message in window]
        window = live_window(
            turn.guild_id,
            current_channel_id=turn.channel_id,
            size=self.size,
            current_channel_share=self.current_channel_share,
        )
        return [message_item(message) for message in window]
