"""Router inputs read from a channel's recent transcript, and the question a bare nudge points back to."""

from __future__ import annotations

import pytest

from bots.host.readings import (
    QuestionWindow,
    channel_signals,
    find_late_question,
    joke_laughed_at,
    room_questions,
    since_addressed,
)
from bots.host.tests.builders import NOW, item


def test_channel_signals_read_activity_lull_presence_and_the_bots_last_word():
    items = [
        item("m1", "alice", "morning", minutes_ago=30),
        item("m2", "dit", "hey", minutes_ago=20, is_bot=True),
        item("m3", "bob", "anyone know what port postgres uses?", minutes_ago=4),
        item("m4", "bob", "@dit thoughts?", minutes_ago=0, mentions=("dit",)),
    ]
    window = QuestionWindow(wait_seconds=180, stale_seconds=1800)
    signals = channel_signals(items, turn_message_ids={"m4"}, own_user_ids={"dit"}, now=NOW, questions=window)
    assert signals.lull_seconds == pytest.approx(240)
    assert signals.present_users == ("bob",)
    assert signals.seconds_since_bot_spoke == pytest.approx(1200)
    # bob's question to the room, in the bot's lane, four minutes without an answer.
    assert signals.unanswered_questions == 1
    assert signals.activity_per_minute == pytest.approx(2 / 5)
    assert (signals.exchange_messages, signals.exchange_humans) == (2, 1)


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
    assert found.item.message_id == "m1"
    assert found.answered_by_bot is False


def test_a_question_the_bot_already_answered_comes_back_marked_answered():
    items = [
        item("m1", "alice", "what's the capital of Peru?", minutes_ago=3),
        item("m2", "9", "Lima", minutes_ago=2, is_bot=True),
        item("m3", "alice", "<@9> ^^", minutes_ago=0),
    ]
    found = find_late_question(
        items, author_id="alice", nudge_message_ids={"m3"}, own_user_ids={"9"}, now=NOW, window_seconds=600
    )
    assert found is not None
    assert found.item.message_id == "m1"
    assert found.answered_by_bot is True


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


WINDOW = QuestionWindow(wait_seconds=180, stale_seconds=1800)


def test_a_question_put_to_the_room_is_open_once_it_has_waited_and_while_nobody_else_spoke():
    asked = [item("m1", "alice", "does anyone know what port postgres uses?", minutes_ago=5)]
    taken_up = [*asked, item("m2", "bob", "5432", minutes_ago=4)]
    just_asked = [item("m1", "alice", "does anyone know what port postgres uses?", minutes_ago=1)]
    stale = [item("m1", "alice", "does anyone know what port postgres uses?", minutes_ago=45)]
    bumped = [*asked, item("m2", "alice", "anyone?", minutes_ago=0)]

    assert [q.message_id for q in room_questions(asked, own_user_ids={"9"}, now=NOW, window=WINDOW)] == ["m1"]
    assert [q.message_id for q in room_questions(bumped, own_user_ids={"9"}, now=NOW, window=WINDOW)] == ["m1"]
    for items in (taken_up, just_asked, stale):
        assert room_questions(items, own_user_ids={"9"}, now=NOW, window=WINDOW) == ()


def test_a_question_between_people_or_outside_the_bots_lane_is_never_open():
    between = [
        item("m1", "bob", "home at last", minutes_ago=6),
        item("m2", "alice", "what time is it there?", minutes_ago=5),
    ]
    personal = [item("m1", "alice", "is anyone coming to the gym later?", minutes_ago=5)]
    to_bob = [item("m1", "alice", "what's the port?", minutes_ago=5, mentions=("2",))]

    for items in (between, personal, to_bob):
        assert room_questions(items, own_user_ids={"9"}, now=NOW, window=WINDOW) == ()


def test_the_exchange_counts_people_talking_among_themselves_since_the_bot_spoke():
    items = [
        item("m1", "alice", "earlier", minutes_ago=4),
        item("m2", "9", "hello all", minutes_ago=3, is_bot=True),
        item("m3", "alice", "hi", minutes_ago=2),
        item("m4", "bob", "hey", minutes_ago=1),
        item("m5", "alice", "so", minutes_ago=0),
    ]

    signals = channel_signals(items, turn_message_ids={"m5"}, own_user_ids={"9"}, now=NOW)

    assert (signals.exchange_messages, signals.exchange_humans) == (3, 2)


def test_the_last_time_someone_addressed_the_bot_is_read_from_mentions_replies_and_names():
    by_name = [item("m1", "alice", "dit, you there?", minutes_ago=3), item("m2", "bob", "lol", minutes_ago=0)]
    by_reply = [
        item("m1", "alice", "nice", minutes_ago=2, reply_to_author_id="9"),
        item("m2", "bob", "x", minutes_ago=0),
    ]
    never = [item("m1", "alice", "morning", minutes_ago=2), item("m2", "bob", "x", minutes_ago=0)]

    assert since_addressed(by_name, turn_message_ids={"m2"}, own_user_ids={"9"}, names=["dit"], now=NOW) == 180
    assert since_addressed(by_reply, turn_message_ids={"m2"}, own_user_ids={"9"}, names=[], now=NOW) == 120
    assert since_addressed(never, turn_message_ids={"m2"}, own_user_ids={"9"}, names=["dit"], now=NOW) is None


def test_a_laugh_points_at_the_one_liner_just_before_it():
    items = [
        item("m1", "dave", "I'm reading a book on anti-gravity. can't put it down", minutes_ago=0.5),
        item("m2", "erin", "😂😂😂", minutes_ago=0),
    ]

    joke = joke_laughed_at(items, turn_message_ids={"m2"}, author_id="erin", text="😂😂😂", now=NOW)
    own = joke_laughed_at(items, turn_message_ids={"m2"}, author_id="dave", text="😂😂😂", now=NOW)
    words = joke_laughed_at(items, turn_message_ids={"m2"}, author_id="erin", text="ok then", now=NOW)

    assert joke is not None
    assert joke.message_id == "m1"
    assert own is None
    assert words is None
