"""End to end: the real discord.py client (through the Discord adapter) and the real host, against the local
Discord and the local OpenAI-compatible server, with a real database and Redis.

The router's choice is forced by the dispositions the persona can choose, never by mocking the router.
`manage.py runbot` is run as a child process for the draining and bad-token tests.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from bots.adapters.discord import DiscordAdapter
from bots.host.choices import BeatStatus
from bots.host.config import HostConfig
from bots.host.host import Host, HostBot
from bots.host.models import BotAccount, OutboundBeat
from bots.host.tests.hostkit import FAST, make_disposition, make_persona, react_json, reply_json, runbot_env
from bots.models import Bot
from bots.tests.conftest import MANAGE, ROOT
from dispositions.choices import InterruptionHandling, OutputShape
from dispositions.models import DispositionDecision

pytestmark = pytest.mark.integration


@dataclass
class DiscordRig:
    host: Host
    adapter: DiscordAdapter
    guild: Any
    bot: Bot

    def channel(self, name: str = "general") -> Any:
        return self.guild.channel(name)

    def user(self, name: str) -> Any:
        return self.guild.user(name)


async def persona_with(*dispositions: tuple[str, str, float]):
    def build():
        persona = make_persona()
        for slug, shape, weight in dispositions:
            make_disposition(persona, slug, shape=shape, weight=weight)
        return persona

    return await sync_to_async(build)()


@pytest.fixture
async def discord_rig(local_discord, host_db, host_redis, host_redis_prefix):
    """Start the real host on a Discord adapter connected to the local Discord."""
    started: list[DiscordRig] = []

    async def build(*, persona, **config: Any) -> DiscordRig:
        guild = local_discord.add_guild("Test Guild", channels=("general", "random"), members=("alice", "bob", "jen"))
        bot = await sync_to_async(Bot.objects.create)(slug=f"bot-{uuid.uuid4().hex[:8]}", name="Dit")
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
            config=HostConfig.build(**{**FAST, **config}),
            adapter=adapter,
            redis=host_redis,
            redis_prefix=host_redis_prefix,
        )
        await host.prepare()
        await adapter.start(host)
        rig = DiscordRig(host=host, adapter=adapter, guild=guild, bot=bot)
        started.append(rig)
        return rig

    yield build
    for rig in started:
        await rig.host.drain(0)
        await rig.adapter.stop()


def mention(local_discord, text: str) -> str:
    return f"<@{local_discord.bot.id}> {text}"


def bot_texts(local_discord, channel) -> list[str]:
    return [m["content"] for m in local_discord.sent_messages(channel.id)]


async def test_a_mention_is_answered(local_discord, discord_rig, gateway_on_openai_server):
    rig = await discord_rig(persona=await persona_with(("quick-react", OutputShape.SINGLE_LINE, 1.0)))
    gateway_on_openai_server.queue_reply(reply_json("hey alice"))

    local_discord.post_message(rig.channel().id, rig.user("alice"), mention(local_discord, "how's it going?"))

    await local_discord.wait_for(lambda: bot_texts(local_discord, rig.channel()), timeout=10)
    await rig.host.idle()
    assert bot_texts(local_discord, rig.channel()) == ["hey alice"]
    decision = await DispositionDecision.objects.aget()
    assert decision.outcome["end"] == "spoke"
    assert decision.router_inputs["context"]["address_kind"] == "mention"
    # The runtime recorded the bot's own platform account: none of our bots ever answers it.
    account = await BotAccount.objects.aget(bot=rig.bot)
    assert (account.platform, account.user_id) == ("discord", local_discord.bot.id)


async def test_a_burst_arrives_as_several_messages_in_order(local_discord, discord_rig, gateway_on_openai_server):
    rig = await discord_rig(persona=await persona_with(("settle-debate", OutputShape.BURST, 1.0)))
    gateway_on_openai_server.queue_reply(reply_json("hmm", "ok so the thing about that is", "actually wait"))

    local_discord.post_message(rig.channel().id, rig.user("alice"), mention(local_discord, "settle this"))

    await local_discord.wait_for(lambda: len(bot_texts(local_discord, rig.channel())) == 3, timeout=10)
    assert bot_texts(local_discord, rig.channel()) == ["hmm", "ok so the thing about that is", "actually wait"]
    # The typing indicator is shown between beats (discord.py posts it when typing starts).
    typing = [call for call in local_discord.typing_calls if call == (rig.channel().id, local_discord.bot.id)]
    assert len(typing) >= 2


async def test_a_reaction_is_added(local_discord, discord_rig, gateway_on_openai_server):
    rig = await discord_rig(persona=await persona_with(("vibing", OutputShape.REACT_ONLY, 1.0)))
    gateway_on_openai_server.queue_reply(react_json("🔥"))

    posted = local_discord.post_message(rig.channel().id, rig.user("alice"), mention(local_discord, "I shipped it"))

    expected = (rig.channel().id, posted["id"], local_discord.bot.id, "🔥")
    await local_discord.wait_for(lambda: expected in local_discord.reactions, timeout=10)
    assert bot_texts(local_discord, rig.channel()) == []


async def test_a_mid_burst_interruption_aborts_the_rest(local_discord, discord_rig, gateway_on_openai_server):
    rig = await discord_rig(
        persona=await persona_with(
            ("settle-debate", OutputShape.BURST, 1.0), ("silent-listen", OutputShape.SILENT, 100.0)
        )
    )
    gateway_on_openai_server.queue_reply(reply_json("so basically", "bob was wrong", "and here's why"))
    # The platform holds the typing indicator before the second beat back for a moment (a 429 it asks us to
    # wait out): the human speaks while the bot is typing. The first typing request (while composing) goes through.
    local_discord.inject_rest_fault("POST /channels/*/typing", 429, count=1, retry_after=0.6, skip=1)

    local_discord.post_message(rig.channel().id, rig.user("alice"), mention(local_discord, "what happened?"))
    await local_discord.wait_for(lambda: bot_texts(local_discord, rig.channel()), timeout=10)
    local_discord.post_message(rig.channel().id, rig.user("bob"), "hold on, that is not what happened at all")

    first = await _first_decision_when_done()
    await rig.host.idle()
    assert first.interruption == InterruptionHandling.ABORTED
    assert bot_texts(local_discord, rig.channel()) == ["so basically"]
    statuses = [b.status async for b in OutboundBeat.objects.filter(decision=first).order_by("index")]
    assert statuses == [BeatStatus.SENT, BeatStatus.CANCELLED, BeatStatus.CANCELLED]


async def _first_decision_when_done() -> DispositionDecision:
    import asyncio

    for _ in range(1000):
        decision = await DispositionDecision.objects.order_by("id").afirst()
        if decision is not None and decision.outcome.get("end"):
            return decision
        await asyncio.sleep(0.01)
    raise AssertionError("the turn did not finish")


async def test_a_429_storm_and_gateway_reconnects_lose_no_message_and_double_no_reply(
    local_discord, discord_rig, gateway_on_openai_server
):
    rig = await discord_rig(persona=await persona_with(("quick-react", OutputShape.SINGLE_LINE, 1.0)))
    general = rig.channel()
    alice = rig.user("alice")
    for n in range(4):
        gateway_on_openai_server.queue_reply(reply_json(f"answer {n}"))
    # Sends are rate limited again and again, and one send's answer is lost after Discord created the message.
    local_discord.inject_rest_fault("POST /channels/*/messages", 429, count=3, retry_after=0.05)
    local_discord.inject_rest_fault("POST /channels/*/messages", 500, count=1, after_commit=True, skip=3)

    local_discord.post_message(general.id, alice, mention(local_discord, "question 0?"))
    await local_discord.wait_for(lambda: len(bot_texts(local_discord, general)) == 1, timeout=15)

    # A dropped connection resumes, and the resume replays two dispatches the client already had.
    local_discord.disconnect(resume=True, replay_overlap=2)
    local_discord.post_message(general.id, alice, mention(local_discord, "question 1?"))
    await local_discord.wait_for(lambda: len(bot_texts(local_discord, general)) == 2, timeout=15)

    # A lost session: messages posted meanwhile are never dispatched and come back through history.
    with local_discord.gateway_held():
        local_discord.send_invalid_session(resumable=False)
        local_discord.post_message(general.id, alice, mention(local_discord, "question 2?"))
        local_discord.post_message(general.id, rig.user("bob"), mention(local_discord, "question 3?"))
    await local_discord.wait_for(lambda: len(bot_texts(local_discord, general)) == 4, timeout=20)
    await rig.host.idle()

    assert sorted(bot_texts(local_discord, general)) == [f"answer {n}" for n in range(4)]
    inbound = [d.inbound_message_id async for d in DispositionDecision.objects.all()]
    assert len(inbound) == len(set(inbound)) == 4
    assert len(local_discord.gateway_records("identify")) == 2


# `manage.py runbot` in a child process.


def _read_until(process: subprocess.Popen[str], mark: str, output: list[str]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        output.append(line)
        if mark in line:
            return
    raise AssertionError("the bot ended before saying " + repr(mark) + ":\n" + "".join(output))


def test_sigterm_during_a_turn_drains_it_and_exits_zero(
    runbot_world, local_discord, gateway_on_openai_server, host_redis_prefix
):
    guild = local_discord.add_guild("Test Guild", channels=("general",), members=("alice",))
    general = guild.channel("general")
    # The model takes a moment: long enough for SIGTERM to land mid-turn, well within the grace period.
    gateway_on_openai_server.queue_reply(reply_json("finished after all"), delay=1.0)
    env = runbot_env(
        local_discord,
        gateway_on_openai_server,
        DISCORD_TOKEN=local_discord.bot_token,
        DIT_HOST_REDIS_PREFIX=host_redis_prefix,
    )
    process = subprocess.Popen(
        [sys.executable, str(MANAGE), "runbot", "e2e"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    try:
        _read_until(process, "waiting for SIGTERM or SIGINT", output)
        local_discord.post_message(general.id, guild.user("alice"), mention(local_discord, "still there?"))
        local_discord.wait_for_sync(lambda: gateway_on_openai_server.chat_requests, timeout=15)

        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=30)
        output.append(rest)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    text = "".join(output)
    assert process.returncode == 0, text
    assert "bot e2e stopping on SIGTERM: draining" in text
    assert "drained: 1 turns finished, 0 cancelled" in text
    assert bot_texts(local_discord, general) == ["finished after all"]
    assert local_discord.bot_token not in text


def test_a_bad_token_fails_fast_with_a_clear_message_and_exit_code_2(
    runbot_world, local_discord, gateway_on_openai_server
):
    env = runbot_env(local_discord, gateway_on_openai_server, DISCORD_TOKEN="not-a-valid-token-at-all")

    result = subprocess.run(
        [sys.executable, str(MANAGE), "runbot", "e2e"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2, result.stderr
    assert "Discord rejected the bot token" in result.stderr
    assert "not-a-valid-token-at-all" not in result.stderr + result.stdout
    assert local_discord.gateway_log == []


def test_login_failures_are_retried_until_discord_answers(runbot_world, local_discord, gateway_on_openai_server):
    local_discord.add_guild("Test Guild")
    local_discord.inject_rest_fault("GET /users/@me", 502, count=2, drop_connection=True)
    env = runbot_env(
        local_discord,
        gateway_on_openai_server,
        DISCORD_TOKEN=local_discord.bot_token,
        STARTUP_RETRY_BASE_SECONDS="0.05",
        STARTUP_RETRY_MAX_SECONDS="0.2",
    )
    process = subprocess.Popen(
        [sys.executable, str(MANAGE), "runbot", "e2e"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    try:
        _read_until(process, "waiting for SIGTERM or SIGINT", output)
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=30)
        output.append(rest)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    text = "".join(output)
    assert process.returncode == 0, text
    # discord.py itself retries some dropped connections; what reaches the runner is backed off and retried.
    assert text.count("could not connect to discord") >= 1
    assert "retrying in" in text
    assert "stopping on SIGINT" in text


def _runbot(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(MANAGE), "runbot", "e2e"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_a_message_stored_just_before_the_bot_is_killed_is_answered_once_after_the_restart(
    runbot_world, local_discord, gateway_on_openai_server, host_redis_prefix
):
    guild = local_discord.add_guild("Test Guild", channels=("general",), members=("alice",))
    general = guild.channel("general")
    # The first process dies while the model is still thinking; the second one gets an answer at once.
    gateway_on_openai_server.queue_reply(reply_json("never sent"), delay=8)
    gateway_on_openai_server.queue_reply(reply_json("answered after the restart"))
    env = runbot_env(
        local_discord,
        gateway_on_openai_server,
        DISCORD_TOKEN=local_discord.bot_token,
        DIT_HOST_REDIS_PREFIX=host_redis_prefix,
    )
    output: list[str] = []
    first = _runbot(env)
    try:
        _read_until(first, "waiting for SIGTERM or SIGINT", output)
        posted = local_discord.post_message(general.id, guild.user("alice"), mention(local_discord, "you there?"))
        # The message is stored and claimed before the model is asked; the kill lands during that call.
        local_discord.wait_for_sync(lambda: gateway_on_openai_server.chat_requests, timeout=15)
        first.kill()
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert bot_texts(local_discord, general) == []

    second = _runbot(env)
    try:
        _read_until(second, "waiting for SIGTERM or SIGINT", output)
        local_discord.wait_for_sync(lambda: bot_texts(local_discord, general), timeout=20)
        second.send_signal(signal.SIGTERM)
        rest, _ = second.communicate(timeout=30)
        output.append(rest)
    finally:
        if second.poll() is None:
            second.kill()
            second.wait()

    text = "".join(output)
    assert second.returncode == 0, text
    assert bot_texts(local_discord, general) == ["answered after the restart"]
    decisions = list(DispositionDecision.objects.filter(inbound_message_id=posted["id"]))
    assert [d.outcome["end"] for d in decisions] == ["spoke"]
    assert "took up 1 messages a stopped process owed a turn" in text


async def _wait_for(predicate, what: str, timeout: float = 10.0):
    import asyncio

    for _ in range(int(timeout / 0.02)):
        value = await predicate()
        if value:
            return value
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


async def test_reactions_are_stored_once_across_a_resume_and_emitted_as_events(
    local_discord, discord_rig, gateway_on_openai_server
):
    from memory.models import Reaction, Transcript
    from reactor.models import ReactorEvent

    rig = await discord_rig(persona=await persona_with(("silent-listen", OutputShape.SILENT, 1.0)))
    resumes = []
    on_resumed = rig.host.on_resumed

    async def counting_resumes():
        resumes.append(1)
        await on_resumed()

    rig.host.on_resumed = counting_resumes
    channel = rig.channel()
    posted = local_discord.post_message(channel.id, rig.user("alice"), "we shipped it")
    await _wait_for(lambda: Transcript.objects.filter(message_id=posted["id"]).aexists(), "the message to be stored")
    bob, jen = rig.user("bob"), rig.user("jen")
    local_discord.add_reaction(channel.id, posted["id"], bob, "🔥")
    local_discord.remove_reaction(channel.id, posted["id"], bob, "🔥")
    local_discord.add_reaction(channel.id, posted["id"], bob, "🔥")
    local_discord.add_reaction(channel.id, posted["id"], jen, "🎉")

    def reaction_events():
        return ReactorEvent.objects.filter(kind__startswith="reaction.").order_by("id")

    await _wait_for(lambda: _count(reaction_events(), 4), "four reaction events")
    # The next RESUME replays the four reaction dispatches the client already had.
    local_discord.disconnect(resume=True, replay_overlap=4)
    await _wait_for(lambda: _true(bool(resumes)), "the session to resume")
    await rig.host.idle()

    kinds = [e.kind async for e in reaction_events()]
    assert kinds == ["reaction.added", "reaction.removed", "reaction.added", "reaction.added"]
    rows = {(r.user_id, r.emoji): (r.present, r.changes) async for r in Reaction.objects.all()}
    assert rows == {(bob.id, "🔥"): (True, 3), (jen.id, "🎉"): (True, 1)}
    event = await reaction_events().afirst()
    assert (event.payload["message_id"], event.payload["user_id"], event.guild_id) == (
        posted["id"],
        bob.id,
        rig.guild.id,
    )


async def _count(queryset, expected: int) -> bool:
    return await queryset.acount() >= expected


async def _true(value: bool) -> bool:
    return value


async def test_reactions_and_replies_to_the_bots_message_are_recorded_as_its_reception(
    local_discord, discord_rig, gateway_on_openai_server, reactor_stack
):
    from dispositions.choices import ReceptionKind
    from dispositions.models import DecisionReception

    rig = await discord_rig(persona=await persona_with(("quick-react", OutputShape.SINGLE_LINE, 1.0)))
    gateway_on_openai_server.queue_reply(reply_json("rust is fine, mostly"))
    gateway_on_openai_server.queue_reply(reply_json("fair"))
    channel = rig.channel()

    local_discord.post_message(channel.id, rig.user("alice"), mention(local_discord, "is rust any good?"))
    await local_discord.wait_for(lambda: bot_texts(local_discord, channel), timeout=10)
    await rig.host.idle()
    first = await DispositionDecision.objects.aget()
    said = local_discord.sent_messages(channel.id)[0]["id"]
    bob, jen = rig.user("bob"), rig.user("jen")
    local_discord.add_reaction(channel.id, said, bob, "🦀")
    local_discord.post_message(channel.id, jen, "hard disagree", reply_to=said)

    def kinds():
        return DecisionReception.objects.filter(decision=first).values_list("kind", "user_id")

    async def both() -> bool:
        return {row async for row in kinds()} >= {(ReceptionKind.REACTION, bob.id), (ReceptionKind.REPLY, jen.id)}

    await _wait_for(both, "the reaction and the reply to be recorded against the decision", timeout=60)
    reaction = await DecisionReception.objects.aget(decision=first, kind=ReceptionKind.REACTION)
    assert (reaction.message_id, reaction.detail) == (said, {"emoji": "🦀"})
    reply = await DecisionReception.objects.aget(decision=first, kind=ReceptionKind.REPLY)
    assert reply.message_id == said
    assert reply.by_message_id != said
    # Nothing was recorded against the turn that answered jen's reply, whose message nobody touched yet.
    assert not await DecisionReception.objects.exclude(decision=first).aexists()
    await rig.host.idle()
