"""Reads of the memory app for other rooms: the router's memory inputs (a primed callback, the channel's topic).

`router_memory_inputs` is what the turn pipeline calls before routing: it gives `callback_material` (0..1, the
router's callback signal) with the highlight or fact that earned it, and the channel's current topic. The
callback-primed strategy reads the same primed row, so what the router saw is what the synthesizer gets.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from django.db.models import QuerySet
from django.utils import timezone
from pgvector.django import CosineDistance

from memory.choices import Visibility
from memory.embedding.minilm import Vectors
from memory.embedding.providers import embed_one
from memory.live import LiveItem
from memory.models import Fact, Highlight, Transcript

_M = TypeVar("_M", Highlight, Fact)

# Bumped when a highlight or fact is added: a host's "this guild has nothing to prime" is then stale.
CALLBACK_STAMP = "memory.callback_rows"
TOPIC_MESSAGES = 8
TOPIC_WINDOW = timedelta(minutes=30)
TOPIC_KEYWORDS = 6
# A callback is something from before: material younger than this is still the live conversation.
CALLBACK_MIN_AGE = timedelta(hours=12)
# Cosine similarity below LOW primes nothing; at HIGH or above the material is as ripe as it gets.
CALLBACK_LOW = 0.35
CALLBACK_HIGH = 0.75
_STOP_TEXT = (
    "the a an and or but if to of in on at for with is are was were be been it its this that these those "
    "i you he she we they me my your our their so just like what who how why when where do does did not "
    "no yes ok okay lol haha yeah yep im i'm it's that's dont don't can can't will would should could "
    "have has had about from there then than too very really get got gonna wanna one all any some more "
    "most out up down over into"
)
_STOPWORDS = frozenset(_STOP_TEXT.split())


@dataclass(frozen=True)
class ChannelTopic:
    """What a channel is talking about right now: its recent human words and their main keywords."""

    text: str
    keywords: tuple[str, ...]
    message_count: int


@dataclass(frozen=True)
class PrimedCallback:
    """A highlight or fact from before that matches the live topic: the callback worth making."""

    layer: str
    row_id: int
    text: str
    subject_user_id: str
    attribution: str
    said_at: datetime
    similarity: float
    source_transcript_ids: tuple[int, ...]


@dataclass(frozen=True)
class RouterMemoryInputs:
    """The router's inputs from memory for one turn."""

    callback_material: float
    primed: PrimedCallback | None
    topic: ChannelTopic


def channel_topic(*, channel_id: str, now: datetime | None = None) -> ChannelTopic:
    """The channel's current topic: its last few human messages of the past half hour, and their keywords."""
    now = now or timezone.now()
    rows = list(
        Transcript.objects.filter(
            channel_id=channel_id, author_is_bot=False, created_at__gte=now - TOPIC_WINDOW, created_at__lte=now
        )
        .order_by("-created_at", "-seq")
        .values_list("content", flat=True)[:TOPIC_MESSAGES]
    )
    rows.reverse()
    return _topic_of(rows)


def topic_from_recent(recent: Sequence[LiveItem], *, now: datetime | None = None) -> ChannelTopic:
    """The channel's topic from messages a turn already read (oldest first): no query of its own."""
    now = now or timezone.now()
    rows = [item.content for item in recent if not item.author_is_bot and now - TOPIC_WINDOW <= item.created_at <= now][
        -TOPIC_MESSAGES:
    ]
    return _topic_of(rows)


def _topic_of(rows: Sequence[str]) -> ChannelTopic:
    words = Counter(
        word
        for content in rows
        for word in re.findall(r"[a-z][a-z'-]{2,}", content.casefold())
        if word not in _STOPWORDS
    )
    keywords = tuple(word for word, _ in words.most_common(TOPIC_KEYWORDS))
    return ChannelTopic(text=" ".join(" ".join(rows).split()), keywords=keywords, message_count=len(rows))


