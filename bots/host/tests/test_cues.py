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


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("what year did the Berlin wall fall?", "fact"),
        ("how many ounces in a pound?", "fact"),
        ("does anyone know how to undo a git commit?", "fact"),
        ("can you explain how DNS works, step by step?", "explain"),
        ("why is the sky blue?", "explain"),
        ("settle this: is a hot dog a sandwich?", "settle"),
        ("who's right, me or bob?", "settle"),
        ("anyone seen the game last night?", "personal"),
        ("you coming tonight?", "personal"),
        ("what do you think about tabs?", "opinion"),
        ("well?", ""),
        ("nice weather", ""),
    ],
)
def test_a_question_is_read_for_what_it_asks(text, kind):
    from bots.host.cues import question_kind

    assert question_kind(text) == kind


def test_a_question_put_to_the_room_says_so():
    from bots.host.cues import put_to_the_room

    assert put_to_the_room("does anyone know a good plumber?")
    assert put_to_the_room("is there a way to mute a thread?")
    assert not put_to_the_room("did you finish the slides?")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I PASSED MY DRIVING TEST!!!", True),
        ("we won the hackathon", True),
        ("got the job 🎉", True),
        ("I didn't get the job", False),
        ("the build failed again", False),
    ],
)
def test_good_news_is_told_apart_from_bad(text, expected):
    from bots.host.cues import is_good_news

    assert is_good_news(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"), [("😂😂😂", True), ("lmao", True), ("hahaha 😂", True), ("lol what", False), ("omg", False)]
)
def test_laughter_is_a_message_that_only_laughs(text, expected):
    from bots.host.cues import is_laughter

    assert is_laughter(text) is expected


@pytest.mark.parametrize(
    ("text", "cue"),
    [
        ("stay out of here for now", "stay out"),
        ("could you give us some room for a bit", "give us some room"),
        ("let us talk among ourselves please", "let us talk"),
        ("sit this one out please", "sit this one out"),
        ("don't go away", None),
        ("go on then", None),
        ("can you stop by the docs later?", None),
    ],
)
def test_a_request_to_be_quiet_is_read_in_other_words_than_the_phrase_list(text, cue):
    from bots.host.cues import quiet_request_cue

    assert quiet_request_cue(text) == cue


@pytest.mark.parametrize("text", ["wait when's the meeting", "so how do I bake these", "btw is it raining"])
def test_a_question_may_open_with_a_lead_in(text):
    assert is_question(text)
