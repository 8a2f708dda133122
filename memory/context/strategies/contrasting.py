"""The `contrasting` strategy: past moments where the people now present disagreed, on similar topics."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q

from memory.choices import ContextStrategyId, LoreKind
from memory.context.gathering import live_items, people_of, scoped, topic_of
from memory.context.items import gap, heading, hit_item, lore_item, within_budget
from memory.context.strategies.time_shifted import _as_hit
from memory.context.types import ContextItem, ContextScope
from memory.embedding.providers import embed_one
from memory.models import ArchiveEntry, GroupLore, Transcript
from memory.moments import DISAGREEMENT
from memory.search import nearest_ids


@dataclass(frozen=True, slots=True)
class ContrastingStrategy:
    """Replies between present people that pushed back, nearest the topic first, and their rivalry lore."""

    k: int = 8
    live_size: int = 10
    budget: int = 1500
    strategy_id: ContextStrategyId = ContextStrategyId.CONTRASTING
    empty_reason: str = "the people here have no recorded disagreement"

    def gather(self, turn: ContextScope) -> Sequence[ContextItem]:
        """Disagreeing replies among the present people (before the live window), and rivalry lore about them."""
        live = live_items(turn, self.live_size)
        # The current speakers: who is present and who spoke in this channel, not everyone active in the guild.
        here = [item for item in live if item.provenance.channel_id == turn.channel_id]
        people = sorted(people_of(turn, here))
        oldest = min((item.created_at for item in live if item.created_at), default=None)
        pushback = [hit_item(_as_hit(row)) for row in self._pushback(turn, people, oldest)]
        rivalries = [
            lore_item(row)
            for row in scoped(GroupLore.objects.filter(kind=LoreKind.RIVALRY), turn).filter(
                Q(subject_user_ids__overlap=people)
            )[:4]
        ]
        if not pushback and not rivalries:
            return within_budget([gap(turn, self.empty_reason), heading(turn, "Now"), *live], self.budget)
        return within_budget(
            [heading(turn, "Where the people here disagreed"), *rivalries, *pushback, heading(turn, "Now"), *live],
            self.budget,
        )

    def _pushback(self, turn: ContextScope, people: list[str], oldest: datetime | None) -> list[ArchiveEntry]:
        """Archived replies by a present person to another that pushed back, nearest the topic (else newest) first."""
        # Replies between these people come from their own index; only those are matched against the words.
        replies = Transcript.objects.filter(reply_to_author_id__in=people, author_id__in=people, author_is_bot=False)
        replies = replies.exclude(reply_to_author_id="").filter(
            content__iregex=DISAGREEMENT.pattern.replace(r"\b", r"\y")
        )
        rows = scoped(ArchiveEntry.objects.all(), turn).filter(transcript__in=replies.values("pk"))
        if oldest is not None:
            rows = rows.filter(said_at__lt=oldest)
        loaded = rows.defer("embedding", "search_vector")
        topic = topic_of(turn)
        if not topic.strip():
            return list(loaded.order_by("-said_at")[: self.k])
        ids = nearest_ids(rows, embed_one(topic), self.k)
        found = loaded.in_bulk(ids)
        return [found[pk] for pk in ids if pk in found]
