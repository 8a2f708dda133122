"""Natural language to validated JSON: ask a model (purpose `extract`) for an object matching a JSON Schema.

Each try asks for JSON only, takes the JSON out of whatever came back (the whole reply, a fenced code
block, or the first object or array in prose or reasoning), and validates it. A reply that is not JSON,
or does not match the schema, is fed back with the exact errors, up to `max_tries` tries in all. The
result is the validated value or a structured error listing every try; gateway failures (budget,
quota, providers down) are raised as their ApplicationErrors, since retrying the parse would not help.

    result = await parse("remind me tomorrow at 9", schema, guild_id="42")
    if result.ok:
        use(result.value)
    else:
        report(result.error.errors)
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from gateway.choices import Purpose
from gateway.client import GATEWAY, ModelClient
from gateway.errors import BadRequest

HISTORY_TURNS = 3
SYSTEM_PROMPT = (
    "You turn the user's message into one JSON value that matches the JSON Schema below. Reply with the "
    "JSON only: no prose, no code fence.\n\nJSON Schema:\n{schema}"
)
INSTRUCTIONS_PROMPT = "\n\nInstructions:\n{instructions}"
RETRY_PROMPT = (
    "Your previous reply could not be used:\n{errors}\nReply again with only the corrected JSON value for the "
    "same message."
)
_FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.DOTALL)


@dataclass(frozen=True)
class ParseAttempt:
    """One try: what the model said and what was wrong with it (empty when it was accepted)."""

    reply: str
    errors: tuple[str, ...]


@dataclass(frozen=True)
class ParseError:
    """Why parsing failed after every try."""

    message: str
    errors: tuple[str, ...]
    attempts: tuple[ParseAttempt, ...]


@dataclass(frozen=True)
class ParseResult:
    """Either `ok` with the validated `value`, or not ok with `error` (the tries and the last errors)."""

    ok: bool
    value: Any = None
    error: ParseError | None = None
    attempts: tuple[ParseAttempt, ...] = ()
    # What the tries cost together, and the model that answered last.
    cost_usd: Decimal = Decimal(0)
    model: str = ""


def extract_json(text: str) -> Any:
    """The JSON value in a reply: the whole text, a fenced block, or the first object or array in it.

    Raises ValueError when there is none.
    """
    stripped = text.strip()
    if not stripped:
        raise ValueError("The reply was empty")
    try:
        return json.loads(stripped)
    except json.JSONDecodeError:
        pass
    for block in _FENCE.findall(stripped):
        try:
            return json.loads(block.strip())
        except json.JSONDecodeError:
            continue
    decoder = json.JSONDecoder()
    for index, char in enumerate(stripped):
        if char in "{[":
            try:
                value, _ = decoder.raw_decode(stripped, index)
            except json.JSONDecodeError:
                continue
            return value
    raise ValueError("The reply held no JSON object or array")


def schema_errors(validator: Draft202012Validator, value: Any) -> list[str]:
    """Each way `value` breaks the schema, as `path: message`, deepest paths first."""
    found = sorted(validator.iter_errors(value), key=lambda error: (-len(error.path), list(map(str, error.path))))
    return [f"{'/'.join(map(str, error.path)) or '(root)'}: {error.message}" for error in found]


def _history_lines(history: Sequence[tuple[str, Any]]) -> list[dict[str, str]]:
    messages: list[dict[str, str]] = []
    for said, parsed in list(history)[-HISTORY_TURNS:]:
        messages.append({"role": "user", "content": said})
        messages.append({"role": "assistant", "content": json.dumps(parsed)})
    return messages


async def parse(
    text: str,
    schema: Mapping[str, Any],
    *,
    history: Sequence[tuple[str, Any]] = (),
    max_tries: int | None = None,
    instructions: str = "",
    bot_id: int | None = None,
    guild_id: str | None = None,
    purpose: str = Purpose.EXTRACT.value,
    max_tokens: int | None = None,
    client: ModelClient = GATEWAY,
) -> ParseResult:
    """Parse `text` into a value valid against `schema`, retrying with the errors fed back.

    `history` is earlier (message, parsed value) pairs, the last few of which give context ("add it too").
    `purpose` is `extract` unless the caller parses for another job (a research subagent's findings).
    """
    tries = int(max_tries if max_tries is not None else settings.DIT_GATEWAY_PARSER_MAX_TRIES)
    if tries < 1:
        raise BadRequest("max_tries must be at least 1")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise BadRequest(f"The schema is not a valid JSON Schema: {exc.message}") from exc
    validator = Draft202012Validator(schema)
    system = SYSTEM_PROMPT.format(schema=json.dumps(schema, indent=2))
    if instructions:
        system += INSTRUCTIONS_PROMPT.format(instructions=instructions)
    messages: list[dict[str, str]] = [{"role": "system", "content": system}, *_history_lines(history)]
    messages.append({"role": "user", "content": text})
    attempts: list[ParseAttempt] = []
    cost, model = Decimal(0), ""
    for _ in range(tries):
        completion = await client.complete(
            purpose=purpose,
            messages=messages,
            bot_id=bot_id,
            guild_id=guild_id,
            max_tokens=max_tokens,
        )
        cost += completion.cost_usd
        model = completion.model or model
        reply = completion.text if completion.text.strip() else (completion.reasoning or "")
        try:
            value = extract_json(reply)
        except ValueError as exc:
            errors = [f"Not valid JSON: {exc}"]
        else:
            errors = schema_errors(validator, value)
            if not errors:
                attempts.append(ParseAttempt(reply=reply, errors=()))
                return ParseResult(ok=True, value=value, attempts=tuple(attempts), cost_usd=cost, model=model)
        attempts.append(ParseAttempt(reply=reply, errors=tuple(errors)))
        messages.append({"role": "assistant", "content": reply})
        messages.append({"role": "user", "content": RETRY_PROMPT.format(errors="\n".join(f"- {e}" for e in errors))})
    last = attempts[-1].errors
    error = ParseError(
        message=f"No valid JSON after {len(attempts)} tries: {'; '.join(last)}",
        errors=last,
        attempts=tuple(attempts),
    )
    return ParseResult(ok=False, error=error, attempts=tuple(attempts), cost_usd=cost, model=model)
