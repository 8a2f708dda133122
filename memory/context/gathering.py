"""What several strategies gather alike: the live window, dossiers, lore, core blocks, searches, the topic.

Each function reads within the turn's scope (a guild turn reads guild rows only, a DM turn its own DM rows);
the Boundary still checks every item afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TypeVar

from django.db.models import Q, QuerySet
from django.utils import timezone

from memory.choices import CoreBlockScope, Visibility
from memory.context.items import core_item, dossier_item, epoch_item, hit_item, lore_item
from memory.context.messages import message_item
from memory.context.types import ContextItem, ContextScope
from memory.live import DEFAULT_CURRENT_CHANNEL_SHARE, DEFAULT_LIVE_SIZE, live_window
from memory.models import CoreBlock, Dossier, Epoch, GroupLore, ScopedMemory
from memory.search import SearchQuery, memory_search
from memory.selectors import channel_topic

_Row = TypeVar("_Row", bound=ScopedMemory)


def now_of(turn: ContextScope) -> datetime:
    """The turn's moment."""
    return turn.now or timezone.now()


def topic_of(turn: ContextScope) -> str:
    """What the turn is about: its topic, else the channel's recent words."""
    if turn.topic.strip():
        return turn.topic
    return channel_topic(channel_id=turn.channel_id, now=now_of(turn)).text


def scoped(rows: QuerySet[_Row], turn: ContextScope) -> QuerySet[_Row]:
    """Rows a turn may read: its guild's guild-visible rows, or its own DM rows."""
    if turn.is_dm:
        return rows.filter(
            Q(channel_id=turn.channel_id) | Q(subject_user_id=turn.requester_id), visibility=Visibility.DM, guild_id=""
        )
    return rows.filter(guild_id=turn.guild_id, visibility=Visibility.GUILD)


def live_items(turn: ContextScope, size: int) -> list[ContextItem]:
    """The live window of `size` messages as items (from the turn's own read of the transcript when it has one)."""
    if turn.recent is not None and turn.now is None and size <= DEFAULT_LIVE_SIZE:
        recent = turn.recent.window(size=size, current_channel_share=DEFAULT_CURRENT_CHANNEL_SHARE)
        return [message_item(message) for message in recent]
    window = live_window(
        turn.guild_id,
        current_channel_id=turn.channel_id,
        size=size,
        current_channel_share=DEFAULT_CURRENT_CHANNEL_SHARE,
        before=turn.now,
    )
    return [message_item(message) for message in window]


def people_of(turn: ContextScope, live: Iterable[ContextItem] = ()) -> set[str]:
    """Who is around: the present users, the requester, and everyone the live lines are by or about."""
    people = set(turn.present_user_ids) | {turn.requester_id}
    for item in live:
        people |= set(item.provenance.subject_user_ids)
    return people


def dossier_items(turn: ContextScope, people: Iterable[str]) -> list[ContextItem]:
    """The dossiers of these people, most active first."""
    rows = scoped(Dossier.objects.all(), turn).filter(subject_user_id__in=list(people)).order_by("-message_count")
    return [dossier_item(row) for row in rows[:12]]


def lore_items(turn: ContextScope, limit: int = 8) -> list[ContextItem]:
    """The group's strongest lore."""
    rows = scoped(GroupLore.objects.all(), turn).order_by("-score", "-updated_at")
    return [lore_item(row) for row in rows[:limit]]


def core_items(turn: ContextScope, people: Iterable[str] = ()) -> list[ContextItem]:
    """Pinned blocks of the guild, the channel and the people present (persona blocks belong to the prompt)."""
    rows = scoped(CoreBlock.objects.exclude(scope=CoreBlockScope.PERSONA), turn).filter(
        Q(scope=CoreBlockScope.GUILD)
        | Q(scope=CoreBlockScope.CHANNEL, channel_id=turn.channel_id)
        | Q(scope=CoreBlockScope.USER, subject_user_id__in=list(people))
    )
    return [core_item(row) for row in rows.order_by("scope", "label")]


def epoch_items(turn: ContextScope, limit: int = 6) -> list[ContextItem]:
    """The latest summarized epochs, newest first."""
    rows = scoped(Epoch.objects.exclude(summary_text=""), turn).filter(end_at__lte=now_of(turn)).order_by("-end_at")
    return [epoch_item(row) for row in rows[:limit]]


def search_items(
    turn: ContextScope,
    text: str,
    *,
    k: int,
    layers: frozenset[str],
    person_ids: tuple[str, ...] = (),
    exclude_channel_ids: tuple[str, ...] = (),
    since: datetime | None = None,
    until: datetime | None = None,
    include_bots: bool = True,
    neighbours: int = 1,
    token_budget: int | None = None,
) -> list[ContextItem]:
    """memory_search in the turn's scope, as items."""
    if not text.strip():
        return []
    query = SearchQuery(
        text=text,
        guild_id=turn.guild_id,
        channel_id=turn.channel_id,
        is_dm=turn.is_dm,
        requester_id=turn.requester_id,
        now=now_of(turn),
        k=k,
        layers=layers,
        person_ids=person_ids,
        exclude_channel_ids=exclude_channel_ids,
        since=since,
        until=until or now_of(turn),
        include_bots=include_bots,
        neighbours=neighbours,
        token_budget=token_budget,
    )
    return [hit_item(hit) for hit in memory_search(query).hits]
