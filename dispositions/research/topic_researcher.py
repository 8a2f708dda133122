"""The topic-researcher: the transcript archive on what is being talked about."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dispositions.choices import ResearchPersona
from dispositions.research.render import finding, finding_schema, items
from dispositions.research.types import ResearchPersonaDef
from memory.context import ContextItem, ContextScope
from memory.context.gathering import search_items, topic_of

LAYERS = frozenset({"archive"})
BUDGET = 900


def reads(scope: ContextScope) -> Sequence[ContextItem]:
    """memory_search of the archive on the topic, each hit with the lines around it."""
    return search_items(scope, topic_of(scope), k=8, layers=LAYERS, neighbours=1, token_budget=BUDGET)


def render(payload: Mapping[str, Any]) -> list[str]:
    """One line per piece of history."""
    return [finding(h["text"], quote=h.get("quote"), extra=h.get("who")) for h in items(payload, "history")]


PERSONA = ResearchPersonaDef(
    name=ResearchPersona.TOPIC_RESEARCHER,
    prompt=(
        "You read the group's archive on the topic being discussed. Pick up to 5 pieces of substantive "
        "history: what was said or decided about it before, by whom, with the original words when they matter. "
        "Use only what the archive shows; an empty list is a fine answer."
    ),
    schema=finding_schema(key="history", max_items=5, extra="who"),
    reads=reads,
    render=render,
)
