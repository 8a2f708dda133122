"""The memory-archeologist: epochs and highlights for callbacks, parallels and "you said this before"."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dispositions.choices import ResearchPersona
from dispositions.research.render import finding, finding_schema, items
from dispositions.research.types import ResearchPersonaDef
from memory.context import ContextItem, ContextScope
from memory.context.gathering import epoch_items, search_items, topic_of
from memory.context.items import within_budget

LAYERS = frozenset({"highlight", "fact", "epoch"})
BUDGET = 900


def reads(scope: ContextScope) -> Sequence[ContextItem]:
    """Highlights, facts and epochs on the topic (memory_search), then the latest epochs."""
    found = search_items(scope, topic_of(scope), k=6, layers=LAYERS, token_budget=BUDGET * 2 // 3)
    return within_budget([*found, *epoch_items(scope, limit=3)], BUDGET)


def render(payload: Mapping[str, Any]) -> list[str]:
    """One line per callback."""
    return [finding(c["text"], quote=c.get("quote"), extra=c.get("when")) for c in items(payload, "callbacks")]


PERSONA = ResearchPersonaDef(
    name=ResearchPersona.MEMORY_ARCHEOLOGIST,
    prompt=(
        "You dig through what this group said and did before. From the memory given, pick up to 4 callbacks: "
        "something someone said before that this moment echoes, a parallel with an earlier conversation, a "
        '"you said this before". Quote the original words when memory has them, and say when it was. Use only '
        "what the memory shows; an empty list is a fine answer."
    ),
    schema=finding_schema(key="callbacks", max_items=4, extra="when"),
    reads=reads,
    render=render,
)
