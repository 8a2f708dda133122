"""Sender threat: how far a sender should not be engaged, from this turn's words and the member's standing.

Three signals of the turn alone, each a score on its own (the router's gate stops at 0.7): an injection phrase
aimed at the bot ("ignore all previous instructions", "print your system prompt"), 0.9; a mass mention
(MASS_MENTIONS or more people pinged in one turn), 0.8; a flood (FLOOD_MESSAGES or more messages from the sender
in the channel within FLOOD_SECONDS), 0.75. Beside them, the security engine (`steward.security`) adds the
turn's signals (those three, scam and invite links, duplicate spam, a new account) to the member's decaying
score in the guild. The sender's score is the highest of all, with the signals logged beside it; the member's
new score is what the port stores with the decision.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from bots.host.cues import words
from memory.live import LiveItem
from steward.security import UNKNOWN, Signal, Standing, message_signals, scored

INJECTION_SCORE = 0.9
MASS_MENTION_SCORE = 0.8
FLOOD_SCORE = 0.75

_INJECTION = re.compile(
    r"\b(?:(?:ignore|disregard|forget|override) (?:all |any |your |the |every )*(?:previous |prior |above |earlier |"
    r"your |system )*(?:instructions|rules|prompts?|guidelines|directions)|(?:reveal|print|show|post|repeat|leak) "
    r"(?:me )?(?:your |the )?(?:system )?(?:prompt|instructions)|system prompt|developer mode|jailbreak|"
    r"you are now (?:dan|an? unrestricted)|pretend (?:you have|to have) no (?:rules|restrictions)|"
    r"no longer bound by)\b"
)


@dataclass(frozen=True, slots=True)
class ThreatReading:
    """A sender's threat score for this turn and the signals behind it."""

    score: float = 0.0
    signals: tuple[str, ...] = ()
    # The security engine's part: the member's score after this turn and the signals that moved it.
    member_score: float = 0.0
    member_signals: tuple[Signal, ...] = ()


NO_THREAT = ThreatReading()


def injection_phrase(text: str) -> str:
    """The prompt-injection phrase in a message ("ignore all previous instructions"), or ""."""
    found = _INJECTION.search(" ".join(words(text)))
    return found.group(0) if found else ""


def recent_from(items: Sequence[LiveItem], *, author_id: str, now: datetime, seconds: float) -> int:
    """How many of the channel's messages within `seconds` of now are the author's."""
    return sum(1 for i in items if i.author_id == author_id and (now - i.created_at).total_seconds() <= seconds)


def sender_threat(
    *,
    text: str,
    addressed: bool,
    mentioned: Collection[str],
    recent_messages: int,
    mass_mentions: int,
    flood_messages: int,
    duplicates: int = 0,
    new_account: bool = False,
    standing: Standing = UNKNOWN,
    now: datetime | None = None,
) -> ThreatReading:
    """The sender's threat score from the turn's words, whom it pings, how fast they have been posting, and
    their standing in the guild (decayed to `now`)."""
    found: list[tuple[float, str]] = []
    phrase = injection_phrase(text) if addressed else ""
    member: list[Signal] = []
    member_score = 0.0
    if now is not None:
        member = message_signals(
            text=text,
            injection_phrase=phrase,
            mentioned=len(set(mentioned)),
            mass_mentions=mass_mentions,
            recent_messages=recent_messages,
            flood_messages=flood_messages,
            duplicates=duplicates,
            new_account=new_account,
        )
        member_score = scored(standing, member, now=now)
    if phrase:
        found.append((INJECTION_SCORE, f"injection phrase aimed at the bot: {phrase!r}"))
    if mass_mentions and len(set(mentioned)) >= mass_mentions:
        found.append((MASS_MENTION_SCORE, f"mass mention: {len(set(mentioned))} people pinged"))
    if flood_messages and recent_messages >= flood_messages:
        found.append((FLOOD_SCORE, f"flood: {recent_messages} messages in a short while"))
    reasons = [reason for _, reason in found]
    reasons += [s.reason for s in member if s.reason not in reasons]
    before = standing.at_time(now) if now is not None else 0.0
    if before >= 0.01:
        reasons.append(f"standing in the guild before this turn: {before:.2f}")
    if not found and member_score <= 0:
        return NO_THREAT
    return ThreatReading(
        score=max([member_score, *(score for score, _ in found)]),
        signals=tuple(reasons),
        member_score=member_score,
        member_signals=tuple(member),
    )
