"""Turns end to end on the local adapter: shapes, bursts, interruptions, silence, errors, draining.

Real database, real gateway client, the local model server; the router's choice is forced by the dispositions
the persona can choose.
"""

from __future__ import annotations

import asyncio
import contextlib

from asgiref.sync import sync_to_async

from bots.adapters.local import LocalAdapter, LocalEvent
from bots.host.choices import BeatStatus
from bots.host.models import OutboundBeat
from bots.host.tests.hostkit import make_disposition, make_persona, react_json, reply_json
from dispositions.choices import InterruptionHandling, OutputShape
from dispositions.models import DispositionDecision


async def persona_with(*dispositions: tuple[str, str, float]):
    """A persona "Dit" whose only choices are the given (slug, shape, weight) dispositions."""

    def build():
        persona = make_persona()
        for slug, shape, weight in dispositions:
            make_disposition(persona, slug, shape=shape, weight=weight)
        return persona

    return await sync_to_async(build)()


async def wait_until(predicate, *, timeout: float = 5.0) -> None:
    """Poll until `predicate()` holds (the local model server answers on its own thread)."""
    for _ in range(int(timeout / 0.01)):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met in time")


async def decisions() -> list[DispositionDecision]:
    return [d async for d in DispositionDecision.objects.order_by("id")]


class InterruptOnTyping(LocalAdapter):
    """A local platform where someone speaks up the first time the bot starts typing its next beat (mid-burst)."""

    def __init__(self, *, interrupt: tuple[str, str, str], **options):
        super().__init__(**options)
        self.interrupt = interrupt
        self.fired = False

    @contextlib.asynccontextmanager
    async def _typing(self, channel):
        self._emit(LocalEvent("typing", channel))
        # Typing before the first beat is the bot composing; the burst is under way once a beat is out.
        if not self.fired and self.bot_messages(channel):
            self.fired = True
            await self.post(*self.interrupt)
        yield


async def test_a_mention_is_answered_with_a_reply_and_a_decision(make_rig, gateway_on_openai_server):
    persona = await persona_with(("quick-react", OutputShape.SINGLE_LINE, 1.0))
    rig = await make_rig(persona=persona)
    gateway_on_openai_server.queue_reply(reply_json("hey alice"))

    await rig.say("general", "alice", "hey @dit how are you?")

    general = rig.adapter.channel("general")
    assert [m.content for m in rig.adapter.bot_messages(general)] == ["hey alice"]
    [decision] = await decisions()
    assert decision.chosen_slug == "quick-react"
    assert decision.beat_count == 1
    assert decision.outcome["end"] == "spoke"
    assert decision.router_inputs["context"]["address_kind"] == "mention"


async def test_a_burst_arrives_as_several_messages_in_order_with_typing_before_and_between(
    make_rig, gateway_on_openai_server
):
    persona = await persona_with(("settle-debate", OutputShape.BURST, 1.0))
    rig = await make_rig(persona=persona)
    gateway_on_openai_server.queue_reply(reply_json("hmm", "ok so the thing is", "actually wait"))

    await rig.say("general", "alice", "@dit settle this")

    general = rig.adapter.channel("general")
    assert [m.content for m in rig.adapter.bot_messages(general)] == ["hmm", "ok so the thing is", "actually wait"]
    # Typing while the synthesizer composes the burst, then between its beats.
    assert [e.kind for e in rig.adapter.events if e.kind in ("message", "typing")] == [
        "typing",
        "message",
        "typing",
        "message",
        "typing",
        "message",
    ]
    beats = [b async for b in OutboundBeat.objects.order_by("index")]
    assert [(b.index, b.status) for b in beats] == [(0, BeatStatus.SENT), (1, BeatStatus.SENT), (2, BeatStatus.SENT)]
    assert all(b.platform_message_ids for b in beats)


async def test_a_react_only_turn_adds_one_reaction_to_the_message(make_rig, gateway_on_openai_server):
    persona = await persona_with(("vibing", OutputShape.REACT_ONLY, 1.0))
    rig = await make_rig(persona=persona)
    gateway_on_openai_server.queue_reply(react_json("🔥"))

    message = await rig.say("general", "alice", "@dit I shipped it")

    general = rig.adapter.channel("general")
    assert rig.adapter.reactions(general) == [(message.message.id, "local-bot", "🔥")]
    assert rig.adapter.bot_messages(general) == []
    [decision] = await decisions()
    assert decision.outcome["end"] == "reacted"


