"""Router inputs read from a channel's recent transcript, and the question a bare nudge points back to."""

from __future__ import annotations

import pytest

from bots.host.readings import channel_signals, find_late_question
from bots.host.tests.builders import NOW, item


def test_channel_signals_read_activity_lull_presence_and_the_bots_last_word():
    items = [
        item("m1", "alice", "morning", minutes_ago=30),
        item("m2", "dit", "hey", minutes_ago=20, is_bot=True),
        item("m3", "bob", "anyone seen the game?", minutes_ago=4),
        item("m4", "alice", "@dit thoughts?", minutes_ago=0),
    ]
    signals = channel_signals(items, turn_message_ids={"m4"}, own_user_ids={"dit"}, now=NOW)
    assert signals.lull_seconds == pytest.approx(240)
    assert signals.present_users == ("alice", "bob")
    assert signals.seconds_since_bot_spoke == pytest.approx(1200)
    assert signals.unanswered_questions == 1
    assert signals.activity_per_minute == pytest.approx(2 / 5)


def test_a_bare_nudge_points_back_at_the_authors_unanswered_question():
    items = [
        item("m1", "alice", "what's the capital of Peru?", minutes_ago=3),
        item("m2", "bob", "lol", minutes_ago=2),
        item("m3", "alice", "<@9> ^^", minutes_ago=0),
    ]
    found = find_late_question(
        items, author_id="alice", nudge_message_ids={"m3"}, own_user_ids={"9"}, now=NOW, window_seconds=600
    )
    assert found is not None
    assert found.message_id == "m1"


def test_a_question_the_bot_already_answered_is_not_picked_up_again():
    items = [
        item("m1", "alice", "what's the capital of Peru?", minutes_ago=3),
        item("m2", "9", "Lima", minutes_ago=2, is_bot=True),
        item("m3", "alice", "<@9> ^^", minutes_ago=0),
    ]
    assert (
        find_late_question(
            items, author_id="alice", nudge_message_ids={"m3"}, own_user_ids={"9"}, now=NOW, window_seconds=600
        )
        is None
    )


def test_an_old_question_is_not_picked_up():
    items = [
        item("m1", "alice", "what's the capital of Peru?", minutes_ago=30),
        item("m3", "alice", "dit?", minutes_ago=0),
    ]
    assert (
        find_late_question(
            items,
            author_id="alice",
            nudge_message_ids={"m3"},
            own_user_ids=(),
            now=NOW,
            window_seconds=600,
            names=["dit"],
        )
        is None
    )
