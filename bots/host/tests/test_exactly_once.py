"""Exactly once: at most one turn per inbound message and one reply per turn, across redelivery and restarts."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import IntegrityError

from bots.host.choices import BeatStatus
from bots.host.dispatcher import OutputDispatcher
from bots.host.models import OutboundBeat
from bots.host.tests.hostkit import make_disposition, make_persona, reply_json
from bots.host.values import PlannedBeat
from dispositions.choices import OutputShape
from dispositions.models import DispositionDecision
from dispositions.router import route_turn
from dispositions.selectors import load_routing_candidates
from dispositions.services import record_decision
from dispositions.specs import Moment, RouterConfig


async def speaking_persona():
    def build():
        persona = make_persona()
        make_disposition(persona, "quick-react", shape=OutputShape.SINGLE_LINE)
        return persona

    return await sync_to_async(build)()


def said(rig, channel: str = "general") -> list[str]:
    return [m.content for m in rig.adapter.bot_messages(rig.adapter.channel(channel))]


async def test_a_redelivered_message_is_stored_once_and_answered_once(make_rig, gateway_on_openai_server):
    rig = await make_rig(persona=await speaking_persona())
    gateway_on_openai_server.queue_reply(reply_json("once"))
    gateway_on_openai_server.queue_reply(reply_json("twice"))

    message = await rig.say("general", "alice", "@dit hello?")
    await rig.host.on_message(message)
    await rig.host.idle()

    assert said(rig) == ["once"]
    assert await DispositionDecision.objects.acount() == 1


def test_the_database_refuses_a_second_reactive_decision_for_one_message(db):
    persona = make_persona()
    make_disposition(persona, "quick-react")
    spec, candidates = load_routing_candidates(persona.pk)
    context = Moment(message_text="hi", addressed=True, address_kind="mention")
    result = route_turn(context, spec, candidates, RouterConfig(), seed=1)
    values: dict[str, Any] = {
        "moment": context,
        "persona": spec,
        "candidates": candidates,
        "config": RouterConfig(),
        "result": result,
        "guild_id": "g",
        "channel_id": "c",
        "bot_id": 7,
        "inbound_message_id": "m-1",
    }
    record_decision(**values)
    record_decision(**{**values, "bot_id": 8})
    record_decision(**{**values, "inbound_message_id": ""})
    record_decision(**{**values, "inbound_message_id": ""})
    with pytest.raises(IntegrityError):
        record_decision(**values)


async def test_a_message_that_already_has_a_decision_is_not_answered_again(make_rig, gateway_on_openai_server):
    persona = await speaking_persona()
    rig = await make_rig(persona=persona)

    def decided_elsewhere():
        spec, candidates = load_routing_candidates(persona.pk)
        context = Moment(message_text="hi", addressed=True, address_kind="mention")
        result = route_turn(context, spec, candidates, RouterConfig(), seed=1)
        record_decision(
            moment=context,
            persona=spec,
            candidates=candidates,
            config=RouterConfig(),
            result=result,
            guild_id="local-guild",
            channel_id="local-c-general",
            bot_id=rig.bot.pk,
            inbound_message_id=upcoming,
        )

    # Another process already decided on the next message id this platform hands out.
    upcoming = rig.adapter.upcoming_message_id
    await sync_to_async(decided_elsewhere)()
    gateway_on_openai_server.queue_reply(reply_json("a second answer"))

    message = await rig.say("general", "alice", "@dit hello?")

    assert message.message.id == upcoming
    assert said(rig) == []
    assert gateway_on_openai_server.chat_requests == []


async def test_after_a_restart_missed_messages_are_fetched_and_handled_once(make_rig, gateway_on_openai_server):
    persona = await speaking_persona()
    first = await make_rig(persona=persona)
    gateway_on_openai_server.queue_reply(reply_json("answer 1"))
    await first.say("general", "alice", "@dit one?")
    await first.host.drain(0)
    await first.adapter.stop()

    # While the bot is down, people keep talking.
    await first.adapter.post("general", "alice", "@dit two?")
    await first.adapter.post("general", "bob", "@dit three?")
    gateway_on_openai_server.queue_reply(reply_json("answer 2"))
    gateway_on_openai_server.queue_reply(reply_json("answer 3"))

    second = await make_rig(persona=persona, adapter=first.adapter, bot=first.bot)
    await second.host.idle()

    assert said(second) == ["answer 1", "answer 2", "answer 3"]
    inbound = [d.inbound_message_id async for d in DispositionDecision.objects.order_by("id")]
    assert len(inbound) == len(set(inbound)) == 3


async def test_a_restart_never_sends_a_beat_the_previous_run_left_pending(make_rig, gateway_on_openai_server):
    persona = await speaking_persona()
    rig = await make_rig(persona=persona)
    gateway_on_openai_server.queue_reply(reply_json("hello"))
    await rig.say("general", "alice", "@dit hi?")
    decision = await DispositionDecision.objects.aget()
    # A beat recorded by a run that died before the platform confirmed it.
    await OutboundBeat.objects.acreate(
        decision=decision, index=5, text="maybe sent already", platform="local", channel_id="local-c-general"
    )

    await rig.host.prepare()
    port = rig.host.parts.port
    rows = await port.prepare_beats(
        decision_id=decision.pk,
        beats=[PlannedBeat("hello"), *[PlannedBeat(f"x{n}") for n in range(5)]],
        start=0,
        platform="local",
        channel_id="local-c-general",
    )
    result = await OutputDispatcher(rig.adapter, port).send(channel=rig.adapter.channel("general"), rows=rows)

    beat = await OutboundBeat.objects.aget(decision=decision, index=5)
    assert beat.status == BeatStatus.FAILED
    assert "maybe sent already" not in said(rig)
    assert said(rig).count("hello") == 1
    assert result.sent == 4


@pytest.mark.django_db
def test_an_inbound_message_is_claimed_once_per_bot():
    from bots.host.services import inbound_claim
    from bots.tests.factories import BotFactory

    sol, luna = BotFactory.create(), BotFactory.create()

    first = inbound_claim(bot_id=sol.pk, platform="discord", message_id="900")
    again = inbound_claim(bot_id=sol.pk, platform="discord", message_id="900")
    other_bot = inbound_claim(bot_id=luna.pk, platform="discord", message_id="900")

    assert (first, again, other_bot) == (True, False, True)


@pytest.mark.django_db(transaction=True)
def test_claims_go_with_the_transcripts_retention_purges():
    from datetime import timedelta

    from django.utils import timezone

    from bots.host.models import InboundClaim
    from bots.host.services import inbound_claim
    from bots.tests.factories import BotFactory
    from memory.services import purge_transcripts
    from memory.tests.factories import TranscriptFactory

    bot = BotFactory.create()
    now = timezone.now()
    for message_id in ("old-1", "old-2"):
        TranscriptFactory.create(message_id=message_id, created_at=now - timedelta(days=40))
        inbound_claim(bot_id=bot.pk, platform="discord", message_id=message_id)
    InboundClaim.objects.update(claimed_at=now - timedelta(days=40))
    TranscriptFactory.create(message_id="new", created_at=now)
    inbound_claim(bot_id=bot.pk, platform="discord", message_id="new")

    purge_transcripts(before=now - timedelta(days=30), batch_size=1)

    assert list(InboundClaim.objects.values_list("message_id", flat=True)) == ["new"]
