"""Group-chat manners, each rule shown through the real host on the local adapter and recorded on the decision."""

from __future__ import annotations

import asyncio

from asgiref.sync import sync_to_async

from bots.adapters.local import LocalAdapter
from bots.host import selectors
from bots.host.choices import MuteSource
from bots.host.models import BotAccount, ChannelMute
from bots.host.tests.hostkit import make_disposition, make_persona, react_json, reply_json
from dispositions.choices import OutputShape, TriggerKind
from dispositions.models import DispositionDecision
from dispositions.synthesis import synthesize


async def persona_with(*dispositions: tuple[str, str, float], name: str = "Dit", wake_words=("dit",)):
    def build():
        persona = make_persona(name=name, wake_words=wake_words)
        for slug, shape, weight in dispositions:
            make_disposition(persona, slug, shape=shape, weight=weight)
        return persona

    return await sync_to_async(build)()


async def decisions() -> list[DispositionDecision]:
    return [d async for d in DispositionDecision.objects.order_by("id")]


def said(rig, channel: str = "general") -> list[str]:
    return [m.content for m in rig.adapter.bot_messages(rig.adapter.channel(channel))]


SPEAK = ("quick-react", OutputShape.SINGLE_LINE, 1.0)
LISTEN = ("silent-listen", OutputShape.SILENT, 1.0)


# 1. Addressing.


async def test_calling_the_bot_by_name_addresses_it_and_the_decision_records_how(make_rig, gateway_on_openai_server):
    persona = await persona_with(SPEAK, LISTEN, name="Sol", wake_words=("sol",))
    rig = await make_rig(persona=persona, bot_name="Sol")
    gateway_on_openai_server.queue_reply(reply_json("Lima"))

    await rig.say("general", "alice", "Sol, what's the capital of Peru?")

    [decision] = await decisions()
    assert decision.router_inputs["context"]["addressed"] is True
    assert decision.router_inputs["context"]["address_kind"] == "name"
    assert decision.outcome["address"]["reason"] == "called by name"
    assert "addressed (name): silent removed" in decision.gates
    assert said(rig) == ["Lima"]


async def test_a_word_containing_the_name_does_not_address_the_bot(make_rig, gateway_on_openai_server):
    persona = await persona_with(LISTEN, name="Sol", wake_words=("sol",))
    rig = await make_rig(persona=persona, bot_name="Sol")

    await rig.say("general", "alice", "our solar panels are finally up")

    [decision] = await decisions()
    assert decision.router_inputs["context"]["addressed"] is False
    assert decision.router_inputs["context"]["address_kind"] == "none"


async def test_a_message_to_someone_else_is_not_addressed_to_the_bot(make_rig, gateway_on_openai_server):
    persona = await persona_with(LISTEN, SPEAK)
    rig = await make_rig(persona=persona)

    await rig.say("general", "alice", "@bob did you see what dit said?")

    [decision] = await decisions()
    assert decision.router_inputs["context"]["addressed"] is False
    assert decision.router_inputs["context"]["said_to_someone_else"] is True
    assert decision.outcome["address"]["others_targeted"] is True
    assert decision.chosen_slug == "silent-listen"
    assert "said to someone else: not the bot's turn" in decision.gates


# 2. Ambient listening.


async def test_unaddressed_messages_in_every_channel_are_context_for_a_turn(make_rig, gateway_on_openai_server):
    persona = await persona_with(SPEAK)
    rig = await make_rig(persona=persona, require_mention=True)
    gateway_on_openai_server.queue_reply(reply_json("bob's in #random talking rust"))
    await rig.say("random", "bob", "rust is overhyped, fight me")

    await rig.say("general", "alice", "@dit what's bob on about?")

    system = gateway_on_openai_server.chat_requests[0].body["messages"][0]["content"]
    assert "[#random] bob (u:local-u-bob): rust is overhyped, fight me" in system


# 3. Fragments.


async def test_back_to_back_fragments_become_one_turn_with_one_model_call(make_rig, gateway_on_openai_server):
    persona = await persona_with(SPEAK)
    rig = await make_rig(persona=persona, fragment_window_seconds=0.05, fragment_max_seconds=1)
    gateway_on_openai_server.queue_reply(reply_json("got all of it"))

    await rig.adapter.post("general", "alice", "so")
    await rig.adapter.post("general", "alice", "about rust")
    await rig.adapter.post("general", "alice", "@dit is it worth learning")
    await rig.host.idle()

    [decision] = await decisions()
    assert len(decision.outcome["fragments"]) == 3
    assert decision.inbound_message_id == decision.outcome["fragments"][-1]
    [request] = gateway_on_openai_server.chat_requests
    user = request.body["messages"][1]["content"]
    assert "alice (u:local-u-alice): so" in user
    assert "alice (u:local-u-alice): about rust" in user
    assert "alice (u:local-u-alice): @dit is it worth learning" in user
    assert said(rig) == ["got all of it"]


