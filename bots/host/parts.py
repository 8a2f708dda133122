"""What the stages of a bot's turns share: one object built at boot, handed to every stage.

The stages are plain functions; what they need that outlives a turn (the adapter, the database port, the
channel ledger, the bot's presence, the model client, the observers) is declared here once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from bots.adapters.base import PlatformAdapter
from bots.host.botchain import BotChainLimiter
from bots.host.config import HostConfig
from bots.host.dispatcher import OutputDispatcher
from bots.host.ledger import ChannelLedger
from bots.host.mutes import Classifier
from bots.host.observers import DecisionMade, Ended, FollowupScheduled, HostObserver
from bots.host.port import HostPort
from bots.host.presence import Presence
from bots.host.values import HostBot
from bots.turn_settings import FollowupConfig
from dispositions.synthesis import SynthesizeFn
from gateway.client import ModelClient


@dataclass(frozen=True, slots=True)
class HostParts:
    """Everything a stage may use besides the value it is given."""

    bot: HostBot
    config: HostConfig
    adapter: PlatformAdapter
    port: HostPort
    ledger: ChannelLedger
    presence: Presence
    dispatcher: OutputDispatcher
    model: ModelClient
    synthesize: SynthesizeFn
    classify_mute: Classifier | None
    limiter: BotChainLimiter | None
    observers: list[HostObserver]
    seed_source: Callable[[], int]
    followups: FollowupConfig
    # Set when the bot's row is found gone while it runs: the host stops taking turns and the runner exits.
    bot_gone: asyncio.Event

    def decision_made(self, event: DecisionMade) -> None:
        """Tell every observer a decision was recorded."""
        for observer in self.observers:
            observer.decision_made(event)

    def turn_ended(self, event: Ended) -> None:
        """Tell every observer a turn ended."""
        for observer in self.observers:
            observer.turn_ended(event)

    def followup_scheduled(self, event: FollowupScheduled) -> None:
        """Tell every observer a self-followup was scheduled."""
        for observer in self.observers:
            observer.followup_scheduled(event)
