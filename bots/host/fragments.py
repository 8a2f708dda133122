"""Fragments: back-to-back messages from one author in one channel read as one turn.

A group stays open for FRAGMENT_WINDOW_SECONDS after its latest message, longer while the author is typing,
never past FRAGMENT_MAX_SECONDS from its first message, and closes at once when the merged text addresses
the bot and ends a sentence, or when anyone else speaks in the channel: what came before an answer from
someone else ("has anyone seen my keys?" / "on the hook" / "thanks") is not one message with what came after.
The buffer is a plain state machine over an injected clock; the host drives it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bots.adapters.base import InboundMessage
from bots.host.addressing import Address
from bots.host.cues import ends_sentence

Clock = Callable[[], float]


@dataclass
class FragmentGroup:
    """Messages of one author in one channel waiting to become one turn."""

    channel_id: str
    author_id: str
    opened_at: float
    deadline: float
    hard_deadline: float
    messages: list[InboundMessage] = field(default_factory=list)
    addresses: list[Address] = field(default_factory=list)
    seqs: list[int] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str]:
        """(channel id, author id)."""
        return (self.channel_id, self.author_id)

    @property
    def address(self) -> Address:
        """The group's address: the first fragment that addresses the bot, else the last fragment's reading."""
        for address in self.addresses:
            if address.addressed:
                return address
        return self.addresses[-1]


class FragmentBuffer:
    """Open fragment groups by (channel, author); `add`, `typing`, then collect with `due` as time passes."""

    def __init__(self, *, window: float, max_seconds: float, clock: Clock) -> None:
        self.window = window
        self.max_seconds = max(max_seconds, window)
        self._clock = clock
        self._open: dict[tuple[str, str], FragmentGroup] = {}

    def __len__(self) -> int:
        return len(self._open)

    def add(self, message: InboundMessage, *, address: Address, seq: int) -> FragmentGroup | None:
        """Add a message; return its group when that closes at once (addressed and a finished sentence)."""
        now = self._clock()
        key = (message.channel.id, message.author.id)
        group = self._open.get(key)
        if group is None:
            group = FragmentGroup(
                channel_id=key[0],
                author_id=key[1],
                opened_at=now,
                deadline=now + self.window,
                hard_deadline=now + self.max_seconds,
            )
            self._open[key] = group
        else:
            group.deadline = min(now + self.window, group.hard_deadline)
        group.messages.append(message)
        group.addresses.append(address)
        group.seqs.append(seq)
        if self.window <= 0 or (group.address.addressed and ends_sentence(message.content)):
            return self._open.pop(key)
        return None

    def someone_spoke(self, channel_id: str, author_id: str) -> list[FragmentGroup]:
        """`author_id` said something in the channel: the open groups of everyone else there close now."""
        closing = [g for key, g in self._open.items() if key[0] == channel_id and key[1] != author_id]
        for group in closing:
            del self._open[group.key]
        return sorted(closing, key=lambda g: g.opened_at)

    def typing(self, channel_id: str, author_id: str) -> bool:
        """The author is typing: keep their open group waiting a window longer (up to the cap)."""
        group = self._open.get((channel_id, author_id))
        if group is None:
            return False
        group.deadline = min(max(group.deadline, self._clock() + self.window), group.hard_deadline)
        return True

    def due(self) -> list[FragmentGroup]:
        """Remove and return the groups whose time is up, oldest first."""
        now = self._clock()
        ready = [group for group in self._open.values() if group.deadline <= now]
        for group in ready:
            del self._open[group.key]
        return sorted(ready, key=lambda g: g.opened_at)

    def next_deadline(self) -> float | None:
        """When the next group closes, or None when nothing is open."""
        return min((group.deadline for group in self._open.values()), default=None)

    def flush(self) -> list[FragmentGroup]:
        """Remove and return every open group (on shutdown)."""
        groups = sorted(self._open.values(), key=lambda g: g.opened_at)
        self._open.clear()
        return groups