async def test_a_merged_turn_gets_at_most_one_reaction(make_rig, gateway_on_openai_server):
    persona = await persona_with(("vibing", OutputShape.REACT_ONLY, 1.0))
    rig = await make_rig(persona=persona, fragment_window_seconds=0.05, fragment_max_seconds=1)
    gateway_on_openai_server.queue_reply(react_json("🎉"))
    gateway_on_openai_server.queue_reply(react_json("🎉"))

    await rig.adapter.post("general", "alice", "@dit")
    await rig.adapter.post("general", "alice", "I got the job")
    await rig.adapter.post("general", "alice", "starting monday")
    await rig.host.idle()

    reactions = rig.adapter.reactions(rig.adapter.channel("general"))
    assert len(reactions) == 1
    assert len(await decisions()) == 1


async def test_an_addressed_finished_sentence_is_answered_without_waiting_for_the_window(
    make_rig, gateway_on_openai_server
):
    persona = await persona_with(SPEAK)
    # A window far longer than the test: only the early close can answer in time.
    rig = await make_rig(persona=persona, fragment_window_seconds=25, fragment_max_seconds=30)
    gateway_on_openai_server.queue_reply(reply_json("sure"))

    await rig.adapter.post("general", "alice", "@dit can you help?")
    await asyncio.wait_for(rig.host.idle(), timeout=10)

    assert said(rig) == ["sure"]


# 4. Late addressing.


async def test_a_bare_nudge_after_an_unanswered_question_answers_that_question(make_rig, gateway_on_openai_server):
    persona = await persona_with(SPEAK)
    rig = await make_rig(persona=persona, require_mention=True)
    gateway_on_openai_server.queue_reply(reply_json("Lima"))
    question = await rig.say("general", "alice", "what's the capital of Peru?")

    await rig.say("general", "alice", "@dit ^^")

    user = gateway_on_openai_server.chat_requests[0].body["messages"][1]["content"]
    assert "alice (u:local-u-alice): what's the capital of Peru?" in user
    assert "^^" not in user
    [reply] = rig.adapter.bot_messages(rig.adapter.channel("general"))
    assert reply.reply_to is not None
    assert reply.reply_to.message.id == question.message.id
    [decision] = await decisions()
    assert decision.outcome["late_address_of"] == question.message.id
    assert decision.router_inputs["context"]["question_detected"] is True


# 5. Other bots.


async def test_other_bots_are_context_never_triggers(make_rig, gateway_on_openai_server):
    persona = await persona_with(SPEAK)
    rig = await make_rig(persona=persona)
    otherbot = rig.adapter.user("otherbot", bot=True)

    await rig.say("general", otherbot, "@dit beep boop")

    assert await decisions() == []
    assert gateway_on_openai_server.chat_requests == []


async def test_an_allowed_bot_gets_at_most_the_chain_limit_of_replies_until_a_human_posts(
    make_rig, gateway_on_openai_server
):
    persona = await persona_with(SPEAK)
    rig = await make_rig(
        persona=persona, allowed_bots=frozenset({"local-u-otherbot"}), bot_reply_chain_max=2, require_mention=True
    )
    otherbot = rig.adapter.user("otherbot", bot=True)
    for n in range(4):
        gateway_on_openai_server.queue_reply(reply_json(f"reply {n}"))

    for n in range(3):
        await rig.say("general", otherbot, f"@dit ping {n}")
    assert said(rig) == ["reply 0", "reply 1"]

    await rig.say("general", "alice", "ok you two")
    await rig.say("general", otherbot, "@dit ping again")
    assert said(rig) == ["reply 0", "reply 1", "reply 2"]


async def test_replies_to_bots_per_minute_are_capped_with_a_cooldown(make_rig, gateway_on_openai_server):
    persona = await persona_with(SPEAK)
    rig = await make_rig(
        persona=persona,
        allowed_bots=frozenset({"local-u-otherbot"}),
        bot_reply_chain_max=10,
        bot_replies_per_minute=2,
        require_mention=True,
    )
    otherbot = rig.adapter.user("otherbot", bot=True)
    for n in range(4):
        gateway_on_openai_server.queue_reply(reply_json(f"reply {n}"))

    for n in range(2):
        await rig.say("general", otherbot, f"@dit ping {n}")
        await rig.say("general", "alice", "humans reset the chain, not the minute")
    await rig.say("general", otherbot, "@dit ping 3")

    assert said(rig) == ["reply 0", "reply 1"]


