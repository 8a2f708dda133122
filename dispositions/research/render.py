"""Payload values as material lines: one line each, whitespace collapsed, cut to length.

A payload is the model's words about memory, so it is data: collapsing it to single lines means nothing in
it can open a new section of the synthesizer's prompt (a `## output shape` of its own) or pose as a label.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

LINE_MAX_CHARS = 400


def one_line(value: Any, limit: int = LINE_MAX_CHARS) -> str:
    """`value` as text on one line, without leading markup, at most `limit` characters."""
    text = " ".join(str(value).split()).lstrip("#>-* ")
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def items(payload: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    """The objects of a payload's list `key` (the schema has checked their shape)."""
    return [item for item in payload.get(key, []) if isinstance(item, Mapping)]


def finding(text: Any, *, quote: Any = None, extra: Any = None) -> str:
    """`- text ("quote", extra)`, the parts that are there."""
    line = f"- {one_line(text)}"
    notes = [f'"{one_line(quote, 200)}"' if quote else "", one_line(extra, 80) if extra else ""]
    notes = [note for note in notes if note]
    return f"{line} ({', '.join(notes)})" if notes else line


def finding_schema(*, key: str, max_items: int, min_items: int = 0, extra: str = "") -> dict[str, Any]:
    """A payload of findings under `key`: each a short text, maybe a verbatim quote and one more field."""
    properties: dict[str, Any] = {
        "text": {"type": "string", "minLength": 1, "maxLength": LINE_MAX_CHARS},
        "quote": {"type": "string", "maxLength": 200},
    }
    if extra:
        properties[extra] = {"type": "string", "maxLength": 80}
    return {
        "type": "object",
        "required": [key],
        "properties": {
            key: {
                "type": "array",
                "minItems": min_items,
                "maxItems": max_items,
                "items": {"type": "object", "required": ["text"], "properties": properties},
            }
        },
    }
