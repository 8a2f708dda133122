"""Register: the tone of a message from cheap cues, the classifier only when the cues are unsure."""

from __future__ import annotations

import pytest

from bots.host.register import parse_register_answer, read_register, register_cue, unsure_cue
from dispositions.choices import Register
from dit_project.errors import ApplicationError


@pytest.mark.parametrize(
    ("text", "register"),
    [
        ("my grandmother passed away last night", Register.DISTRESS),
        ("had to put my cat down this morning", Register.DISTRESS),
        ("I got laid off today", Register.DISTRESS),
        ("thanks, that helped!", Register.GRATITUDE),
        ("ty", Register.GRATITUDE),
        ("go on, roast me", Register.TEASE_INVITE),
        ("do your worst", Register.TEASE_INVITE),
        ("you're useless", Register.HOSTILE),
    ],
)
def test_a_strong_cue_settles_the_register(text, register):
    reading = register_cue(text)

    assert reading is not None
    assert (reading.register, reading.source) == (register, "cue")


def test_thanks_inside_a_question_or_a_long_message_is_not_gratitude():
    assert register_cue("thanks, but can you also check the logs?") is None
    assert register_cue("thanks for nothing, the whole release slipped again and nobody told me why at all") is None


async def test_a_weak_cue_is_put_to_the_classifier_and_its_answer_kept():
    asked = []

    async def classify(text):
        asked.append(text)
        return Register.DISTRESS

    reading = await read_register("rough day tbh", classify=classify)

    assert asked == ["rough day tbh"]
    assert (reading.register, reading.source, reading.cue) == (Register.DISTRESS, "classifier", "rough day")


async def test_a_plain_message_is_neutral_and_the_classifier_is_not_asked():
    asked = []

    async def classify(text):
        asked.append(text)
        return Register.DISTRESS

    reading = await read_register("what's a good name for a cat?", classify=classify)

    assert asked == []
    assert reading.register == Register.NEUTRAL
    assert unsure_cue("what's a good name for a cat?") == ""


async def test_a_classifier_failure_reads_as_neutral():
    async def classify(text):
        raise ApplicationError("no model", code="gateway_unavailable")

    assert (await read_register("long week", classify=classify)).register == Register.NEUTRAL


@pytest.mark.parametrize(
    ("answer", "register"),
    [("distress", "distress"), ("Tease.", "tease-invite"), ("neutral", ""), ("maybe", None), ("", None)],
)
def test_the_classifiers_answer_is_read_by_its_first_word(answer, register):
    assert parse_register_answer(answer) == register
