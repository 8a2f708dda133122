"""What to do with the rest of a burst when a human speaks in the middle of it.

Aborting is the default (the floor moved). A message that addresses the bot is folded into what it still
says. A bare backchannel ("lol", "yeah", an emoji) does not take the floor, so a short remainder goes on.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from bots.adapters.base import ChannelRef, MessageRef
from bots.host.addressing import Address
from bots.host.cues import words
from bots.host.dispatcher import Interruption, InterruptionVerdict
from bots.host.ledger import Arrival, ChannelLedger
from bots.host.lines import line_for_arrival
from bots.host.presence import Presence
from bots.host.values import PlannedBeat
from dispositions.choices import AddressKind, InterruptionHandling, OutputShape
from dispositions.synthesis import FoldIn, SynthesisRequest, SynthesizeFn

# fmt: off
BACKCHANNEL = frozenset((
    "lol", "lmao", "lmfao", "haha", "hahaha", "heh", "ok", "okay", "k", "yeah", "yep", "yup", "ya", "true", "same",
    "fair", "nice", "oh", "ah", "hm", "hmm", "mhm", "+1", "ty", "thx",
))
# fmt: on
CONTINUE_AT_MOST = 2


def is_backchannel(text: str) -> bool:
    """A reaction in words that does not take the floor: "lol", "yeah true", "+1", emoji only."""
    found = words(text)
    if not found:
        return not re.search(r"\w", text) or text.strip() == "+1"
    return len(found) <= 3 and all(word in BACKCHANNEL for word in found)


def route_interruption(
    *, interrupting: Sequence[Arrival], addresses: Sequence[Address], remaining: int
) -> InterruptionHandling:
    """Abort, fold the interruption in, or continue as planned."""
    if any(address.addressed for address in addresses):
        return InterruptionHandling.FOLDED
    if remaining <= CONTINUE_AT_MOST and all(is_backchannel(arrival.content) for arrival in interrupting):
        return InterruptionHandling.CONTINUED
    return InterruptionHandling.ABORTED


class BurstWatch:
    """The interruption policy of one turn: what arrived in its channel, and what to do about it.

    It reads the channel ledger after a cursor, reads each interruption's address with the bot's presence,
    and folds an interruption that addresses the bot into new beats with one more synthesizer call.
    """

    def __init__(
        self,
        *,
        channel: ChannelRef,
        ledger: ChannelLedger,
        presence: Presence,
        turn_message_ids: frozenset[str],
        synthesize: SynthesizeFn,
        base: SynthesisRequest,
    ) -> None:
        self._channel = channel
        self._ledger = ledger
        self._presence = presence
        self._turn_ids = turn_message_ids
        self._synthesize = synthesize
        self._base = base
        self._cursor = ledger.last_seq

    def arrivals(self) -> list[Arrival]:
        """Human messages in the channel since the last look, not part of the turn and not folded elsewhere."""
        found = [
            a
            for a in self._ledger.since(self._channel.id, self._cursor)
            if a.is_human and a.message_id not in self._turn_ids and not self._ledger.is_consumed(a.message_id)
        ]
        self._cursor = self._ledger.last_seq
        return found

    async def resolve(self, interruption: Interruption) -> InterruptionVerdict:
        """Abort, continue, or fold an interruption that addresses the bot into what it still says."""
        addresses = [
            self._presence.address(a.message) if a.message is not None else Address(False, AddressKind.NONE, "unknown")
            for a in interruption.arrivals
        ]
        handling = route_interruption(
            interrupting=interruption.arrivals, addresses=addresses, remaining=len(interruption.remaining)
        )
        if handling != InterruptionHandling.FOLDED:
            return InterruptionVerdict(handling)
        fold = FoldIn(
            remaining=tuple(b.text for b in interruption.remaining),
            interrupting=tuple(line_for_arrival(a, self._channel) for a in interruption.arrivals),
        )
        synth = await self._synthesize(replace(self._base, output_shape=OutputShape.BURST, fold_in=fold))
        if not synth.ok or not synth.beats:
            return InterruptionVerdict(InterruptionHandling.ABORTED, syntheses=(synth,))
        # The interruption is answered inside this turn: it starts no turn of its own.
        self._ledger.consume([a.message_id for a in interruption.arrivals])
        beats = tuple(PlannedBeat(b.text, b.is_correction) for b in synth.beats)
        return InterruptionVerdict(handling, beats, (synth,))

    def sent(self, refs: Sequence[MessageRef], text: str) -> None:
        """A beat went out: the bot's own message, in the ledger and the presence."""
        self._presence.sent(self._ledger, self._channel.id, refs, text)
