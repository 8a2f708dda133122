"""The host and memory: the router's memory inputs in a running bot, what a lens found on the decision,
and a member asking to be forgotten."""

from __future__ import annotations

from datetime import timedelta

from asgiref.sync import sync_to_async
from django.utils import timezone

from bots.adapters.local import GUILD
from bots.host.tests.hostkit import make_disposition, make_persona, reply_json
from dispositions.choices import ContextStrategy
from dispositions.models import DispositionDecision
from memory.choices import HighlightKind, Visibility
from memory.embedding.providers import default_embedder
from memory.forgetting import FORGET_TRIGGER
from memory.models import Highlight
from reactor.models import Trigger


async def persona_on(strategy: str):
    def build():
        persona = make_persona()
        make_disposition(persona, "chat", strategy=strategy)
        return persona

    return await sync_to_async(build)()


def seed_highlight(text: str, *, days_ago: int = 10) -> Highlight:
    return Highlight.objects.create(
        guild_id=GUILD.id,
        channel_id="local-c-general",
        subject_user_id="local-u-bob",
        visibility=Visibility.GUILD,
        source_transcript_ids=[],
        kind=HighlightKind.QUOTE,
        raw_text=text,
        attribution="bob",
        said_at=timezone.now() - timedelta(days=days_ago),
        embedding=default_embedder().embed([text])[0],
    )


async def test_a_highlight_on_the_live_topic_primes_the_routers_callback_signal(make_rig, gateway_on_openai_server):
    # One named lens is under test: the router's off-axis roll (5% by default) would swap it for another.
    rig = await make_rig(persona=await persona_on(ContextStrategy.CALLBACK_PRIMED), router_off_axis_rate=0.0)
    gateway_on_openai_server.queue_reply(reply_json("first"))
    gateway_on_openai_server.queue_reply(reply_json("second"))

    await rig.say("general", "alice", "@dit what should we cook for the barbecue?")
    first = await DispositionDecision.objects.order_by("pk").alast()
    assert first is not None
    assert first.router_inputs["context"]["callback_material"] == 0.0

    await sync_to_async(seed_highlight)("bob swore the barbecue ribs need six hours of smoke")
    await rig.say("general", "alice", "@dit barbecue ribs again this weekend, how long do they smoke?")
    second = await DispositionDecision.objects.order_by("pk").alast()
    assert second is not None
    assert second.pk != first.pk
    assert second.router_inputs["context"]["callback_material"] > 0.0
    # The callback-primed lens showed the primed highlight to the synthesizer, in the original words.
    prompt = gateway_on_openai_server.chat_requests[-1].body["messages"]
    assert any("six hours of smoke" in message["content"] for message in prompt)


async def test_a_lens_with_nothing_to_show_says_so_on_the_decision(make_rig, gateway_on_openai_server):
    rig = await make_rig(persona=await persona_on(ContextStrategy.EPOCHS_ONLY), router_off_axis_rate=0.0)
    gateway_on_openai_server.queue_reply(reply_json("hm"))

    await rig.say("general", "alice", "@dit remember last month?")

    decision = await DispositionDecision.objects.aget()
    context = decision.outcome["context"]
    assert context["strategy"] == ContextStrategy.EPOCHS_ONLY
    assert context["empty"] is True
    assert context["empty_reason"]


async def test_a_member_asking_to_be_forgotten_has_it_scheduled_and_the_reply_knows(make_rig, gateway_on_openai_server):
    rig = await make_rig(persona=await persona_on(ContextStrategy.LIVE))
    gateway_on_openai_server.queue_reply(reply_json("done, you are forgotten"))
    gateway_on_openai_server.queue_reply(reply_json("sure"))

    await rig.say("general", "carol", "@dit please forget everything about me")

    trigger = await Trigger.objects.aget(kind=FORGET_TRIGGER)
    assert trigger.payload == {"guild_id": GUILD.id, "user_id": "local-u-carol"}
    prompt = gateway_on_openai_server.chat_requests[-1].body["messages"]
    assert any("asked you to forget" in message["content"] for message in prompt)

    await rig.say("general", "dave", "@dit don't forget me at the party")
    assert await Trigger.objects.filter(kind=FORGET_TRIGGER).acount() == 1