async def test_a_silent_decision_sends_nothing_calls_no_model_and_is_recorded(make_rig, gateway_on_openai_server):
    persona = await persona_with(("silent-listen", OutputShape.SILENT, 1.0))
    rig = await make_rig(persona=persona)

    await rig.say("general", "alice", "just chatting about lunch")

    assert rig.adapter.bot_messages(rig.adapter.channel("general")) == []
    assert gateway_on_openai_server.chat_requests == []
    [decision] = await decisions()
    assert (decision.chosen_slug, decision.output_shape, decision.outcome["end"]) == (
        "silent-listen",
        "silent",
        "silent",
    )
    assert decision.router_inputs["context"]["addressed"] is False


async def test_text_that_performs_silence_is_never_sent(make_rig, gateway_on_openai_server):
    persona = await persona_with(("quick-react", OutputShape.SINGLE_LINE, 1.0))
    rig = await make_rig(persona=persona)
    gateway_on_openai_server.queue_reply(reply_json("*stays silent*"))

    await rig.say("general", "alice", "@dit anything to add")

    assert rig.adapter.bot_messages(rig.adapter.channel("general")) == []
    [decision] = await decisions()
    assert decision.outcome["dispatch"]["suppressed_silence"] == 1
    assert decision.outcome["end"] == "silent"


async def test_a_burst_drops_only_its_silence_beats(make_rig, gateway_on_openai_server):
    persona = await persona_with(("settle-debate", OutputShape.BURST, 1.0))
    rig = await make_rig(persona=persona)
    gateway_on_openai_server.queue_reply(reply_json("ok", "(staying silent)", "[silence]", "fine, one thing"))

    await rig.say("general", "alice", "@dit well?")

    assert [m.content for m in rig.adapter.bot_messages(rig.adapter.channel("general"))] == ["ok", "fine, one thing"]


async def test_model_output_that_is_not_json_ends_the_turn_silent_with_a_logged_error(
    make_rig, gateway_on_openai_server, caplog
):
    persona = await persona_with(("quick-react", OutputShape.SINGLE_LINE, 1.0))
    rig = await make_rig(persona=persona)
    gateway_on_openai_server.queue_reply('{"messages": [{"text": "I think')
    gateway_on_openai_server.queue_reply("{still: not json")
    gateway_on_openai_server.queue_reply(reply_json("second time lucky"))

    await rig.say("general", "alice", "@dit first?")
    await rig.say("general", "alice", "@dit second?")

    general = rig.adapter.channel("general")
    assert [m.content for m in rig.adapter.bot_messages(general)] == ["second time lucky"]
    first, second = await decisions()
    assert first.outcome["end"] == "error"
    assert "invalid" in first.outcome["error"]
    assert second.outcome["end"] == "spoke"
    assert any("ended silent after an error" in r.getMessage() for r in caplog.records if r.levelname == "ERROR")


async def test_a_human_speaking_mid_burst_aborts_the_rest(make_rig, gateway_on_openai_server):
    persona = await persona_with(("settle-debate", OutputShape.BURST, 1.0))
    adapter = InterruptOnTyping(bot_name="dit", interrupt=("general", "bob", "hold on, that's not what happened"))
    rig = await make_rig(persona=persona, adapter=adapter)
    gateway_on_openai_server.queue_reply(reply_json("so basically", "bob was wrong", "and here's why"))
    gateway_on_openai_server.queue_reply(reply_json("unused"))

    await rig.say("general", "alice", "@dit what happened?")

    general = rig.adapter.channel("general")
    assert [m.content for m in rig.adapter.bot_messages(general)][:1] == ["so basically"]
    assert "bob was wrong" not in [m.content for m in rig.adapter.bot_messages(general)]
    first = (await decisions())[0]
    assert first.interruption == InterruptionHandling.ABORTED
    assert first.beat_count == 1
    statuses = [b.status async for b in OutboundBeat.objects.filter(decision=first).order_by("index")]
    assert statuses == [BeatStatus.SENT, BeatStatus.CANCELLED, BeatStatus.CANCELLED]
    # Bob's message still gets a turn of its own.
    assert [d.inbound_message_id for d in await decisions()][1] != first.inbound_message_id


