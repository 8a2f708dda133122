"""The comedian: two or three comedic angles on the moment, with the group's running jokes at hand."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dispositions.choices import ResearchPersona
from dispositions.research.render import finding, finding_schema, items
from dispositions.research.types import ResearchPersonaDef
from memory.context import ContextItem, ContextScope
from memory.context.gathering import live_items, lore_items
from memory.context.items import within_budget

BUDGET = 700
LIVE_LINES = 8


def reads(scope: ContextScope) -> Sequence[ContextItem]:
    """The group's lore (running jokes, nicknames) and the last few messages."""
    return within_budget([*lore_items(scope, limit=5), *live_items(scope, LIVE_LINES)], BUDGET)


def render(payload: Mapping[str, Any]) -> list[str]:
    """One line per angle."""
    return [finding(a["text"], quote=a.get("quote")) for a in items(payload, "angles")]


PERSONA = ResearchPersonaDef(
    name=ResearchPersona.COMEDIAN,
    prompt=(
        "You are the writers' room. Brainstorm 2 or 3 comedic angles on this moment: a twist, an "
        "exaggeration, a running joke of the group that fits. Each angle in a sentence, with a sample line "
        'under "quote" if one comes to you. Never cruel, never about what someone shared in confidence.'
    ),
    schema=finding_schema(key="angles", min_items=2, max_items=3),
    reads=reads,
    render=render,
    max_tokens=400,
)
