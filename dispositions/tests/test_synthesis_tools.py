"""The synthesizer with tools: one lookup loop on its first call, none on a retry, all of it on the outcome."""

from __future__ import annotations

import json

import pytest

from dispositions.choices import OutputShape
from dispositions.synthesis import synthesize
from dispositions.tests.test_synthesis import messages, request
from gateway.tools import Tool, ToolLimits, ToolRegistry, ToolScope
from tests.servers.openai_server import ToolCallSpec

pytestmark = pytest.mark.usefixtures("async_db_connections")

SCHEMA = {"type": "object", "properties": {"who": {"type": "string"}}, "required": ["who"]}


def box(asked: list[dict]):
    registry = ToolRegistry()

    def recall(scope, arguments):
        asked.append(arguments)
        return {"said": ["bob: rust is overhyped, again"]}

    registry.register(Tool("recall_user", "What someone said.", SCHEMA, recall))
    return registry.box(["recall_user"], ToolScope(guild_id="g-synth", channel_id="c-1"))


async def test_the_synthesizer_looks_up_once_and_a_retry_for_bad_json_is_offered_no_tools(gateway_on_openai_server):
    server = gateway_on_openai_server
    asked: list[dict] = []
    server.queue_reply("", tool_calls=[ToolCallSpec("recall_user", '{"who": "bob"}')])
    server.queue_reply('{"messages": [')
    server.queue_reply(messages("bob has said it twice now"))

    result = await synthesize(request(OutputShape.SINGLE_LINE, tools=box(asked), tool_limits=ToolLimits(max_steps=2)))

    assert result.ok
    assert [b.text for b in result.beats] == ["bob has said it twice now"]
    assert asked == [{"who": "bob"}]
    assert result.calls == 3
    first, second, retry = server.chat_requests
    assert "tools" in first.body
    assert "## tools" in first.body["messages"][0]["content"]
    assert "tools" in second.body
    assert "tools" not in retry.body
    assert result.outcome()["tools"]["calls"][0]["tool"] == "recall_user"
    assert result.outcome()["tools"]["stopped"] == "answered"
    assert json.loads(second.body["messages"][-1]["content"])["data"] == {"said": ["bob: rust is overhyped, again"]}


async def test_without_tools_the_prompt_and_outcome_say_nothing_of_them(gateway_on_openai_server):
    gateway_on_openai_server.queue_reply(messages("fine"))

    result = await synthesize(request(OutputShape.SINGLE_LINE))

    (only,) = gateway_on_openai_server.chat_requests
    assert "tools" not in only.body
    assert "## tools" not in only.body["messages"][0]["content"]
    assert "tools" not in result.outcome()
