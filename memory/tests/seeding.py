"""A seeded guild for the memory tests: three people, a bot, four channels, a DM, and every memory layer.

Everything is written the way production writes it (archive job, write gates, consolidation) with the
real local embedder, at moments relative to NOW, so strategies can be asked what they pick and what not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from memory.archive import archive_transcripts, embed_pending
from memory.choices import CoreBlockScope, EpochStatus, HighlightKind, LoreKind, Visibility
from memory.embedding.providers import default_embedder
from memory.models import CoreBlock, Epoch, Transcript
from memory.moments import refresh_dossiers
from memory.tests.factories import GUILD, TranscriptFactory
from memory.writes import record_fact, record_highlight, record_lore

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
GENERAL, RANDOM, DEV = "c-general", "c-random", "c-dev"
NAMES = {GENERAL: "general", RANDOM: "random", DEV: "dev"}
PEOPLE = {"u-alice": "alice", "u-bob": "bob", "u-carol": "carol"}


class CachingEmbedder:
    """The local embedder with a cache shared by every test: the same text gives the same vector anyway."""

    _vectors: dict[str, Any] = {}

    def __init__(self) -> None:
        self._inner = default_embedder()
        self.name = self._inner.name
        self.dimensions = self._inner.dimensions

    def embed(self, texts, *, guild_id=None):
        import numpy as np

        missing = [text for text in dict.fromkeys(texts) if text not in self._vectors]
        if missing:
            for text, vector in zip(missing, self._inner.embed(missing), strict=True):
                self._vectors[text] = vector
        return np.stack([self._vectors[text] for text in texts]) if texts else self._inner.embed([])


@dataclass
class SeededGuild:
    """Handles on the rows the tests look for."""

    messages: dict[str, Transcript]


def say(key: str, seeded: dict[str, Transcript], *, ago: timedelta, channel: str, author: str, text: str, **extra):
    """One transcript row `ago` before NOW."""
    is_dm = channel.startswith("dm-")
    row = TranscriptFactory.create(
        message_id=f"msg-{key}",
        guild_id="" if is_dm else GUILD,
        channel_id=channel,
        channel_name="" if is_dm else NAMES[channel],
        is_dm=is_dm,
        author_id=author,
        author_display_name=PEOPLE.get(author, "dit"),
        content=text,
        created_at=NOW - ago,
        **extra,
    )
    seeded[key] = row
    return row


def seed_guild() -> SeededGuild:
    """Write the guild's transcripts and derive every layer from them."""
    m: dict[str, Transcript] = {}
    day, hour, minute = timedelta(days=1), timedelta(hours=1), timedelta(minutes=1)
    # Three weeks ago, this time of day, in #general.
    say(
        "sourdough-old", m, ago=21 * day, channel=GENERAL, author="u-alice", text="my sourdough starter finally bubbled"
    )
    say("sourdough-old-2", m, ago=21 * day - 5 * minute, channel=GENERAL, author="u-bob", text="bread science is wild")
    # Ten days ago, a different time of day, #random: Bob and Carol argue about pizza.
    say("pizza", m, ago=10 * day + 5 * hour, channel=RANDOM, author="u-carol", text="pineapple belongs on pizza")
    for n, text in enumerate(("no way, that's wrong", "nope, not true at all", "wrong again, carol")):
        say(
            f"pushback-{n}",
            m,
            ago=10 * day + 5 * hour - (n + 1) * minute,
            channel=RANDOM,
            author="u-bob",
            text=text,
            reply_to_message_id="msg-pizza",
            reply_to_author_id="u-carol",
        )
    # Five days ago, Carol's line that becomes a highlight.
    say("architecture", m, ago=5 * day, channel=RANDOM, author="u-carol", text="bread is just edible architecture")
    # Three days ago, #random talks sourdough baking too.
    say("random-bread", m, ago=3 * day, channel=RANDOM, author="u-bob", text="baking sourdough loaves with rye flour")
    # Two days ago, a question in #dev nobody answered.
    say("ci", m, ago=2 * day, channel=DEV, author="u-carol", text="anyone know how to fix the flaky CI test?")
    # Yesterday, the bot's hot take, quoted by Alice later.
    say(
        "bot-take",
        m,
        ago=day,
        channel=GENERAL,
        author="b-dit",
        text="hot take: tabs are better than spaces forever",
        author_is_bot=True,
        role="bot",
    )
    say(
        "quote",
        m,
        ago=day - 10 * minute,
        channel=GENERAL,
        author="u-alice",
        text="lol 'tabs are better than spaces forever' is going on my wall",
        reply_to_message_id="msg-bot-take",
        reply_to_author_id="b-dit",
    )
    # The last hour of #general: enough chatter that the live window reaches no further back.
    for n in range(32):
        author = ("u-alice", "u-bob", "u-carol")[n % 3]
        say(
            f"chatter-{n}",
            m,
            ago=60 * minute - n * minute,
            channel=GENERAL,
            author=author,
            text=f"weekend plan {n}: hiking",
        )
    # Now: the live conversation in #general, about bread.
    say("live-1", m, ago=5 * minute, channel=GENERAL, author="u-alice", text="i'm baking bread again this weekend")
    say("live-2", m, ago=3 * minute, channel=GENERAL, author="u-bob", text="your sourdough bread is legendary")
    # A DM: never in a guild prompt.
    say("dm", m, ago=2 * hour, channel="dm-alice", author="u-alice", text="my secret: I actually hate sourdough bread")
    archive_transcripts([row.pk for row in m.values()])
    embedder = CachingEmbedder()
    embed_pending(embedder=embedder)
    record_highlight(
        sources=[m["architecture"]],
        raw_text="bread is just edible architecture",
        kind=HighlightKind.PHRASE,
        score=0.9,
        embedder=embedder,
    )
    record_fact(
        sources=[m["sourdough-old"]],
        subject_user_id="u-alice",
        attribute="hobby",
        statement="Alice bakes sourdough bread",
        embedder=embedder,
    )
    record_fact(
        sources=[m["dm"]],
        subject_user_id="u-alice",
        attribute="secret",
        statement="Alice secretly hates sourdough bread",
        embedder=embedder,
    )
    record_lore(
        sources=[m[f"pushback-{n}"] for n in range(3)],
        kind=LoreKind.RIVALRY,
        body_text="bob and carol argue about pizza toppings",
        subject_user_ids=["u-bob", "u-carol"],
        score=0.8,
        embedder=embedder,
    )
    Epoch.objects.create(
        guild_id=GUILD,
        channel_id=RANDOM,
        channel_name="random",
        visibility=Visibility.GUILD,
        start_at=m["pizza"].created_at,
        end_at=m["pushback-2"].created_at,
        first_seq=m["pizza"].seq,
        last_seq=m["pushback-2"].seq,
        message_count=4,
        participants=["u-bob", "u-carol"],
        summary_text="Carol defended pineapple on pizza; Bob disagreed loudly.",
        topics=["pizza", "pineapple"],
        closed_at=m["pushback-2"].created_at + 3 * hour,
        summarized_at=m["pushback-2"].created_at + 3 * hour,
        status=EpochStatus.SUMMARIZED,
        embedding=embedder.embed(["pizza argument"])[0],
    )
    CoreBlock.objects.create(
        guild_id=GUILD, scope=CoreBlockScope.GUILD, label="house rules", body="No spoilers for the book club."
    )
    refresh_dossiers(GUILD)
    return SeededGuild(messages=m)
