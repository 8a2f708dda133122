"""Checks every argument of a chat or embeddings call, before any budget or quota is reserved.

A value of the wrong type or out of range is a BadRequest naming the parameter (an OpenAI-style 400 at
the HTTP edge), never a 500 and never a reservation: a negative `max_tokens` would otherwise hold a
negative amount and free room that calls in flight hold. Parameters the gateway does not know pass
through to the provider unchanged (providers have their own extensions).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from gateway.errors import BadRequest

# Larger than any model's output window; past it a request is a mistake, not a long answer.
MAX_OUTPUT_TOKENS = 1_000_000
MAX_STOP_SEQUENCES = 4
MAX_EMBEDDING_DIMENSIONS = 65_536
ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _integer(low: int, high: int) -> Callable[[str, Any], None]:
    def check(name: str, value: Any) -> None:
        if not _is_int(value) or not low <= value <= high:
            raise BadRequest(f"{name} must be an integer from {low} to {high}", param=name)

    return check


def _number(low: float, high: float) -> Callable[[str, Any], None]:
    def check(name: str, value: Any) -> None:
        if not _is_number(value) or not low <= value <= high:
            raise BadRequest(f"{name} must be a number from {low:g} to {high:g}", param=name)

    return check


def _kind(expected: type | tuple[type, ...], noun: str) -> Callable[[str, Any], None]:
    def check(name: str, value: Any) -> None:
        if not isinstance(value, expected) or (expected is not bool and isinstance(value, bool)):
            raise BadRequest(f"{name} must be {noun}", param=name)

    return check


def _stop(name: str, value: Any) -> None:
    if isinstance(value, str):
        return
    if (
        not isinstance(value, list)
        or len(value) > MAX_STOP_SEQUENCES
        or not all(isinstance(item, str) for item in value)
    ):
        raise BadRequest(f"{name} must be a string or a list of at most {MAX_STOP_SEQUENCES} strings", param=name)


def _tools(name: str, value: Any) -> None:
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        raise BadRequest(f"{name} must be a list of tool objects", param=name)


def _tool_choice(name: str, value: Any) -> None:
    if not isinstance(value, str | Mapping):
        raise BadRequest(f"{name} must be a string (none, auto, required) or an object", param=name)


def _logit_bias(name: str, value: Any) -> None:
    if not isinstance(value, Mapping) or not all(_is_number(bias) and -100 <= bias <= 100 for bias in value.values()):
        raise BadRequest(f"{name} must map token ids to numbers from -100 to 100", param=name)


CHAT_CHECKS: dict[str, Callable[[str, Any], None]] = {
    "max_tokens": _integer(1, MAX_OUTPUT_TOKENS),
    "max_completion_tokens": _integer(1, MAX_OUTPUT_TOKENS),
    "temperature": _number(0, 2),
    "top_p": _number(0, 1),
    "presence_penalty": _number(-2, 2),
    "frequency_penalty": _number(-2, 2),
    "seed": _integer(-(2**63), 2**63 - 1),
    "stop": _stop,
    "response_format": _kind(Mapping, 'an object such as {"type": "json_object"}'),
    "tools": _tools,
    "tool_choice": _tool_choice,
    "parallel_tool_calls": _kind(bool, "true or false"),
    "logit_bias": _logit_bias,
    "logprobs": _kind(bool, "true or false"),
    "top_logprobs": _integer(0, 20),
    "user": _kind(str, "a string"),
    "reasoning_effort": _kind(str, "a string (low, medium, high)"),
}


def check_messages(messages: Any) -> list[dict[str, Any]]:
    """Chat messages as the OpenAI protocol wants them: a non-empty list of objects with a known role."""
    if not isinstance(messages, list | tuple) or not messages:
        raise BadRequest("messages must be a non-empty list of {role, content} objects", param="messages")
    checked = []
    for position, message in enumerate(messages):
        if not isinstance(message, Mapping) or message.get("role") not in ROLES:
            raise BadRequest(
                f"messages[{position}] must be an object with a role ({', '.join(sorted(ROLES))})", param="messages"
            )
        content = message.get("content")
        if content is not None and not isinstance(content, str | list):
            raise BadRequest(
                f"messages[{position}].content must be a string, a list of parts or null", param="messages"
            )
        checked.append(dict(message))
    return checked


def check_chat_params(params: Mapping[str, Any]) -> None:
    """Raise BadRequest for the first known chat parameter whose value is wrong (None means unset)."""
    for name, check in CHAT_CHECKS.items():
        value = params.get(name)
        if value is not None:
            check(name, value)


def check_embedding_params(params: Mapping[str, Any]) -> None:
    """Raise BadRequest for a wrong embeddings parameter."""
    dimensions = params.get("dimensions")
    if dimensions is not None:
        _integer(1, MAX_EMBEDDING_DIMENSIONS)("dimensions", dimensions)
    user = params.get("user")
    if user is not None:
        _kind(str, "a string")("user", user)
