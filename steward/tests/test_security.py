"""The security engine: each signal moves a member's score, new accounts weigh more, and scores decay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from steward.security import (
    UNKNOWN,
    Standing,
    decayed,
    duplicates_of,
    is_new_account,
    link_signals,
    message_signals,
    scored,
)

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
CALM: dict[str, Any] = {
    "text": "hello there",
    "injection_phrase": "",
    "mentioned": 0,
    "mass_mentions": 5,
    "recent_messages": 1,
    "flood_messages": 8,
    "duplicates": 0,
    "new_account": False,
}


def score_of(**changes: Any) -> tuple[float, list[str]]:
    signals = message_signals(**{**CALM, **changes})
    return scored(UNKNOWN, signals, now=NOW), [s.name for s in signals]


def test_a_calm_message_moves_nothing():
    assert score_of() == (0.0, [])


@pytest.mark.parametrize(
    ("changes", "signal"),
    [
        ({"injection_phrase": "ignore all previous instructions"}, "injection"),
        ({"mentioned": 6}, "mass_mention"),
        ({"recent_messages": 9}, "flood"),
        ({"duplicates": 3}, "duplicate"),
        ({"text": "join us at discord.gg/abc123 now"}, "invite_link"),
        ({"text": "FREE NITRO here: https://dlscord-gift.ru/claim"}, "scam_link"),
    ],
)
def test_each_signal_moves_the_score(changes, signal):
    score, names = score_of(**changes)

    assert signal in names
    assert score > 0


def test_a_new_account_weighs_every_other_signal_more_and_alone_moves_nothing():
    old, _ = score_of(text="discord.gg/abc123")
    new = message_signals(**{**CALM, "text": "discord.gg/abc123", "new_account": True})

    assert scored(UNKNOWN, new, now=NOW) == pytest.approx(1.5 * old)
    assert new[0].reason.endswith("(new account)")
    assert score_of(new_account=True) == (0.0, [])


def test_the_score_halves_every_half_life_and_is_capped_at_one(settings):
    settings.DIT_THREAT_HALF_LIFE_MINUTES = 30
    standing = Standing(score=0.8, scored_at=NOW - timedelta(minutes=30), known=True)

    assert standing.at_time(NOW) == pytest.approx(0.4)
    assert decayed(0.8, since=NOW - timedelta(hours=1), now=NOW) == pytest.approx(0.2)
    assert (
        scored(Standing(score=0.9, scored_at=NOW, known=True), message_signals(**{**CALM, "mentioned": 9}), now=NOW)
        == 1.0
    )


def test_two_injection_attempts_within_the_half_life_pass_the_gate_together():
    first, _ = score_of(injection_phrase="ignore all previous instructions")
    later = Standing(score=first, scored_at=NOW - timedelta(minutes=2), known=True)
    second = scored(later, message_signals(**{**CALM, "injection_phrase": "jailbreak"}), now=NOW)

    assert first < 0.7 <= second


def test_duplicates_count_the_same_words_only_when_there_are_enough_of_them():
    assert duplicates_of("BUY my course now!!", ["buy my  course now!!", "buy my course now!!", "hi"]) == 2
    assert duplicates_of("lol", ["lol", "lol", "lol"]) == 0


def test_links_name_what_they_matched():
    (invite,) = link_signals("see https://discord.com/invite/xyz")
    assert invite.name == "invite_link"
    assert "discord.com/invite/xyz" in invite.reason
    assert link_signals("the steam sale is on at store.steampowered.com") == []


def test_an_account_is_new_for_a_week_by_default():
    assert is_new_account(NOW - timedelta(days=2), now=NOW)
    assert not is_new_account(NOW - timedelta(days=30), now=NOW)
    assert not is_new_account(None, now=NOW)
