"""A goal-shaped request addressed to the bot: recognised (cue, then the parser), acknowledged in the turn,
delegated to a task worker through the reactor; the turn itself never runs the work."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from asgiref.sync import sync_to_async
from channels.layers import channel_layers, get_channel_layer

from bots.choices import TaskStatus
from bots.host.goals import INSTRUCTIONS, goal_cue
from bots.host.stages.delegate import ACK_NOTE
from bots.host.tests.hostkit import make_disposition, make_persona, reply_json
from bots.inbox import TurnInbox
from bots.models import TaskRun
from bots.task_workers import TASK_TRIGGER, _hand_over
from dispositions.choices import SearchPosture
from dispositions.models import Disposition, DispositionDecision
from reactor.choices import DeliveryStatus, TriggerStatus
from reactor.models import Delivery, Trigger
from reactor.tests.running import run_inline
from tests.servers.openai_server import Fault, Reply

# The parser's calls carry its instructions; everything else the server answers is the synthesizer.
PARSER = "Decide what it is."
assert PARSER in INSTRUCTIONS


@pytest.fixture
def own_layer(settings):
    """A Channels layer on the real Redis under a prefix of this test's own."""
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [settings.REDIS_URL], "prefix": f"test-task-{uuid.uuid4().hex[:10]}"},
        }
    }
    channel_layers.backends.clear()
    yield get_channel_layer()
    channel_layers.backends.clear()


@pytest.mark.parametrize(
    ("text", "cue"),
    [
        ("research the ferry strike and write it up", "write it up"),
        ("design a poll for the book club", "design"),
        ("can you draft a plan for saturday's hike?", "draft"),
        ("hey, please compare the two venues we looked at", "compare"),
        ("look into why the build keeps failing", "look into"),
        ("summarise last week's thread about the move", "summarise"),
    ],
)
def test_goal_verbs_opening_a_request_with_an_object_are_a_cue(text, cue):
    assert goal_cue(text) == cue


@pytest.mark.parametrize(
    "text",
    [
        "what's the plan tonight?",
        "plan?",
        "i love doing research",
        "write it",
        "design matters",
        "lol",
        "",
    ],
)
def test_chat_without_a_goal_verb_and_object_is_no_cue(text):
    assert goal_cue(text) is None


async def persona_answering(posture: str = SearchPosture.NONE):
    def build():
        persona = make_persona()
        make_disposition(persona, "answer")
        Disposition.objects.filter(slug="answer").update(search_posture=posture)
        return persona

    return await sync_to_async(build)()


def parsed(kind: str, goal: str = "", question: str = "") -> Reply:
    return Reply(json.dumps({"kind": kind, "goal": goal, "question": question}))


def synthesizer_requests(server):
    return [r for r in server.chat_requests if PARSER not in json.dumps(r.body["messages"])]


async def test_a_task_is_acknowledged_in_the_turn_and_delegated_with_its_trigger(make_rig, gateway_on_openai_server):
    server = gateway_on_openai_server
    # A searching disposition would offer tools; a turn that delegates must not use them.
    rig = await make_rig(persona=await persona_answering(SearchPosture.CALLBACK_HUNT))
    server.queue_when(PARSER, parsed("task", goal="Research the ferry strike and write a summary"))
    server.queue_reply(reply_json("on it, I'll post it here"))

    await rig.say("general", "alice", "@dit research the ferry strike and write it up")

    assert [m.content for m in rig.adapter.bot_messages(rig.adapter.channel("general"))] == ["on it, I'll post it here"]
    # One parser call and one synthesizer call, nothing more: the work is not done inside the turn.
    assert len(server.chat_requests) == 2
    (synth,) = synthesizer_requests(server)
    assert "tools" not in synth.body
    prompt = json.dumps(synth.body["messages"])
    assert json.dumps(ACK_NOTE.format(goal="Research the ferry strike and write a summary"))[1:-1] in prompt
    decision = await DispositionDecision.objects.aget()
    task = await TaskRun.objects.aget()
    assert decision.outcome["task"] == {
        "kind": "task",
        "cue": "write it up",
        "goal": "Research the ferry strike and write a summary",
        "task_id": task.pk,
    }
    assert (task.status, task.goal, task.decision_id, task.bot_id) == (
        TaskStatus.QUEUED,
        "Research the ferry strike and write a summary",
        decision.pk,
        rig.bot.pk,
    )
    assert (task.max_steps, task.max_seconds, float(task.max_cost_usd)) == (6, 120.0, 0.25)
    assert task.request_message_id == decision.inbound_message_id
    trigger = await Trigger.objects.aget(kind=TASK_TRIGGER)
    assert trigger.pk == task.trigger_id
    assert trigger.payload == {"task_id": task.pk}
    assert trigger.status == TriggerStatus.PENDING


async def test_an_ambiguous_request_gets_the_clarifying_question_and_no_task(make_rig, gateway_on_openai_server):
    server = gateway_on_openai_server
    rig = await make_rig(persona=await persona_answering())
    question = "A poll about the next book, or about when to meet?"
    server.queue_when(PARSER, parsed("ambiguous", question=question))
    server.queue_reply(reply_json("next book or meeting date?"))

    await rig.say("general", "alice", "@dit design a poll for the book club")

    (synth,) = synthesizer_requests(server)
    assert question in json.dumps(synth.body["messages"])
    assert not await TaskRun.objects.aexists()
    assert not await Trigger.objects.filter(kind=TASK_TRIGGER).aexists()
    decision = await DispositionDecision.objects.aget()
    assert decision.outcome["task"] == {"kind": "ambiguous", "cue": "design", "question": question}


