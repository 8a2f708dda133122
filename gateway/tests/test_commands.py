import json
from types import SimpleNamespace

import pytest
from asgiref.sync import async_to_sync

from dit_project.errors import ConfigurationError
from gateway.commands import CommandNotUnderstood, CommandRegistry, UnknownCommand

REMIND = {"type": "object", "properties": {"when": {"type": "string"}}, "required": ["when"]}
PIN = {"type": "object", "properties": {"message_id": {"type": "string"}}, "required": ["message_id"]}


@pytest.fixture
def commands():
    calls = []
    registry = CommandRegistry()

    def remind(parsed, **context):
        calls.append(("remind", parsed, context))
        return f"reminding at {parsed['when']}"

    async def pin(parsed, **context):
        calls.append(("pin", parsed, context))
        return "pinned"

    registry.register("remind", REMIND, remind)
    registry.register("pin", PIN, pin)
    return SimpleNamespace(registry=registry, calls=calls)


def dispatch(registry, parsed, **context):
    return async_to_sync(registry.dispatch)(parsed, **context)


def test_dispatch_calls_the_handler_of_the_intent_with_the_context(commands):
    assert dispatch(commands.registry, {"intent": "remind", "when": "9am"}, channel_id="7") == "reminding at 9am"
    assert dispatch(commands.registry, {"intent": "pin", "message_id": "42"}) == "pinned"

    assert commands.calls == [
        ("remind", {"intent": "remind", "when": "9am"}, {"channel_id": "7"}),
        ("pin", {"intent": "pin", "message_id": "42"}, {}),
    ]


def test_an_unknown_intent_names_the_registered_ones(commands):
    with pytest.raises(UnknownCommand, match="remind, pin"):
        dispatch(commands.registry, {"intent": "dance"})

    assert commands.calls == []


def test_a_command_missing_its_fields_is_not_dispatched(commands):
    with pytest.raises(UnknownCommand, match="'when' is a required property"):
        dispatch(commands.registry, {"intent": "remind"})

    assert commands.calls == []


def test_an_intent_cannot_be_registered_twice(commands):
    with pytest.raises(ConfigurationError, match="twice"):
        commands.registry.register("pin", PIN, lambda parsed: None)


def test_the_combined_schema_asks_for_the_fields_of_the_named_intent(commands):
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(commands.registry.schema())

    assert validator.is_valid({"intent": "remind", "when": "soon"})
    assert not validator.is_valid({"intent": "remind", "message_id": "1"})
    assert not validator.is_valid({"intent": "dance"})


@pytest.mark.django_db
def test_handle_parses_a_message_and_dispatches_it(commands, gateway_on_openai_server):
    gateway_on_openai_server.queue_reply('{"intent": "remind"}')
    gateway_on_openai_server.queue_reply(json.dumps({"intent": "remind", "when": "noon"}))

    outcome = async_to_sync(commands.registry.handle)("remind me at noon", guild_id="g", channel_id="3")

    assert (outcome.intent, outcome.result) == ("remind", "reminding at noon")
    assert len(outcome.parsed.attempts) == 2
    assert commands.calls[0][2] == {"channel_id": "3"}


@pytest.mark.django_db
def test_handle_raises_when_the_message_is_not_understood(commands, gateway_on_openai_server):
    for _ in range(2):
        gateway_on_openai_server.queue_reply('{"intent": "dance"}')

    with pytest.raises(CommandNotUnderstood) as caught:
        async_to_sync(commands.registry.handle)("do a dance", max_tries=2)

    assert caught.value.extra["errors"]
    assert commands.calls == []
