"""Cheap readings of a message's words: questions, sentence ends, nudges, mute phrases, fake silence."""

from __future__ import annotations

import pytest

from bots.host.cues import (
    ends_sentence,
    has_new_content,
    is_question,
    is_silence_text,
    match_mute_phrase,
    strip_address,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("what's the capital of Peru?", True), ("how do I do this", True), ("nice", False), ("is it", False)],
)
def test_questions_are_detected_by_question_mark_or_question_word(text, expected):
    assert is_question(text) is expected


@pytest.mark.parametrize(
    "text",
    ["(staying silent)", "*stays silent*", "[silence]", "...", "<silence>", "_remains quiet_", "(no response)", ""],
)
def test_text_that_only_performs_silence_is_recognised(text):
    assert is_silence_text(text)


@pytest.mark.parametrize("text", ["silence is golden, honestly", "I stayed quiet at the meeting", "pass the salt"])
def test_real_sentences_about_silence_are_not_silence_text(text):
    assert not is_silence_text(text)


@pytest.mark.parametrize(("text", "phrase"), [("stop", "stop"), ("please shut up", "shut up"), ("stfu", "stfu")])
def test_mute_phrases_match_as_whole_words(text, phrase):
    assert match_mute_phrase(text, ["stop", "shut up", "stfu"]) == phrase


@pytest.mark.parametrize("text", ["don't stop", "never stop posting", "unstoppable", "nonstop"])
def test_negated_or_embedded_mute_phrases_do_not_match(text):
    assert match_mute_phrase(text, ["stop"]) is None


def test_a_nudge_has_no_new_content_once_the_address_is_stripped():
    assert not has_new_content(strip_address("<@9> ^^", names=["dit"], bot_user_id="9"))
    assert not has_new_content(strip_address("dit?", names=["dit"]))
    assert has_new_content(strip_address("dit what about lunch", names=["dit"]))


def test_a_sentence_end_is_a_full_stop_question_or_exclamation():
    assert ends_sentence("ok so here it is.")
    assert ends_sentence("right?")
    assert not ends_sentence("and then")
