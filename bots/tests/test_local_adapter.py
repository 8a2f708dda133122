"""The local platform: the adapter itself, the chat's line parsing, and `runbot --local` in a terminal."""

from __future__ import annotations

import io
import re
import subprocess
import sys

import pytest
from asgiref.sync import sync_to_async

from bots.adapters.base import InboundMessage, OutputBeat, ReadyEvent
from bots.adapters.local import LocalAdapter
from bots.host.observers import DecisionMade, FollowupScheduled, ScoredOption
from bots.host.tests.hostkit import make_disposition, make_persona, reply_json, runbot_env
from bots.local_chat import LocalChat, parse_line
from bots.tests.conftest import MANAGE, ROOT
from dispositions.choices import OutputShape


class Handler:
    def __init__(self) -> None:
        self.messages: list[InboundMessage] = []
        self.ready: list[ReadyEvent] = []

    async def on_ready(self, event):
        self.ready.append(event)

    async def on_resumed(self): ...

    async def on_message(self, message):
        self.messages.append(message)

    async def on_reaction(self, reaction): ...

    async def on_typing(self, event): ...


# Line parsing.


def test_a_line_names_channel_and_speaker():
    line = parse_line("#general alice: hey @dit what did bob say about rust?", channel="x", speaker="y")
    assert (line.channel, line.speaker, line.text) == ("general", "alice", "hey @dit what did bob say about rust?")


def parts(line):
    return (line.channel, line.speaker, line.text)


def test_channel_and_speaker_carry_over_when_omitted():
    assert parts(parse_line("bob: me too", channel="random", speaker="alice")) == ("random", "bob", "me too")
    assert parts(parse_line("#music anyone?", channel="random", speaker="alice")) == ("music", "alice", "anyone?")
    assert parts(parse_line("just words", channel="random", speaker="alice")) == ("random", "alice", "just words")


def test_a_dm_line_and_the_commands_are_recognised():
    dm = parse_line("/dm alice: a private word", channel="general", speaker="bob")
    assert (dm.dm, dm.speaker, dm.text) == (True, "alice", "a private word")
    assert parse_line("/help", channel="g", speaker="s").command == "help"
    assert parse_line("/quit", channel="g", speaker="s").command == "quit"
    assert parse_line("/dance", channel="g", speaker="s").command == "error"
    assert parse_line("/dm nobody", channel="g", speaker="s").command == "error"


# The adapter.


async def test_posting_delivers_the_message_with_its_mentions():
    adapter = LocalAdapter(bot_name="dit")
    handler = Handler()
    await adapter.start(handler)

    message = await adapter.post("general", "alice", "hey @dit and @bob")

    assert handler.messages == [message]
    assert message.mentioned_user_ids == ("local-bot", "local-u-bob")
    assert message.channel.guild is not None
    assert handler.ready[0].bot_user.id == "local-bot"


async def test_a_beat_is_sent_once_per_idempotency_key_and_echoed_back():
    adapter = LocalAdapter(bot_name="dit")
    handler = Handler()
    await adapter.start(handler)
    general = adapter.channel("general")

    first = await adapter.send(general, OutputBeat(text="hello", idempotency_key="k1"))
    again = await adapter.send(general, OutputBeat(text="hello", idempotency_key="k1"))

    assert first == again
    assert [m.content for m in adapter.bot_messages(general)] == ["hello"]
    assert [m.content for m in handler.messages] == ["hello"]


async def test_history_after_a_message_lists_the_later_ones_oldest_first():
    adapter = LocalAdapter()
    await adapter.start(Handler())
    first = await adapter.post("general", "alice", "one")
    await adapter.post("general", "alice", "two")
    await adapter.post("general", "bob", "three")

    later = await adapter.fetch_history(adapter.channel("general"), after=first.message)

    assert [m.content for m in later] == ["two", "three"]


# The chat, driven through a StringIO against the real host.


async def test_the_chat_shows_the_bots_beats_and_decisions_and_ends_at_the_end_of_input(
    make_rig, gateway_on_openai_server
):
    def build():
        persona = make_persona()
        make_disposition(persona, "quick-react", shape=OutputShape.SINGLE_LINE)
        return persona

    rig = await make_rig(persona=await sync_to_async(build)(), require_mention=True)
    gateway_on_openai_server.queue_reply(reply_json("bob thinks rust is overhyped"))
    gateway_on_openai_server.queue_reply(reply_json("your secret is safe"))
    out = io.StringIO()
    chat = LocalChat(
        rig.adapter,
        stdin=io.StringIO(
            "#random bob: rust is overhyped\n#general alice: hey @dit what did bob say about rust?\n"
            "/dm alice: @dit keep this between us\n/help\n"
        ),
        stdout=out,
    )
    chat.attach(rig.host)

    await chat.run()

    text = out.getvalue()
    assert "#general dit: bob thinks rust is overhyped" in text
    assert "/dm alice dit: your secret is safe" in text
    assert "· decision" in text
    assert "quick-react (single-line) — quick-react" in text
    assert "/dm alice: ..." in text