async def test_a_message_from_any_of_our_bots_accounts_never_starts_a_turn(make_rig, gateway_on_openai_server):
    persona = await persona_with(SPEAK)
    rig = await make_rig(persona=persona)
    twin = rig.adapter.user("dit-two")
    await sync_to_async(BotAccount.objects.create)(bot=rig.bot, platform="local", user_id=twin.id)
    await rig.host.prepare()

    await rig.say("general", twin, "@dit hello twin")

    assert await decisions() == []


async def test_another_bots_account_is_looked_up_once_not_on_every_message(make_rig, monkeypatch):
    persona = await persona_with(LISTEN)
    rig = await make_rig(persona=persona)
    otherbot = rig.adapter.user("otherbot", bot=True)
    lookups = []
    own_user_ids = selectors.own_user_ids

    def counted() -> frozenset[str]:
        lookups.append(1)
        return own_user_ids()

    monkeypatch.setattr(selectors, "own_user_ids", counted)

    for n in range(3):
        await rig.say("general", otherbot, f"chatter {n}")

    assert len(lookups) == 1


# 6. Being told to stop.


async def test_a_mute_phrase_mutes_unprompted_turns_logs_who_and_why_and_acknowledges(
    make_rig, gateway_on_openai_server
):
    persona = await persona_with(SPEAK)
    rig = await make_rig(persona=persona)

    message = await rig.say("general", "alice", "@dit shut up")

    mute = await ChannelMute.objects.aget()
    assert (mute.source, mute.muted_by, mute.reason) == (
        MuteSource.PHRASE,
        "alice (u:local-u-alice)",
        "@dit shut up",
    )
    assert mute.channel_id == rig.adapter.channel("general").id
    assert rig.adapter.reactions(rig.adapter.channel("general")) == [(message.message.id, "local-bot", "🤐")]
    assert await decisions() == []
    decision = await rig.host.unprompted_turn(rig.adapter.channel("general"), trigger=TriggerKind.SPECULATIVE)
    assert decision is not None
    assert decision.output_shape == "silent"
    assert "unprompted turns muted in this channel" in decision.gates


async def test_while_muted_ambient_messages_start_no_turn(make_rig, gateway_on_openai_server):
    persona = await persona_with(SPEAK)
    rig = await make_rig(persona=persona)
    await rig.say("general", "alice", "@dit stop")

    await rig.say("general", "bob", "anyway, about lunch")

    assert await decisions() == []
    assert said(rig) == []


async def test_addressing_the_bot_again_lifts_the_mute(make_rig, gateway_on_openai_server):
    persona = await persona_with(SPEAK)
    rig = await make_rig(persona=persona)
    gateway_on_openai_server.queue_reply(reply_json("I'm back"))
    await rig.say("general", "alice", "@dit be quiet")

    await rig.say("general", "bob", "@dit what do you think about lunch?")

    mute = await ChannelMute.objects.aget()
    assert mute.lifted_at is not None
    assert mute.lifted_by == "bob (u:local-u-bob)"
    assert said(rig) == ["I'm back"]
    speculative = await rig.host.unprompted_turn(rig.adapter.channel("general"))
    assert "unprompted turns muted in this channel" not in speculative.gates


async def test_the_classifier_catches_what_the_phrase_list_misses(make_rig, gateway_on_openai_server):
    persona = await persona_with(SPEAK)
    rig = await make_rig(persona=persona, mute_classifier=True)
    gateway_on_openai_server.queue_reply("yes")

    await rig.say("general", "alice", "@dit go away please")

    mute = await ChannelMute.objects.aget()
    assert mute.source == MuteSource.CLASSIFIER
    [request] = gateway_on_openai_server.chat_requests
    assert "stop talking" in request.body["messages"][0]["content"]


async def test_long_messages_are_never_sent_to_the_mute_classifier(make_rig, gateway_on_openai_server):
    persona = await persona_with(SPEAK)
    rig = await make_rig(persona=persona, mute_classifier=True)
    gateway_on_openai_server.queue_reply(reply_json("sure, here's the plan"))

    await rig.say("general", "alice", "@dit can you walk me through how the deploy pipeline works today?")

    assert await ChannelMute.objects.acount() == 0
    assert len(gateway_on_openai_server.chat_requests) == 1
    assert said(rig) == ["sure, here's the plan"]


