"""The `archive-person-deep` strategy: one person's own statements, across time, on the topic."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from memory.choices import ContextStrategyId
from memory.context.gathering import dossier_items, search_items, topic_of
from memory.context.items import heading, within_budget
from memory.context.types import ContextItem, ContextScope

LAYERS = frozenset({"archive", "highlight", "fact"})


@dataclass(frozen=True, slots=True)
class ArchivePersonDeepStrategy:
    """What the focus person (the requester unless named) has said on related topics, and their dossier."""

    k: int = 15
    budget: int = 1800
    strategy_id: ContextStrategyId = ContextStrategyId.ARCHIVE_PERSON_DEEP
    empty_reason: str = "the person in focus has said nothing memory holds on this topic"

    def gather(self, turn: ContextScope) -> Sequence[ContextItem]:
        """Their dossier, then their own words and facts about them nearest the topic."""
        person = turn.focus_user_id or turn.requester_id
        found = search_items(
            turn,
            topic_of(turn) or "anything",
            k=self.k,
            layers=LAYERS,
            person_ids=(person,),
            include_bots=False,
            neighbours=0,
        )
        if not found:
            return []
        return within_budget(
            [heading(turn, f"u:{person}, in their own words"), *dossier_items(turn, [person]), *found], self.budget
        )
