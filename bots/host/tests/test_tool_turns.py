"""A running bot's synthesizer calls memory's tools: offered by the disposition, answered as data, stored with
the decision."""

from __future__ import annotations

import json

from asgiref.sync import sync_to_async

from bots.adapters.local import GUILD
from bots.host.tests.hostkit import make_disposition, make_persona, reply_json
from dispositions.choices import SearchPosture
from dispositions.models import Disposition, DispositionDecision
from dispositions.synthesis import TOOLS_INSTRUCTIONS
from gateway.models import ToolInvocation
from memory.models import GroupLore
from tests.servers.openai_server import Reply, ToolCallSpec


async def persona_searching(posture: str):
    def build():
        persona = make_persona()
        make_disposition(persona, "callback")
        Disposition.objects.filter(slug="callback").update(search_posture=posture)
        GroupLore.objects.create(guild_id=GUILD.id, channel_id="local-c-general", body_text="The ribs saga.", score=1)
        return persona

    return await sync_to_async(build)()


async def test_a_searching_disposition_looks_up_memory_and_stores_the_call_with_its_decision(
    make_rig, gateway_on_openai_server
):
    server = gateway_on_openai_server
    rig = await make_rig(persona=await persona_searching(SearchPosture.CALLBACK_HUNT))
    # The synthesizer's calls (its prompt offers tools); the disposition's research personas answer by default.
    server.queue_when(
        TOOLS_INSTRUCTIONS,
        Reply("", tool_calls=(ToolCallSpec("recall_group", '{"topic": "ribs"}', id="t-1"),)),
        Reply(reply_json("the ribs saga continues")),
    )

    await rig.say("general", "alice", "@dit are we doing ribs again?")

    assert [m.content for m in rig.adapter.bot_messages(rig.adapter.channel("general"))] == ["the ribs saga continues"]
    first, second = [r for r in server.chat_requests if TOOLS_INSTRUCTIONS in r.body["messages"][0]["content"]]
    assert {tool["function"]["name"] for tool in first.body["tools"]} == {
        "memory_search",
        "recall_user",
        "recall_group",
    }
    returned = [json.loads(m["content"]) for m in second.body["messages"] if m["role"] == "tool"]
    assert returned == [
        {
            "tool": "recall_group",
            "ok": True,
            "data": {"lore": [{"kind": "running-joke", "text": "The ribs saga."}], "recent_conversations": []},
        }
    ]
    decision = await DispositionDecision.objects.aget()
    (synthesis,) = decision.outcome["synthesis"]
    assert synthesis["tools"]["stopped"] == "answered"
    assert [call["tool"] for call in synthesis["tools"]["calls"]] == ["recall_group"]
    stored = [row async for row in ToolInvocation.objects.all()]
    assert [(row.tool, row.ok, row.decision_id, row.arguments) for row in stored] == [
        ("recall_group", True, decision.pk, {"topic": "ribs"})
    ]


async def test_a_disposition_that_does_not_search_gets_no_tools(make_rig, gateway_on_openai_server):
    server = gateway_on_openai_server
    rig = await make_rig(persona=await persona_searching(SearchPosture.NONE))
    server.queue_reply(reply_json("sure"))

    await rig.say("general", "alice", "@dit are we doing ribs again?")

    (request,) = server.chat_requests
    assert "tools" not in request.body
    assert not await ToolInvocation.objects.aexists()


def test_tools_go_to_dispositions_that_search_or_state_facts_and_write_words(settings):
    from bots.host.stages.compose import offers_tools
    from dispositions.choices import OutputShape, Voice
    from dispositions.specs import DispositionSpec

    def spec(posture: str, voice: str = Voice.PLAYFUL) -> DispositionSpec:
        return DispositionSpec(
            slug="s",
            reasoning_depth="low",
            context_strategy="live",
            voice=voice,
            output_shape=OutputShape.SINGLE_LINE,
            search_posture=posture,
            risk_appetite="safe",
        )

    assert offers_tools(spec(SearchPosture.CALLBACK_HUNT), OutputShape.SINGLE_LINE)
    assert offers_tools(spec(SearchPosture.NONE, Voice.FACT_DROP), OutputShape.MULTI_LINE)
    assert not offers_tools(spec(SearchPosture.NONE), OutputShape.SINGLE_LINE)
    assert not offers_tools(spec(SearchPosture.BROAD_SCAN), OutputShape.REACT_ONLY)
    settings.DIT_SYNTH_TOOLS = False
    assert not offers_tools(spec(SearchPosture.CALLBACK_HUNT), OutputShape.SINGLE_LINE)
