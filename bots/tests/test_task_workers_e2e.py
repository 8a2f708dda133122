"""End to end: a task worker killed mid model call is run again and posts its result once.

Real parts all the way: the host (the real discord.py client through the Discord adapter) against the local
Discord, the local model server, a Celery worker and the reactor's dispatcher in child processes on a Redis
of their own, and the embedded PostgreSQL. The worker is SIGKILLed while the model is still answering its
first call; the trigger's lease runs out, the dispatcher sends the task again, a second worker runs it
(attempt 2), and the channel gets the acknowledgement and exactly one result.
"""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from asgiref.sync import sync_to_async
from channels_redis.core import RedisChannelLayer

from bots.adapters.discord import DiscordAdapter
from bots.choices import TaskStatus
from bots.host.config import HostConfig
from bots.host.host import Host, HostBot
from bots.host.tests.hostkit import FAST, make_disposition, make_persona, reply_json
from bots.host.tests.test_task_turns import PARSER, parsed
from bots.inbox import TurnInbox
from bots.models import Bot, TaskRun
from bots.task_workers import TASK_TRIGGER
from reactor.choices import DeliveryStatus, TriggerStatus
from reactor.models import Delivery, Trigger
from reactor.tests import probe
from reactor.tests.stack import ReactorStack
from tests.servers.openai_server import Reply

pytestmark = pytest.mark.integration

# The worker's system prompt says so; the parser's and the synthesizer's do not.
WORKER = "working in the background"
LEASE_SECONDS = 3
RESULT = "The ferry strike: crews out since Monday, talks resume Friday, the 7:40 is cancelled all week."


def _start_stack(folder, base_url: str) -> ReactorStack:
    probe.ensure_tables()
    stack = ReactorStack(folder)
    stack.env.update(
        {
            # The worker's model calls go to this test's local model server.
            "OPENAI_BASE_URL": base_url,
            "OPENAI_API_KEY": "sk-local-test",
            "DIT_GATEWAY_URL": "",
            "DIT_GATEWAY_REDIS_PREFIX": f"test-task-e2e-{uuid.uuid4().hex[:8]}",
            # A dead worker's task is run again this soon after it was claimed.
            "DIT_TASK_WORKER_LEASE_SECONDS": str(LEASE_SECONDS),
        }
    )
    try:
        stack.start_worker()
        stack.start_dispatcher()
    except BaseException:
        print(stack.logs())
        stack.stop()
        raise
    return stack


def _world():
    persona = make_persona()
    make_disposition(persona, "answer")
    return persona, Bot.objects.create(slug=f"bot-{uuid.uuid4().hex[:8]}", name="Dit")


async def _posted(stack: ReactorStack, delivery_id: uuid.UUID, timeout: float = 120.0) -> None:
    """Wait until the bot reported the result's delivery done (reads on the test's own database thread)."""
    for _ in range(int(timeout / 0.2)):
        delivery = await Delivery.objects.filter(pk=delivery_id).afirst()
        if delivery is not None and delivery.status == DeliveryStatus.DONE:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"the result was not posted in {timeout}s\n{stack.logs()}")


def _worker_called(server) -> bool:
    return any(WORKER in json.dumps(r.body["messages"]) for r in server.chat_requests)


async def test_a_task_worker_killed_mid_call_runs_again_and_posts_its_result_once(
    local_discord, gateway_on_openai_server, host_db, host_redis, host_redis_prefix, tmp_path
):
    server = gateway_on_openai_server
    server.queue_when(PARSER, parsed("task", goal="Research the ferry strike and write it up"))
    # The first worker's call is still being answered when the worker dies; the second worker's is answered.
    server.queue_when(WORKER, Reply("never heard", delay=15), Reply(RESULT))
    server.queue_reply(reply_json("on it, I'll post it here"))
    stack = await sync_to_async(_start_stack)(tmp_path, server.base_url)
    layer = RedisChannelLayer(hosts=[stack.redis.url])
    guild = local_discord.add_guild("Test Guild", channels=("general",), members=("alice",))
    general = guild.channel("general")
    persona, bot = await sync_to_async(_world)()
    adapter = DiscordAdapter(
        token=local_discord.bot_token,
        api_base=local_discord.api_base,
        gateway_url=local_discord.gateway_url,
        guild_ready_timeout=0.05,
        identify_delay=0,
        retry_backoff=0.01,
        ready_timeout=10,
    )
    host = Host(
        bot=HostBot(bot_id=bot.pk, slug=bot.slug, name=bot.name, persona_id=persona.pk),
        config=HostConfig.build(**FAST),
        adapter=adapter,
        redis=host_redis,
        redis_prefix=host_redis_prefix,
        scheduled_turns=TurnInbox(bot_id=bot.pk, layer=layer, task_results=True),
    )
    try:
        await host.prepare()
        await adapter.start(host)
        asked = local_discord.post_message(
            general.id, guild.user("alice"), f"<@{local_discord.bot.id}> research the ferry strike and write it up"
        )
        await local_discord.wait_for(lambda: local_discord.sent_messages(general.id), timeout=30, what="the ack")
        await asyncio.to_thread(stack.wait_for, lambda: _worker_called(server), timeout=90, what="the worker's call")
        task = await TaskRun.objects.aget()
        # The claim is committed while the loop runs: visible in admin, and kept when the worker dies.
        assert (task.status, task.attempts) == (TaskStatus.RUNNING, 1)

        await asyncio.to_thread(stack.workers[0].kill)
        await asyncio.to_thread(stack.start_worker)

        await _posted(stack, task.trigger_id)
        trigger = await Trigger.objects.aget(kind=TASK_TRIGGER)
    finally:
        await host.drain(0)
        await adapter.stop()
        await layer.close_pools()
        await sync_to_async(stack.stop)()

    texts = [m["content"] for m in local_discord.sent_messages(general.id)]
    assert texts == ["on it, I'll post it here", RESULT]
    result = local_discord.sent_messages(general.id)[1]
    assert result["message_reference"]["message_id"] == asked["id"]
    await task.arefresh_from_db()
    assert (task.status, task.attempts, task.result_text) == (TaskStatus.DONE, 2, RESULT)
    assert task.posted_message_id == result["id"]
    assert (trigger.status, trigger.attempts) == (TriggerStatus.DONE, 2)
    assert sum(1 for r in server.chat_requests if WORKER in json.dumps(r.body["messages"])) == 2
