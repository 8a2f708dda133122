"""A command registry: intents with their JSON Schemas and handlers, dispatched from parsed messages.

Features register what they understand; the parser is given the registry's combined schema, so the
model must name a known `intent` and fill in that intent's fields; `dispatch` checks the value again
and calls the intent's handler.

    registry = CommandRegistry()
    registry.register("remind", {"type": "object", "properties": {"when": {"type": "string"}},
                                 "required": ["when"]}, handle_remind)
    outcome = await registry.handle("remind me at 9", guild_id="42", channel_id="7")
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from dit_project.errors import ApplicationError, ConfigurationError
from gateway.parser import ParseResult, parse, schema_errors

Handler = Callable[..., Any | Awaitable[Any]]
INTENT_KEY = "intent"


class UnknownCommand(ApplicationError):
    """A parsed value names no registered intent."""

    code = "unknown_command"
    status = 400


class CommandNotUnderstood(ApplicationError):
    """The message could not be parsed into any registered command."""

    code = "command_not_understood"
    status = 422


@dataclass(frozen=True)
class Command:
    """One registered intent."""

    intent: str
    schema: Mapping[str, Any]
    handler: Handler
    validator: Draft202012Validator


@dataclass(frozen=True)
class Dispatched:
    """What handling a message produced: the parse and the handler's return value."""

    parsed: ParseResult
    intent: str
    result: Any


class CommandRegistry:
    """Intents, their schemas and handlers; one registry per feature area or bot."""

    def __init__(self) -> None:
        self._commands: dict[str, Command] = {}

    def register(self, intent: str, schema: Mapping[str, Any], handler: Handler) -> None:
        """Add an intent; its schema describes the fields of a parsed command (the `intent` key is added)."""
        if intent in self._commands:
            raise ConfigurationError(f"The intent {intent!r} is registered twice")
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            raise ConfigurationError(
                f"The schema of intent {intent!r} is not a valid JSON Schema: {exc.message}"
            ) from exc
        self._commands[intent] = Command(intent, schema, handler, Draft202012Validator(schema))

    @property
    def intents(self) -> list[str]:
        """Registered intents, in registration order."""
        return list(self._commands)

    def schema(self) -> dict[str, Any]:
        """One JSON Schema for every registered command: a known `intent`, then that intent's own schema."""
        return {
            "type": "object",
            "properties": {INTENT_KEY: {"enum": self.intents}},
            "required": [INTENT_KEY],
            "allOf": [
                {"if": {"properties": {INTENT_KEY: {"const": intent}}}, "then": dict(command.schema)}
                for intent, command in self._commands.items()
            ],
        }

    async def dispatch(self, parsed: Mapping[str, Any], **context: Any) -> Any:
        """Call the handler of `parsed["intent"]` with the parsed value and `context`; returns what it returns."""
        intent = parsed.get(INTENT_KEY) if isinstance(parsed, Mapping) else None
        command = self._commands.get(intent) if isinstance(intent, str) else None
        if command is None:
            known = ", ".join(self.intents) or "none"
            raise UnknownCommand(f"No command is registered for intent {intent!r}; registered: {known}")
        errors = schema_errors(command.validator, dict(parsed))
        if errors:
            raise UnknownCommand(f"The {command.intent} command is malformed: {'; '.join(errors)}")
        result = command.handler(dict(parsed), **context)
        if inspect.isawaitable(result):
            result = await result
        return result

    async def handle(
        self,
        text: str,
        *,
        history: Sequence[tuple[str, Any]] = (),
        max_tries: int | None = None,
        bot_id: int | None = None,
        guild_id: str | None = None,
        **context: Any,
    ) -> Dispatched:
        """Parse a message against every registered command and dispatch it; CommandNotUnderstood if it fails."""
        parsed = await parse(
            text, self.schema(), history=history, max_tries=max_tries, bot_id=bot_id, guild_id=guild_id
        )
        if not parsed.ok or parsed.error is not None:
            message = parsed.error.message if parsed.error else "the message was not understood"
            raise CommandNotUnderstood(message, errors=list(parsed.error.errors if parsed.error else ()))
        result = await self.dispatch(parsed.value, **context)
        return Dispatched(parsed=parsed, intent=parsed.value[INTENT_KEY], result=result)