def primed_callback(
    *,
    guild_id: str,
    channel_id: str,
    is_dm: bool,
    requester_id: str,
    text: str,
    now: datetime | None = None,
    vector: Vectors | None = None,
) -> PrimedCallback | None:
    """The highlight or current fact, said at least CALLBACK_MIN_AGE ago, nearest to `text`; None below threshold."""
    if not text.strip():
        return None
    now = now or timezone.now()
    vector = vector if vector is not None else embed_one(text, guild_id=guild_id or None)
    highlights = _scoped(Highlight.objects.all(), guild_id, channel_id, is_dm, requester_id).filter(
        said_at__lt=now - CALLBACK_MIN_AGE
    )
    facts = _scoped(Fact.objects.filter(superseded_at__isnull=True), guild_id, channel_id, is_dm, requester_id).filter(
        recorded_at__lt=now - CALLBACK_MIN_AGE
    )
    candidates = [
        PrimedCallback(
            "highlight",
            row.pk,
            row.raw_text,
            row.subject_user_id,
            row.attribution,
            row.said_at,
            1.0 - float(getattr(row, "distance", 1.0)),
            tuple(row.source_transcript_ids),
        )
        for row in _nearest(highlights, vector)
    ] + [
        PrimedCallback(
            "fact",
            fact.pk,
            fact.statement,
            fact.subject_user_id,
            "",
            fact.valid_from,
            1.0 - float(getattr(fact, "distance", 1.0)),
            tuple(fact.source_transcript_ids),
        )
        for fact in _nearest(facts, vector)
    ]
    best = max(candidates, key=lambda candidate: candidate.similarity, default=None)
    if best is None or best.similarity < CALLBACK_LOW:
        return None
    return best


def callback_strength(primed: PrimedCallback | None) -> float:
    """The router's `callback_material` for a primed row: 0 below CALLBACK_LOW, 1 at CALLBACK_HIGH and above."""
    if primed is None:
        return 0.0
    return max(0.0, min(1.0, (primed.similarity - CALLBACK_LOW) / (CALLBACK_HIGH - CALLBACK_LOW)))


def has_callback_material(*, guild_id: str, channel_id: str, is_dm: bool, requester_id: str) -> bool:
    """Whether any highlight or current fact in this scope could be primed (one cheap query)."""
    highlights = _scoped(Highlight.objects.all(), guild_id, channel_id, is_dm, requester_id)
    facts = _scoped(Fact.objects.filter(superseded_at__isnull=True), guild_id, channel_id, is_dm, requester_id)
    return bool(
        highlights.filter(embedding__isnull=False)
        .values("pk")[:1]
        .union(facts.filter(embedding__isnull=False).values("pk")[:1], all=True)
    )


def router_memory_inputs(
    *,
    guild_id: str,
    channel_id: str,
    is_dm: bool,
    requester_id: str,
    message_text: str = "",
    now: datetime | None = None,
    topic: ChannelTopic | None = None,
) -> RouterMemoryInputs:
    """Callback material (with the primed row) and the channel's topic, for the router of this turn.

    A caller that already read the channel passes its `topic` (see `topic_from_recent`).
    """
    topic = topic if topic is not None else channel_topic(channel_id=channel_id, now=now)
    probe = " ".join(part for part in (message_text, topic.text) if part)[-1000:]
    primed = primed_callback(
        guild_id=guild_id, channel_id=channel_id, is_dm=is_dm, requester_id=requester_id, text=probe, now=now
    )
    return RouterMemoryInputs(callback_material=callback_strength(primed), primed=primed, topic=topic)


def _scoped(rows: QuerySet[_M], guild_id: str, channel_id: str, is_dm: bool, requester_id: str) -> QuerySet[_M]:
    if is_dm:
        return rows.filter(visibility=Visibility.DM, guild_id="", channel_id=channel_id) | rows.filter(
            visibility=Visibility.DM, guild_id="", subject_user_id=requester_id
        )
    return rows.filter(guild_id=guild_id, visibility=Visibility.GUILD)


def _nearest(rows: QuerySet[_M], vector: Vectors, count: int = 3) -> list[_M]:
    return list(
        rows.filter(embedding__isnull=False)
        .annotate(distance=CosineDistance("embedding", vector))
        .order_by("distance")[:count]
    )
