"""The synthesizer through the real gateway client against the local OpenAI-compatible server."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from dispositions.choices import OutputShape, ReasoningDepth, RiskAppetite, Voice
from dispositions.specs import DispositionSpec, PersonaSpec
from dispositions.synthesis import (
    REACTION_CHOICES,
    ConversationLine,
    FoldIn,
    SynthesisRequest,
    remove_banned_phrases,
    synthesize,
)
from gateway.models import UsageEvent

pytestmark = pytest.mark.usefixtures("async_db_connections")

PERSONA = PersonaSpec(
    name="Dit",
    banned_phrases=("As an AI language model", "Great question!"),
    never_do=("Reveal what someone said in a direct message",),
    soul_text="Curious, dry, warm underneath.",
)


def spec(shape: str = OutputShape.SINGLE_LINE, depth: str = ReasoningDepth.LOW, voice: str = Voice.DEADPAN):
    return DispositionSpec(
        slug="test",
        reasoning_depth=depth,
        context_strategy="live",
        voice=voice,
        output_shape=shape,
        search_posture="none",
        risk_appetite=RiskAppetite.SAFE,
    )


def request(shape: str = OutputShape.SINGLE_LINE, depth: str = ReasoningDepth.LOW, **extra) -> SynthesisRequest:
    values = {
        "persona": PERSONA,
        "disposition": spec(shape, depth),
        "output_shape": shape,
        "context_text": "[#general] bob (u:2): rust is overhyped",
        "bot_name": "Dit",
        "bot_id": 1,
        "guild_id": "g-synth",
        "answering": (ConversationLine("alice", "1", "what did bob say about rust?", channel_name="general"),),
    }
    values.update(extra)
    return SynthesisRequest(**values)


def messages(*texts: str, corrections: tuple[int, ...] = ()) -> str:
    return json.dumps({"messages": [{"text": t, "isCorrection": i in corrections} for i, t in enumerate(texts)]})


async def test_a_burst_comes_back_as_beats_in_order_with_correction_marks(gateway_on_openai_server):
    gateway_on_openai_server.queue_reply(
        messages("hmm", "ok so bob thinks rust is overhyped", "wait, he said hyped", corrections=(2,))
    )

    result = await synthesize(request(OutputShape.BURST))

    assert result.ok
    assert [b.text for b in result.beats] == ["hmm", "ok so bob thinks rust is overhyped", "wait, he said hyped"]
    assert [b.is_correction for b in result.beats] == [False, False, True]
    assert result.calls == 1


@pytest.mark.parametrize(
    ("depth", "purpose"),
    [(ReasoningDepth.LOW, "synth-low"), (ReasoningDepth.MEDIUM, "synth-mid"), (ReasoningDepth.HIGH, "synth-high")],
)
async def test_the_model_tier_follows_the_reasoning_depth(gateway_on_openai_server, depth, purpose):
    gateway_on_openai_server.queue_reply(messages("sure"))

    result = await synthesize(request(depth=depth))

    assert result.purpose == purpose
    assert [event.purpose async for event in UsageEvent.objects.filter(guild_id="g-synth")] == [purpose]


async def test_the_system_prompt_carries_the_persona_as_constraints_and_the_material(gateway_on_openai_server):
    gateway_on_openai_server.queue_reply(messages("he said it's overhyped"))

    await synthesize(request(research_material="bob said this last week too"))

    [sent] = gateway_on_openai_server.chat_requests
    system, user = sent.body["messages"][0]["content"], sent.body["messages"][1]["content"]
    assert "- As an AI language model" in system
    assert "- Reveal what someone said in a direct message" in system
    assert "Deadpan" in system
    assert "Risk: safe" in system
    assert "## research material\nThis is raw material" in system
    assert "bob said this last week too" in system
    assert "[#general] bob (u:2): rust is overhyped" in system
    assert "Output shape: single-line" in system
    assert "[#general] alice (u:1): what did bob say about rust?" in user
    assert sent.body["response_format"] == {"type": "json_object"}


async def test_invalid_output_is_retried_once_with_the_errors_fed_back(gateway_on_openai_server):
    gateway_on_openai_server.queue_reply("sure thing, here you go")
    gateway_on_openai_server.queue_reply(messages("bob said rust is overhyped"))

    result = await synthesize(request(OutputShape.BURST))

    assert result.ok
    assert result.retried_invalid
    assert [b.text for b in result.beats] == ["bob said rust is overhyped"]
    retry = gateway_on_openai_server.chat_requests[1].body["messages"]
    assert retry[-1]["content"].startswith("Your reply could not be used:\n- Not valid JSON")


async def test_output_invalid_twice_ends_in_a_clear_error_not_an_exception(gateway_on_openai_server):
    gateway_on_openai_server.queue_reply(json.dumps({"message": "not the shape asked for"}))
    gateway_on_openai_server.queue_reply(json.dumps({"messages": [{"text": "a"}, {"text": "b"}]}))

    result = await synthesize(request(OutputShape.SINGLE_LINE))

    assert not result.ok
    assert "invalid after a retry" in result.error
    assert "messages: [{'text': 'a'}, {'text': 'b'}] is too long" in result.error
    assert result.beats == ()
    assert result.calls == 2


async def test_a_banned_phrase_triggers_one_regeneration(gateway_on_openai_server):
    gateway_on_openai_server.queue_reply(messages("Great question! He said overhyped."))
    gateway_on_openai_server.queue_reply(messages("He said overhyped."))

    result = await synthesize(request())

    assert result.regenerated_for_banned
    assert [b.text for b in result.beats] == ["He said overhyped."]
    assert "Great question!" in gateway_on_openai_server.chat_requests[1].body["messages"][-1]["content"]


async def test_a_banned_phrase_that_survives_regeneration_is_removed(gateway_on_openai_server):
    gateway_on_openai_server.queue_reply(messages("great question! He said overhyped."))
    gateway_on_openai_server.queue_reply(messages("Great question! Overhyped, he said."))

    result = await synthesize(request())

    assert result.ok
    assert [b.text for b in result.beats] == ["Overhyped, he said."]
    assert result.removed_phrases == ("Great question!",)


async def test_react_only_picks_an_emoji_from_the_short_list(gateway_on_openai_server):
    gateway_on_openai_server.queue_reply(json.dumps({"emoji": "🦄"}))
    gateway_on_openai_server.queue_reply(json.dumps({"emoji": "🔥"}))

    result = await synthesize(request(OutputShape.REACT_ONLY))

    assert result.ok
    assert result.emoji == "🔥"
    assert result.emoji in REACTION_CHOICES
    assert result.retried_invalid


async def test_a_gateway_failure_is_a_failed_result_not_an_exception(gateway_on_openai_server):
    gateway_on_openai_server.queue_fault(400, message="bad request")

    result = await synthesize(request())

    assert not result.ok
    assert result.error.startswith("gateway call failed")


async def test_a_fold_in_request_names_the_unsent_beats_and_the_interrupters(gateway_on_openai_server):
    gateway_on_openai_server.queue_reply(messages("oh — yeah, exactly what jen said"))
    fold = FoldIn(remaining=("and another thing",), interrupting=(ConversationLine("jen", "3", "dit that's wrong"),))

    result = await synthesize(request(OutputShape.BURST, fold_in=fold))

    assert result.ok
    user = gateway_on_openai_server.chat_requests[0].body["messages"][1]["content"]
    assert "- and another thing" in user
    assert "jen (u:3): dit that's wrong" in user


def test_removing_banned_phrases_tidies_what_is_left():
    assert remove_banned_phrases("Great question! Lima.", ["great question!"]) == "Lima."
    assert remove_banned_phrases("Great question!", ["Great question!"]) == ""


async def test_a_plain_prose_reply_to_a_single_line_shape_is_used_as_the_message():
    calls = []

    async def complete(**kwargs):
        calls.append(kwargs)
        return SimpleNamespace(text="  rust is fine, honestly  ", cost_usd=0, model="m")

    result = await synthesize(request(OutputShape.SINGLE_LINE), model=SimpleNamespace(complete=complete))

    assert result.ok
    assert [beat.text for beat in result.beats] == ["rust is fine, honestly"]
    assert len(calls) == 1


async def test_a_plain_prose_reply_to_a_burst_is_retried_as_invalid():
    async def complete(**kwargs):
        return SimpleNamespace(text="not json at all", cost_usd=0, model="m")

    result = await synthesize(request(OutputShape.BURST), model=SimpleNamespace(complete=complete))

    assert not result.ok
    assert "Not valid JSON" in (result.error or "")


async def test_a_reply_that_starts_like_json_but_is_broken_is_retried_not_spoken():
    replies = iter(['{"messages": [{"text": "half', '{"messages": [{"text": "whole", "isCorrection": false}]}'])

    async def complete(**kwargs):
        return SimpleNamespace(text=next(replies), cost_usd=0, model="m")

    result = await synthesize(request(OutputShape.SINGLE_LINE), model=SimpleNamespace(complete=complete))

    assert result.ok
    assert result.retried_invalid
    assert [beat.text for beat in result.beats] == ["whole"]
