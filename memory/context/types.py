"""Values that cross into and out of context assembly: the turn, items with provenance, the result."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from memory.choices import ContextItemKind, ContextStrategyId
from memory.errors import InvalidContextScope
from memory.live import RecentActivity
from memory.provenance import Provenance

__all__ = ["AssembledContext", "ContextItem", "ContextScope", "ContextStrategy", "Provenance", "empty_reason_of"]


@dataclass(frozen=True, slots=True)
class ContextScope:
    """Where a turn happens and for whom: all a strategy may know about the turn it assembles for."""

    guild_id: str
    channel_id: str
    is_dm: bool
    requester_id: str
    present_user_ids: frozenset[str] = field(default_factory=frozenset)
    # What the turn is about (the message being answered, or the channel's current topic); strategies that
    # search memory use it, and fall back to the channel's recent words when it is empty.
    topic: str = ""
    # The one person archive-person-deep digs into; the requester when empty.
    focus_user_id: str = ""
    # The moment of the turn (tests and replays pin it); now when None.
    now: datetime | None = None
    # Seeds serendipity's sample, so a replayed decision assembles the same context.
    seed: int = 0
    # The transcript the turn already read (its channel's and the guild's latest messages), when it did:
    # strategies on the live window use it instead of reading the same rows again.
    recent: RecentActivity | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.recent is not None and (self.recent.channel_id, self.recent.guild_id) != (
            self.channel_id,
            self.guild_id,
        ):
            raise InvalidContextScope("recent activity was read for another channel", field="recent")
        if self.is_dm and self.guild_id:
            raise InvalidContextScope("a DM turn has no guild_id; got one", field="guild_id")
        if not self.is_dm and not self.guild_id:
            raise InvalidContextScope("guild_id is required unless is_dm is true", field="guild_id")
        if not self.channel_id:
            raise InvalidContextScope("channel_id is required", field="channel_id")
        if not self.requester_id:
            raise InvalidContextScope("requester_id is required: the user the turn answers", field="requester_id")


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
    metadata: Mapping[str, str | int]
    # True when the strategy had nothing to say for this turn (no silent stand-in is assembled instead);
    # `empty_reason` says why, for the decision log and admin.
    empty: bool = False
    empty_reason: str = ""
    tokens: int = 0
    # What the lens looked for and did not find, even when it still had something to show (a callback-primed
    # block with no ripe callback shows the live window, and says no callback was primed).
    gaps: tuple[str, ...] = ()


class ContextStrategy(Protocol):
    """A lens on memory: gathers context items for a turn. Its output always passes the Boundary."""

    @property
    def strategy_id(self) -> ContextStrategyId:
        """The declared id this strategy implements."""
        ...

    def gather(self, turn: ContextScope) -> Sequence[ContextItem]:
        """Collect the items this lens shows for the turn, within the strategy's own token budget."""
        ...


def empty_reason_of(strategy: ContextStrategy) -> str:
    """What a strategy says when it has nothing for a turn (its `empty_reason`, or a generic line)."""
    reason = getattr(strategy, "empty_reason", "")
    return str(reason) if reason else f"{strategy.strategy_id} found nothing for this turn"
