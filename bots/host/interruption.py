"""What to do with the rest of a burst when a human speaks in the middle of it.

Aborting is the default (the floor moved). A message that addresses the bot is folded into what it still
says. A bare backchannel ("lol", "yeah", an emoji) does not take the floor, so a short remainder goes on.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bots.host.addressing import Address
from bots.host.cues import words
from bots.host.ledger import Arrival
from dispositions.choices import InterruptionHandling

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
