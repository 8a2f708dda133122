"""The security engine: a member's threat score in a guild, from the signals of their messages, decaying.

Every message a member sends adds the points of the signals it carries (below) to their score, which
halves every DIT_THREAT_HALF_LIFE_MINUTES and is capped at 1. Decay is computed when the score is read,
from the stored score and its time, so nothing runs on a clock. An account younger than
DIT_THREAT_NEW_ACCOUNT_DAYS weighs every other signal half as much again (a new account alone moves
nothing: most newcomers are just new).

| signal | when | points |
|---|---|---|
| injection | a prompt-injection phrase aimed at the bot ("ignore all previous instructions") | 0.5 |
| scam_link | a known scam pattern (free nitro, a look-alike of discord or steam, a gift link) | 0.6 |
| mass_mention | the turn pings at least the bot's MASS_MENTIONS people | 0.4 |
| flood | the member posted at least FLOOD_MESSAGES messages within FLOOD_SECONDS | 0.3 |
| duplicate | the same words (10 characters or more) posted DUPLICATE_REPEATS times in the channel lately | 0.3 |
| invite_link | a Discord invite | 0.25 |
| new account | the account is younger than DIT_THREAT_NEW_ACCOUNT_DAYS | every other signal x1.5 |

The host turns the score into the router's threat input (`bots.host.threat`), and the gate stops at 0.7:
one injection attempt is gated by the turn's own reading, two within the half-life keep the member unheard
for a while after. Over STEWARD_THRESHOLD the steward is to propose a timeout through its confirmation
flow; the steward does not exist yet, so nothing proposes it today.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings

INJECTION_POINTS = 0.5
SCAM_LINK_POINTS = 0.6
MASS_MENTION_POINTS = 0.4
FLOOD_POINTS = 0.3
DUPLICATE_POINTS = 0.3
INVITE_LINK_POINTS = 0.25
NEW_ACCOUNT_WEIGHT = 1.5
DUPLICATE_REPEATS = 3
DUPLICATE_MIN_CHARS = 10
# Where the steward would propose a timeout (once it exists).
STEWARD_THRESHOLD = 0.9
MAX_REASONS = 20

_INVITE = re.compile(r"(?:discord(?:app)?\.com/invite|discord\.gg)/[A-Za-z0-9-]+", re.IGNORECASE)
_SCAM = re.compile(
    r"free\s+(?:discord\s+)?nitro|nitro\s+(?:for\s+)?free|discord-?gifts?\.|dlscord|disc0rd|d1scord|discorcl|"
    r"steamcommun[il1]ty|stearncommunity|steamcommunity\.(?!com\b)|airdrop.{0,40}(?:claim|wallet)|"
    r"(?:gift|nitro)[^\s]*\.(?:ru|xyz|top|click|gift)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Signal:
    """One thing a message did that counts against its author, with its points and the words to show for it."""

    name: str
    points: float
    reason: str


@dataclass(frozen=True, slots=True)
class Standing:
    """A member's stored score and when it was scored (`known`: a row exists); decay it with `at_time`."""

    score: float = 0.0
    scored_at: datetime | None = None
    known: bool = False
    reasons: tuple[str, ...] = field(default=())

    def at_time(self, now: datetime) -> float:
        """The score decayed to `now`."""
        return decayed(self.score, since=self.scored_at, now=now)


UNKNOWN = Standing()


def half_life() -> timedelta:
    """How long a score takes to halve."""
    return timedelta(minutes=float(settings.DIT_THREAT_HALF_LIFE_MINUTES))


def decayed(score: float, *, since: datetime | None, now: datetime) -> float:
    """`score` as it stood at `since`, halved for every half-life passed by `now`."""
    if since is None or score <= 0:
        return max(0.0, score)
    elapsed = max(0.0, (now - since).total_seconds())
    return score * math.pow(0.5, elapsed / half_life().total_seconds())


def link_signals(text: str) -> list[Signal]:
    """Scam patterns and Discord invites in a message."""
    found: list[Signal] = []
    scam = _SCAM.search(text)
    if scam:
        found.append(Signal("scam_link", SCAM_LINK_POINTS, f"known scam pattern: {scam.group(0)!r}"))
    invite = _INVITE.search(text)
    if invite:
        found.append(Signal("invite_link", INVITE_LINK_POINTS, f"invite link: {invite.group(0)!r}"))
    return found


def duplicates_of(text: str, recent_texts: Sequence[str]) -> int:
    """How many of `recent_texts` (the author's lately, this one included) say the same as `text`."""
    words = _plain(text)
    if len(words) < DUPLICATE_MIN_CHARS:
        return 0
    return sum(1 for other in recent_texts if _plain(other) == words)


def is_new_account(created_at: datetime | None, *, now: datetime) -> bool:
    """Whether the platform account is younger than DIT_THREAT_NEW_ACCOUNT_DAYS (unknown age: no)."""
    if created_at is None:
        return False
    return now - created_at < timedelta(days=float(settings.DIT_THREAT_NEW_ACCOUNT_DAYS))


def message_signals(
    *,
    text: str,
    injection_phrase: str,
    mentioned: int,
    mass_mentions: int,
    recent_messages: int,
    flood_messages: int,
    duplicates: int,
    new_account: bool,
) -> list[Signal]:
    """Every signal one turn's messages carry against their author (new account weighs the others more)."""
    found: list[Signal] = []
    if injection_phrase:
        found.append(Signal("injection", INJECTION_POINTS, f"injection phrase aimed at the bot: {injection_phrase!r}"))
    found.extend(link_signals(text))
    if mass_mentions and mentioned >= mass_mentions:
        found.append(Signal("mass_mention", MASS_MENTION_POINTS, f"mass mention: {mentioned} people pinged"))
    if flood_messages and recent_messages >= flood_messages:
        found.append(Signal("flood", FLOOD_POINTS, f"flood: {recent_messages} messages in a short while"))
    if duplicates >= DUPLICATE_REPEATS:
        found.append(Signal("duplicate", DUPLICATE_POINTS, f"duplicate spam: the same words {duplicates} times"))
    if new_account:
        found = [Signal(s.name, s.points * NEW_ACCOUNT_WEIGHT, s.reason + " (new account)") for s in found]
    return found


def scored(standing: Standing, signals: Sequence[Signal], *, now: datetime) -> float:
    """The member's score after this turn: their standing decayed to now plus the signals' points, at most 1."""
    return min(1.0, standing.at_time(now) + sum(s.points for s in signals))


def _plain(text: str) -> str:
    return " ".join(text.lower().split())
