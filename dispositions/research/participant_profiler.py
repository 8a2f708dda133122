"""The participant-profiler: the dossiers of the people in the conversation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dispositions.choices import ResearchPersona
from dispositions.research.render import LINE_MAX_CHARS, finding, items
from dispositions.research.types import ResearchPersonaDef
from memory.context import ContextItem, ContextScope
from memory.context.gathering import dossier_items, live_items, people_of
from memory.context.items import within_budget

BUDGET = 900
LIVE_LINES = 8


def reads(scope: ContextScope) -> Sequence[ContextItem]:
    """The dossiers of everyone present, speaking, or spoken about in the last few messages."""
    live = live_items(scope, LIVE_LINES)
    return within_budget(dossier_items(scope, people_of(scope, live)), BUDGET)


def render(payload: Mapping[str, Any]) -> list[str]:
    """One line per person."""
    return [
        finding(f"{p['name']}: {p['notes']}", extra=p.get("careful") and f"careful: {p['careful']}")
        for p in items(payload, "people")
    ]


PERSONA = ResearchPersonaDef(
    name=ResearchPersona.PARTICIPANT_PROFILER,
    prompt=(
        "You know the people in this chat. From their dossiers, say for up to 5 of the people in this "
        "conversation what is worth knowing right now: preferences, running bits, recent vibes, and under "
        '"careful" anything that would sting (sensitivities, what is off limits). Use only what the dossiers '
        "show; an empty list is a fine answer."
    ),
    schema={
        "type": "object",
        "required": ["people"],
        "properties": {
            "people": {
                "type": "array",
                "maxItems": 5,
                "items": {
                    "type": "object",
                    "required": ["name", "notes"],
                    "properties": {
                        "name": {"type": "string", "minLength": 1, "maxLength": 80},
                        "notes": {"type": "string", "minLength": 1, "maxLength": LINE_MAX_CHARS},
                        "careful": {"type": "string", "maxLength": 200},
                    },
                },
            }
        },
    },
    reads=reads,
    render=render,
)