@pytest.mark.parametrize(
    ("trigger", "previous", "shown"),
    [
        ("reactive", None, "decision 7 in #general: quick-react"),
        ("self_followup", 4, "decision 7 in #general (self-followup of decision 4): quick-react"),
        ("speculative", None, "decision 7 in #general (unprompted): quick-react"),
    ],
)
def test_the_chat_says_what_started_a_turn_nobody_asked_for(trigger, previous, shown):
    out = io.StringIO()
    chat = LocalChat(LocalAdapter(), stdin=io.StringIO(""), stdout=out)
    top = (ScoredOption("quick-react", 1.0, 1.0),)
    event = DecisionMade(7, "c-1", "general", "quick-react", "single-line", "none", top, (), trigger, previous)

    chat.decision_made(event)

    assert shown in out.getvalue()


def test_the_chat_says_when_the_bot_may_come_back_to_a_turn():
    out = io.StringIO()
    chat = LocalChat(LocalAdapter(), stdin=io.StringIO(""), stdout=out)

    chat.followup_scheduled(FollowupScheduled(8, "c-1", "general", "go-deeper", 27.4))

    assert "· decision 8 may be followed up in #general in about 27 s (go-deeper)" in out.getvalue()


async def test_quit_stops_reading_further_lines(make_rig, gateway_on_openai_server):
    rig = await make_rig(persona=await sync_to_async(make_persona)(), require_mention=True)
    chat = LocalChat(rig.adapter, stdin=io.StringIO("/quit\n#general alice: never posted\n"), stdout=io.StringIO())
    chat.attach(rig.host)

    await chat.run()

    assert rig.adapter.messages(rig.adapter.channel("general")) == []


async def test_speaking_as_the_bot_is_refused_with_a_hint(make_rig, gateway_on_openai_server):
    rig = await make_rig(persona=await sync_to_async(make_persona)(), require_mention=True)
    out = io.StringIO()
    chat = LocalChat(rig.adapter, stdin=io.StringIO("#general dit: hello everyone\n"), stdout=out)
    chat.attach(rig.host)

    await chat.run()

    assert rig.adapter.messages(rig.adapter.channel("general")) == []
    assert "dit is the bot's own name: speak as someone else" in out.getvalue()


# `manage.py runbot --local` as a person would use it.


@pytest.mark.integration
def test_runbot_local_chats_in_the_terminal_without_a_discord_token_and_exits_on_eof(
    runbot_world, gateway_on_openai_server, host_redis_prefix
):
    gateway_on_openai_server.queue_reply(reply_json("hi alice, I'm here"))
    env = runbot_env(None, gateway_on_openai_server, DIT_HOST_REDIS_PREFIX=host_redis_prefix)

    result = subprocess.run(
        [sys.executable, str(MANAGE), "runbot", "e2e", "--local"],
        cwd=ROOT,
        env=env,
        input="#general alice: hey @dit are you there?\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "Local chat with Dit" in result.stdout
    assert "#general Dit: hi alice, I'm here" in result.stdout
    assert "· decision" in result.stdout
    # One line about the settings instead of one per setting before the prompt.
    assert re.search(r"^bot e2e: \d+ settings, \d+ not at the manifest's default", result.stdout, re.M)
    assert " setting " not in result.stdout + result.stderr


def test_message_ids_do_not_repeat_across_runs_of_the_local_adapter():
    first, second = LocalAdapter(bot_name="dit"), LocalAdapter(bot_name="dit")

    ids = {first._next_id(), first._next_id(), second._next_id(), second._next_id()}

    assert len(ids) == 4


def test_a_failure_while_handling_a_chat_line_is_reported_and_exits_one(runbot_world, monkeypatch, caplog):
    from io import StringIO

    from bots.host.runner import run_bot
    from bots.runtime import boot_bot

    async def broken_post(self, *args, **kwargs):
        raise RuntimeError("the platform fell over")

    monkeypatch.setattr(LocalAdapter, "post", broken_post)
    booted = boot_bot(slug="e2e")
    out = StringIO()

    code = run_bot(booted, local=True, stdin=StringIO("#general alice: hi @dit\n"), stdout=out)

    assert code == 1
    failure = [r for r in caplog.records if r.getMessage() == "bot e2e: the local chat failed"]
    assert failure
    assert "the platform fell over" in str(failure[0].exc_info[1])


@pytest.mark.parametrize(
    ("first", "second"),
    [("李", "王"), ("Zoë", "Zoé"), ("bob smith", "bob-smith"), ("jen", "jen!"), ("ann", "_61_nn")],
)
def test_local_user_ids_and_their_dm_channels_differ_for_different_names(first, second):
    chat = LocalAdapter(bot_name="dit")

    one, other = chat.user(first), chat.user(second)

    assert one.id != other.id
    assert chat.dm_channel(one).id != chat.dm_channel(other).id
    assert chat.user(first.upper()).id == one.id


def test_a_channel_name_keeps_its_non_ascii_letters_in_a_distinct_id():
    chat = LocalAdapter(bot_name="dit")

    cafe, caf = chat.channel("#café"), chat.channel("#caf")

    assert cafe.id != caf.id
    assert cafe.name == "café"
    assert chat.channel("general").id == "local-c-general"