# 7. Who said what.


async def test_two_people_asking_close_together_each_get_a_reply_to_their_own_message(
    make_rig, gateway_on_openai_server
):
    persona = await persona_with(SPEAK)
    adapter = LocalAdapter(bot_name="dit")
    asked: list = []

    async def synthesizer(request):
        result = await synthesize(request)
        if not asked:
            # Bob asks while the answer to Alice is being written.
            asked.append(await adapter.post("general", "bob", "@dit and what time is it?"))
        return result

    rig = await make_rig(persona=persona, adapter=adapter, host_options={"synthesizer": synthesizer})
    gateway_on_openai_server.queue_reply(reply_json("it's tuesday, alice"))
    gateway_on_openai_server.queue_reply(reply_json("noon, bob"))

    alice = await rig.say("general", "alice", "@dit what day is it?")

    replies = rig.adapter.bot_messages(rig.adapter.channel("general"))
    assert [(m.content, m.reply_to.message.id) for m in replies] == [
        ("it's tuesday, alice", alice.message.id),
        ("noon, bob", asked[0].message.id),
    ]
    first, second = await decisions()
    assert (first.outcome["recheck"], second.outcome["recheck"]) == ("reply", "reply")


async def test_the_same_person_adding_more_mid_turn_is_folded_in(make_rig, gateway_on_openai_server):
    persona = await persona_with(SPEAK)
    adapter = LocalAdapter(bot_name="dit")
    added: list = []

    async def synthesizer(request):
        result = await synthesize(request)
        if not added:
            added.append(await adapter.post("general", "alice", "oh and in which timezone"))
        return result

    rig = await make_rig(persona=persona, adapter=adapter, host_options={"synthesizer": synthesizer})
    gateway_on_openai_server.queue_reply(reply_json("noon"))
    gateway_on_openai_server.queue_reply(reply_json("noon UTC"))

    await rig.say("general", "alice", "@dit what time is it?")

    assert said(rig) == ["noon UTC"]
    decisions_made = await decisions()
    assert len(decisions_made) == 1
    assert decisions_made[0].outcome["recheck"] == "fold"
    assert decisions_made[0].outcome["folded"] == [added[0].message.id]
    assert "oh and in which timezone" in gateway_on_openai_server.chat_requests[1].body["messages"][1]["content"]


async def test_an_unaddressed_turn_overtaken_by_the_conversation_is_dropped_as_stale(
    make_rig, gateway_on_openai_server
):
    persona = await persona_with(SPEAK)
    adapter = LocalAdapter(bot_name="dit")
    posted: list = []

    async def synthesizer(request):
        result = await synthesize(request)
        if not posted:
            for n in range(3):
                posted.append(await adapter.post("general", f"person{n}", f"new topic {n}"))
        return result

    rig = await make_rig(
        persona=persona, adapter=adapter, require_mention=False, host_options={"synthesizer": synthesizer}
    )
    gateway_on_openai_server.queue_reply(reply_json("late take on the old topic"))

    await rig.say("general", "alice", "anyone watch the match?")

    assert "late take on the old topic" not in said(rig)
    first = (await decisions())[0]
    assert first.outcome["recheck"] == "stale"
    assert first.outcome["end"] == "stale"


# 8. Nothing crosses a boundary.


async def test_what_someone_says_in_a_dm_never_reaches_a_guild_turn_or_another_persons_dm(
    make_rig, gateway_on_openai_server
):
    persona = await persona_with(SPEAK)
    rig = await make_rig(persona=persona)
    for text in ("noted", "nothing new", "hi bob"):
        gateway_on_openai_server.queue_reply(reply_json(text))
    alice = rig.adapter.user("alice")
    bob = rig.adapter.user("bob")

    await rig.say(rig.adapter.dm_channel(alice), alice, "my secret codeword is PAPAYA")
    await rig.say("general", "bob", "@dit anything new?")
    await rig.say(rig.adapter.dm_channel(bob), bob, "hello, what do you know?")

    dm_turn, guild_turn, other_dm_turn = gateway_on_openai_server.chat_requests
    assert "PAPAYA" in dm_turn.body["messages"][1]["content"]
    for request in (guild_turn, other_dm_turn):
        assert all("PAPAYA" not in m["content"] for m in request.body["messages"])
    assert said(rig) == ["nothing new"]