async def test_a_request_the_parser_reads_as_chat_is_an_ordinary_turn(make_rig, gateway_on_openai_server):
    server = gateway_on_openai_server
    rig = await make_rig(persona=await persona_answering())
    server.queue_when(PARSER, parsed("chat"))
    server.queue_reply(reply_json("saturday, 10am"))

    await rig.say("general", "alice", "@dit plan for saturday is still on, right?")

    (synth,) = synthesizer_requests(server)
    assert "You have taken it on" not in json.dumps(synth.body["messages"])
    assert not await TaskRun.objects.aexists()
    decision = await DispositionDecision.objects.aget()
    assert decision.outcome["task"] == {"kind": "chat", "cue": "plan"}


async def test_parser_output_that_never_validates_is_a_clear_error_and_no_task(make_rig, gateway_on_openai_server):
    server = gateway_on_openai_server
    rig = await make_rig(persona=await persona_answering())
    server.queue_when(PARSER, *[Reply('{"kind": "homework"}')] * 3)
    server.queue_reply(reply_json("hm, let me think"))

    await rig.say("general", "alice", "@dit research the ferry strike and write it up")

    assert [m.content for m in rig.adapter.bot_messages(rig.adapter.channel("general"))] == ["hm, let me think"]
    assert len([r for r in server.chat_requests if PARSER in json.dumps(r.body["messages"])]) == 3
    assert not await TaskRun.objects.aexists()
    decision = await DispositionDecision.objects.aget()
    task = decision.outcome["task"]
    assert task["kind"] == "error"
    assert task["error"].startswith("the request could not be read as a task: No valid JSON after 3 tries")
    assert "'homework' is not one of" in task["error"]


async def test_a_parser_the_gateway_cannot_ask_is_an_error_reading_and_the_turn_goes_on(
    make_rig, gateway_on_openai_server
):
    server = gateway_on_openai_server
    rig = await make_rig(persona=await persona_answering())
    server.queue_when(PARSER, Fault(400, message="no such model"))
    server.queue_reply(reply_json("hm, let me think"))

    await rig.say("general", "alice", "@dit research the ferry strike and write it up")

    assert [m.content for m in rig.adapter.bot_messages(rig.adapter.channel("general"))] == ["hm, let me think"]
    assert not await TaskRun.objects.aexists()
    decision = await DispositionDecision.objects.aget()
    assert decision.outcome["task"]["kind"] == "error"
    assert decision.outcome["task"]["error"].startswith("the parser could not be asked: ")


async def test_a_message_without_a_goal_cue_costs_no_parser_call(make_rig, gateway_on_openai_server):
    server = gateway_on_openai_server
    rig = await make_rig(persona=await persona_answering())
    server.queue_reply(reply_json("sure thing"))

    await rig.say("general", "alice", "@dit how was your weekend?")

    assert len(server.chat_requests) == 1
    decision = await DispositionDecision.objects.aget()
    assert "task" not in decision.outcome


async def test_with_task_workers_off_a_goal_is_an_ordinary_turn(make_rig, gateway_on_openai_server):
    server = gateway_on_openai_server
    rig = await make_rig(persona=await persona_answering(), task_workers=False)
    server.queue_reply(reply_json("on it"))

    await rig.say("general", "alice", "@dit research the ferry strike and write it up")

    assert len(server.chat_requests) == 1
    assert not await TaskRun.objects.aexists()


async def _delivered(delivery_id: uuid.UUID) -> Delivery:
    for _ in range(500):
        delivery = await Delivery.objects.aget(pk=delivery_id)
        if delivery.status == DeliveryStatus.DONE:
            return delivery
        await asyncio.sleep(0.02)
    raise AssertionError(f"delivery {delivery_id} was not finished")


async def test_a_task_result_is_posted_once_in_reply_to_the_request(make_rig, gateway_on_openai_server, own_layer):
    server = gateway_on_openai_server
    rig = await make_rig(persona=await persona_answering())
    rig.host._inbox = TurnInbox(bot_id=rig.bot.pk, layer=own_layer, task_results=True)
    channel = rig.adapter.channel("general")
    server.queue_when(PARSER, parsed("task", goal="Design a poll for the book club"))
    server.queue_reply(reply_json("on it"))
    asked = await rig.say("general", "alice", "@dit design a poll for the book club")
    task = await TaskRun.objects.aget()
    # The worker's loop, run here as the reactor's worker would run it.
    server.queue_reply("Poll: which book next? 1) Dune 2) Emma 3) Ulysses")
    await sync_to_async(run_inline)(task.trigger_id)
    rig.host._inbox_task = asyncio.create_task(rig.host._take_scheduled_turns())

    first = await _delivered(task.trigger_id)
    # The same result handed over again (a second delivery of the task): taken, but never posted twice.
    await task.arefresh_from_db()
    again = await Trigger.objects.acreate(kind=TASK_TRIGGER, due_at=task.created_at, status=TriggerStatus.DONE)
    await sync_to_async(_hand_over)(task, again.pk)
    second = await _delivered(again.pk)

    said = rig.adapter.bot_messages(channel)
    assert [m.content for m in said] == ["on it", "Poll: which book next? 1) Dune 2) Emma 3) Ulysses"]
    assert said[1].reply_to is not None
    assert said[1].reply_to.message.id == asked.message.id
    await task.arefresh_from_db()
    assert task.posted_at is not None
    assert task.posted_message_id == said[1].message.id
    assert first.outcome == {"task_id": task.pk, "message_id": said[1].message.id, "end": "posted"}
    assert second.outcome == {"task_id": task.pk, "message_id": "", "end": "already posted"}
