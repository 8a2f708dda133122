"""Turn observers: whoever wants to watch turns as they happen (the local chat prints them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class ScoredOption:
    """One candidate of a decision, as shown to a person."""

    slug: str
    score: float
    probability: float


@dataclass(frozen=True, slots=True)
class DecisionMade:
    """The router chose a disposition for a turn."""

    decision_id: int
    channel_id: str
    channel_name: str
    chosen_slug: str
    output_shape: str
    address_kind: str
    top: tuple[ScoredOption, ...]
    gates: tuple[str, ...]
    # What started the turn (dispositions.choices.TriggerKind) and, for a self-followup, the decision it
    # comes back to.
    trigger: str = "reactive"
    previous_decision_id: int | None = None


@dataclass(frozen=True, slots=True)
class Ended:
    """A turn finished; `end` is one of Ending."""

    decision_id: int | None
    channel_id: str
    end: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class FollowupScheduled:
    """A turn's follow-up hint landed: the bot will consider coming back to it after `delay_seconds`."""

    decision_id: int
    channel_id: str
    channel_name: str
    bias: str
    delay_seconds: float


class HostObserver(Protocol):
    """Called by the host on the event loop; must not block."""

    def decision_made(self, event: DecisionMade) -> None:
        """A decision was recorded."""

    def turn_ended(self, event: Ended) -> None:
        """A turn ended (spoke, reacted, stayed silent, dropped as stale, failed)."""

    def followup_scheduled(self, event: FollowupScheduled) -> None:
        """A self-followup of a turn was scheduled."""