async def test_an_interruption_addressed_to_the_bot_is_folded_into_the_rest(make_rig, gateway_on_openai_server):
    persona = await persona_with(("settle-debate", OutputShape.BURST, 1.0))
    adapter = InterruptOnTyping(bot_name="dit", interrupt=("general", "jen", "@dit you forgot the best part"))
    rig = await make_rig(persona=persona, adapter=adapter)
    gateway_on_openai_server.queue_reply(reply_json("so basically", "it was a tie"))
    gateway_on_openai_server.queue_reply(reply_json("oh — yeah, exactly what jen said", "the best part was the ending"))

    await rig.say("general", "alice", "@dit who won?")

    said = [m.content for m in rig.adapter.bot_messages(rig.adapter.channel("general"))]
    assert said == ["so basically", "oh — yeah, exactly what jen said", "the best part was the ending"]
    [decision] = await decisions()
    assert decision.interruption == InterruptionHandling.FOLDED
    assert decision.beat_count == 3
    fold_prompt = gateway_on_openai_server.chat_requests[1].body["messages"][1]["content"]
    assert "- it was a tie" in fold_prompt
    assert "jen (u:local-u-jen): @dit you forgot the best part" in fold_prompt


async def test_a_backchannel_mid_burst_lets_it_continue(make_rig, gateway_on_openai_server):
    persona = await persona_with(
        ("settle-debate", OutputShape.BURST, 1.0), ("silent-listen", OutputShape.SILENT, 100.0)
    )
    adapter = InterruptOnTyping(bot_name="dit", interrupt=("general", "bob", "lol"))
    rig = await make_rig(persona=persona, adapter=adapter)
    gateway_on_openai_server.queue_reply(reply_json("so basically", "it was a tie"))

    await rig.say("general", "alice", "@dit who won?")

    said = [m.content for m in rig.adapter.bot_messages(rig.adapter.channel("general"))]
    assert said == ["so basically", "it was a tie"]
    first = (await decisions())[0]
    assert first.interruption == InterruptionHandling.CONTINUED


async def test_draining_lets_an_in_flight_turn_finish(make_rig, gateway_on_openai_server):
    persona = await persona_with(("quick-react", OutputShape.SINGLE_LINE, 1.0))
    rig = await make_rig(persona=persona)
    gateway_on_openai_server.queue_reply(reply_json("made it"), delay=0.3)

    await rig.adapter.post("general", "alice", "@dit still there?")
    await wait_until(lambda: gateway_on_openai_server.chat_requests)
    report = await rig.host.drain(grace=10)

    assert report.finished == 1
    assert [m.content for m in rig.adapter.bot_messages(rig.adapter.channel("general"))] == ["made it"]


async def test_draining_cancels_a_turn_past_the_grace_period_and_records_it(make_rig, gateway_on_openai_server):
    persona = await persona_with(("quick-react", OutputShape.SINGLE_LINE, 1.0))
    rig = await make_rig(persona=persona)
    gateway_on_openai_server.queue_reply(reply_json("too late"), delay=5)

    await rig.adapter.post("general", "alice", "@dit still there?")
    await wait_until(lambda: gateway_on_openai_server.chat_requests)
    report = await rig.host.drain(grace=0.2)

    assert report.cancelled == 1
    assert rig.adapter.bot_messages(rig.adapter.channel("general")) == []
    [decision] = await decisions()
    assert decision.outcome["end"] == "cancelled"


async def test_the_synthesizer_request_labels_messages_with_names_and_ids(make_rig, gateway_on_openai_server):
    persona = await persona_with(("quick-react", OutputShape.SINGLE_LINE, 1.0))
    rig = await make_rig(persona=persona, require_mention=True)
    gateway_on_openai_server.queue_reply(reply_json("rust is fine"))
    await rig.adapter.post("general", "bob", "rust is overhyped")
    await rig.host.idle()

    await rig.say("general", "alice", "hey @dit what did bob say about rust?")

    [request] = gateway_on_openai_server.chat_requests
    system = request.body["messages"][0]["content"]
    user = request.body["messages"][1]["content"]
    assert "[#general] bob (u:local-u-bob): rust is overhyped" in system
    assert "Answer alice (u:local-u-alice)." in user
    assert "[#general] alice (u:local-u-alice): hey @dit what did bob say about rust?" in user


async def test_the_router_seed_of_every_decision_comes_from_the_hosts_seed_source(make_rig, gateway_on_openai_server):
    persona = await persona_with(("quick-react", OutputShape.SINGLE_LINE, 1.0))
    seeds = iter([111, 222])
    rig = await make_rig(persona=persona, host_options={"seed_source": lambda: next(seeds)})
    gateway_on_openai_server.queue_reply(reply_json("one"))
    gateway_on_openai_server.queue_reply(reply_json("two"))

    await rig.say("general", "alice", "@dit first?")
    await rig.say("general", "bob", "@dit second?")

    assert [d.stochasticity_seed for d in await decisions()] == [111, 222]
