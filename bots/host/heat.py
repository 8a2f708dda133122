"""Heat: two people arguing, read from the channel's last few minutes.

An argument is a back and forth: the last messages of the channel (within HEAT_WINDOW_SECONDS) are mostly two
people, who take turns at least three times, at a quick tempo (a median gap under a minute), with words of
contradiction in at least two of them ("no way", "that's wrong", "you always", "!!"). A heated room is a router
input: unaddressed, the bot mostly waits; asked to settle it, settling dispositions are favoured.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from bots.host.cues import words
from memory.live import LiveItem

HEAT_WINDOW_SECONDS = 180.0
HEAT_MESSAGES = 10
MIN_SWITCHES = 3
MIN_CONTRADICTIONS = 2
MAX_MEDIAN_GAP_SECONDS = 60.0

_CONTRADICTION = re.compile(
    r"\b(?:no way|not true|wrong|nonsense|absolutely not|disagree|bullshit|just no|ridiculous|are you serious|"
    r"you always|you never|objectively|literally|not at all|no it'?s not|it'?s not|is not|that'?s not|actually|"
    r"get real|are you kidding)\b"
)


def contradicts(text: str) -> bool:
    """Whether a message pushes back ("no way", "that's wrong", "you always say that!!")."""
    return bool(_CONTRADICTION.search(" ".join(words(text)))) or "!!" in text or text.strip().lower() == "no"


def is_heated(items: Sequence[LiveItem], *, now: datetime) -> bool:
    """Whether the channel's last few minutes (oldest first) read as two people arguing."""
    recent = [i for i in items if not i.author_is_bot and (now - i.created_at).total_seconds() <= HEAT_WINDOW_SECONDS][
        -HEAT_MESSAGES:
    ]
    if len(recent) < MIN_SWITCHES + 1:
        return False
    two = [author for author, _ in Counter(i.author_id for i in recent).most_common(2)]
    between = [i for i in recent if i.author_id in two]
    if len(two) < 2 or len(between) < 0.8 * len(recent):
        return False
    switches = sum(1 for a, b in zip(between, between[1:], strict=False) if a.author_id != b.author_id)
    gaps = [(b.created_at - a.created_at).total_seconds() for a, b in zip(between, between[1:], strict=False)]
    pushback = sum(1 for i in between if contradicts(i.content))
    return (
        switches >= MIN_SWITCHES
        and pushback >= MIN_CONTRADICTIONS
        and statistics.median(gaps) <= MAX_MEDIAN_GAP_SECONDS
    )
