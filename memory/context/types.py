"""Values that cross into and out of context assembly: the turn, items with provenance, the result."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from memory.choices import ContextItemKind, ContextStrategyId
from memory.errors import InvalidTurnScope


@dataclass(frozen=True, slots=True)
class TurnScope:
    """Where a turn happens and for whom: all a strategy may know about the turn it assembles for."""

    guild_id: str
    channel_id: str
    is_dm: bool
    requester_id: str
    present_user_ids: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if self.is_dm and self.guild_id:
            raise InvalidTurnScope("a DM turn has no guild_id; got one", field="guild_id")
        if not self.is_dm and not self.guild_id:
            raise InvalidTurnScope("guild_id is required unless is_dm is true", field="guild_id")
        if not self.channel_id:
            raise InvalidTurnScope("channel_id is required", field="channel_id")
        if not self.requester_id:
            raise InvalidTurnScope("requester_id is required: the user the turn answers", field="requester_id")


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a piece of context came from: the boundary decides on this alone.

    `is_dm` is true when the material is drawn, wholly or partly, from direct messages; `subject_user_ids`
    are the people the material is by or about.
    """

    guild_id: str
    channel_id: str
    is_dm: bool
    subject_user_ids: frozenset[str]


@dataclass(frozen=True, slots=True)
class ContextItem:
    """One rendered piece of context (a message line, later a dossier or highlight) and its provenance."""

    kind: ContextItemKind
    text: str
    provenance: Provenance
    source: str
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AssembledContext:
    """The context block handed to the synthesizer, and how it was assembled."""

    items: tuple[ContextItem, ...]
    text: str
    strategy_used: ContextStrategyId
    fallback: bool
    metadata: Mapping[str, str | int]


class ContextStrategy(Protocol):
    """A lens on memory: gathers context items for a turn. Its output always passes the Boundary."""

    @property
    def strategy_id(self) -> ContextStrategyId:
        """The declared id this strategy implements."""
        ...

    def gather(self, turn: TurnScope) -> Sequence[ContextItem]:
        """Collect the items this lens shows for the turn."""
        ...
