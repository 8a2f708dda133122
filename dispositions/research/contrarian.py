"""The contrarian: the case against the obvious reply."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dispositions.choices import ResearchPersona
from dispositions.research.render import LINE_MAX_CHARS, finding, one_line
from dispositions.research.types import ResearchPersonaDef
from memory.context import ContextItem, ContextScope
from memory.context.gathering import live_items

LIVE_LINES = 10


def reads(scope: ContextScope) -> Sequence[ContextItem]:
    """The last messages: the obvious reply is the one they invite."""
    return live_items(scope, LIVE_LINES)


def render(payload: Mapping[str, Any]) -> list[str]:
    """The case against, then one line per point."""
    lines = [f"- against the obvious reply: {one_line(payload['case_against'])}"]
    lines += [finding(point) for point in payload.get("points", []) if isinstance(point, str)]
    return lines


PERSONA = ResearchPersonaDef(
    name=ResearchPersona.CONTRARIAN,
    prompt=(
        "Say what the obvious reply to this moment would be, then argue against it: the strongest case for "
        'the other side, in "case_against", and up to 3 supporting points. A real reason, not contrarianism '
        "for sport."
    ),
    schema={
        "type": "object",
        "required": ["case_against"],
        "properties": {
            "case_against": {"type": "string", "minLength": 1, "maxLength": LINE_MAX_CHARS},
            "points": {
                "type": "array",
                "maxItems": 3,
                "items": {"type": "string", "minLength": 1, "maxLength": LINE_MAX_CHARS},
            },
        },
    },
    reads=reads,
    render=render,
    max_tokens=400,
)
