import pytest
from asgiref.sync import async_to_sync

from gateway.errors import BadRequest
from gateway.models import UsageEvent
from gateway.parser import extract_json, parse

pytestmark = pytest.mark.django_db

REMINDER = {
    "type": "object",
    "properties": {"task": {"type": "string"}, "minutes": {"type": "integer", "minimum": 1}},
    "required": ["task", "minutes"],
    "additionalProperties": False,
}


def run_parse(text, schema=REMINDER, **kwargs):
    return async_to_sync(parse)(text, schema, **kwargs)


def last_user_message(request):
    return request.body["messages"][-1]["content"]


def test_the_parser_recovers_from_broken_json_then_a_schema_violation(gateway_on_openai_server):
    server = gateway_on_openai_server
    server.queue_reply('{"task": "tea", "minutes": ')
    server.queue_reply('{"task": "tea", "minutes": "ten"}')
    server.queue_reply('{"task": "tea", "minutes": 10}')

    result = run_parse("remind me about tea in ten minutes", guild_id="g")

    assert result.ok
    assert result.value == {"task": "tea", "minutes": 10}
    assert [attempt.errors != () for attempt in result.attempts] == [True, True, False]
    second, third = server.chat_requests[1], server.chat_requests[2]
    assert "Not valid JSON" in last_user_message(second)
    assert "minutes: 'ten' is not of type 'integer'" in last_user_message(third)
    assert {event.purpose for event in UsageEvent.objects.all()} == {"extract"}


def test_the_parser_returns_a_structured_error_after_the_retry_limit(gateway_on_openai_server):
    for reply in ["no json here", '{"task": "x"}', '{"task": "x", "minutes": 0}']:
        gateway_on_openai_server.queue_reply(reply)
    gateway_on_openai_server.queue_reply('{"task": "never asked", "minutes": 5}')

    result = run_parse("remind me", max_tries=3)

    assert not result.ok
    assert result.value is None
    assert len(result.error.attempts) == 3
    assert result.error.errors == ("minutes: 0 is less than the minimum of 1",)
    assert "3 tries" in result.error.message
    assert len(gateway_on_openai_server.chat_requests) == 3


def test_the_schema_and_history_are_given_to_the_model(gateway_on_openai_server):
    gateway_on_openai_server.queue_reply('{"task": "walk", "minutes": 5}')

    run_parse("and the dog too", history=[("walk in 5", {"task": "walk", "minutes": 5})])

    messages = gateway_on_openai_server.chat_requests[0].body["messages"]
    assert '"minutes"' in messages[0]["content"]
    assert [message["role"] for message in messages] == ["system", "user", "assistant", "user"]
    assert messages[1]["content"] == "walk in 5"


def test_json_is_found_in_the_reasoning_when_the_content_is_empty(gateway_on_openai_server):
    gateway_on_openai_server.queue_reply("", reasoning='Thinking... the answer is {"task": "nap", "minutes": 20}')

    result = run_parse("nap for 20")

    assert result.value == {"task": "nap", "minutes": 20}


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ('{"a": 1}', {"a": 1}),
        ('Sure!\n```json\n{"a": 2}\n```\nDone.', {"a": 2}),
        ("```\n[1, 2]\n```", [1, 2]),
        ('I think {"a": {"b": [3]}} fits, not {this}', {"a": {"b": [3]}}),
        ('<think>maybe {oops</think> {"a": 4}', {"a": 4}),
    ],
)
def test_extract_json_finds_the_value_in_fences_prose_and_reasoning(reply, expected):
    assert extract_json(reply) == expected


@pytest.mark.parametrize("reply", ["", "no braces at all", "{broken"])
def test_extract_json_says_when_there_is_no_json(reply):
    with pytest.raises(ValueError, match="JSON|empty"):
        extract_json(reply)


def test_an_invalid_schema_is_refused_before_any_call(gateway_on_openai_server):
    with pytest.raises(BadRequest, match="not a valid JSON Schema"):
        run_parse("x", schema={"type": "nonsense"})

    assert gateway_on_openai_server.requests == []
