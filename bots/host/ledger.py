"""The channel ledger: what arrived in each channel and in what order, as the running host saw it.

A turn uses it to see what was said after the message it answers (to reply to it, fold new words in, or
drop as stale) and a burst uses it to notice a human speaking mid-burst. It is a bounded in-memory view of
the last arrivals per channel; the transcripts in Postgres stay the record.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass

from bots.adapters.base import InboundMessage

ARRIVALS_PER_CHANNEL = 200
REMEMBERED_CONSUMED = 2000


@dataclass(frozen=True, slots=True)
class Arrival:
    """One message in a channel: a human's, another bot's, or our own."""

    seq: int
    message_id: str
    author_id: str
    author_name: str
    is_human: bool
    is_own: bool
    content: str
    message: InboundMessage | None = None


class ChannelLedger:
    """Arrivals of every channel with one increasing sequence, and the messages already folded into a turn."""

    def __init__(self) -> None:
        self._seq = 0
        self._arrivals: dict[str, deque[Arrival]] = {}
        self._ids: dict[str, set[str]] = {}
        self._consumed: OrderedDict[str, None] = OrderedDict()

    def record(self, message: InboundMessage, *, is_own: bool) -> Arrival | None:
        """Record a message; None when it was recorded before (a redelivery)."""
        return self._append(
            channel_id=message.channel.id,
            message_id=message.message.id,
            author_id=message.author.id,
            author_name=message.author.display_name,
            is_human=not message.author.is_bot,
            is_own=is_own,
            content=message.content,
            message=message,
        )

    def record_own(self, channel_id: str, message_id: str, *, text: str, author_id: str, author_name: str) -> None:
        """Record a message the bot just sent (before the platform echoes it back)."""
        self._append(
            channel_id=channel_id,
            message_id=message_id,
            author_id=author_id,
            author_name=author_name,
            is_human=False,
            is_own=True,
            content=text,
            message=None,
        )

    def _append(self, *, channel_id: str, message_id: str, **values: object) -> Arrival | None:
        ids = self._ids.setdefault(channel_id, set())
        if message_id in ids:
            return None
        arrivals = self._arrivals.setdefault(channel_id, deque())
        self._seq += 1
        arrival = Arrival(seq=self._seq, message_id=message_id, **values)  # type: ignore[arg-type]
        arrivals.append(arrival)
        ids.add(message_id)
        while len(arrivals) > ARRIVALS_PER_CHANNEL:
            ids.discard(arrivals.popleft().message_id)
        return arrival

    @property
    def last_seq(self) -> int:
        """The sequence number of the latest arrival anywhere."""
        return self._seq

    def before(self, channel_id: str, message_id: str) -> Arrival | None:
        """The arrival just before a message in its channel (None when it is the first this process saw)."""
        previous: Arrival | None = None
        for arrival in self._arrivals.get(channel_id, ()):
            if arrival.message_id == message_id:
                return previous
            previous = arrival
        return None

    def since(self, channel_id: str, seq: int) -> list[Arrival]:
        """Arrivals in a channel after sequence number `seq`, oldest first."""
        return [a for a in self._arrivals.get(channel_id, ()) if a.seq > seq]

    def consume(self, message_ids: list[str] | tuple[str, ...]) -> None:
        """Mark messages as answered inside another turn (folded in): they start no turn of their own."""
        for message_id in message_ids:
            self._consumed[message_id] = None
        while len(self._consumed) > REMEMBERED_CONSUMED:
            self._consumed.popitem(last=False)

    def is_consumed(self, message_id: str) -> bool:
        """Whether a message was folded into another turn."""
        return message_id in self._consumed
