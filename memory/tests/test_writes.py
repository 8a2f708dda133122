"""Write gates: add-only, supersede with both clocks, human turns only, verbatim highlights, no near duplicates."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from django.db import IntegrityError, transaction

from memory.choices import CoreBlockScope, LoreKind, Visibility
from memory.errors import MemoryWriteRefused
from memory.models import CORE_BLOCK_MAX_CHARS, CoreBlock, Fact, Highlight
from memory.tests.factories import GUILD, TranscriptFactory
from memory.tests.seeding import CachingEmbedder
from memory.writes import WriteOutcome, record_fact, record_highlight, record_lore

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def row(result):
    assert result.row is not None
    return result.row


@pytest.fixture
def embedder():
    return CachingEmbedder()


def test_a_changed_fact_supersedes_the_current_one_and_both_keep_their_clocks(embedder):
    first = TranscriptFactory.create(content="i work at the bakery", created_at=T0)
    later = TranscriptFactory.create(
        content="i quit the bakery, i work at the library now", created_at=T0 + timedelta(days=30)
    )
    old = record_fact(
        sources=[first],
        subject_user_id="u-alice",
        attribute="employer",
        statement="Alice works at the bakery",
        embedder=embedder,
    )
    new = record_fact(
        sources=[later],
        subject_user_id="u-alice",
        attribute="Employer",
        statement="Alice works at the library",
        embedder=embedder,
    )
    assert (old.outcome, new.outcome) == (WriteOutcome.WRITTEN, WriteOutcome.SUPERSEDED)
    stored_old = Fact.objects.get(pk=row(old).pk)
    stored_new = Fact.objects.get(pk=row(new).pk)
    assert stored_old.superseded_by == stored_new
    assert stored_old.valid_to == stored_new.valid_from == later.created_at
    assert stored_old.superseded_at is not None
    assert stored_new.superseded_at is None
    assert stored_old.source_transcript_ids == [first.pk]
    assert stored_new.source_transcript_ids == [later.pk]
    assert Fact.objects.filter(subject_user_id="u-alice").count() == 2


def test_the_same_fact_again_is_refused_as_a_duplicate(embedder):
    source = TranscriptFactory.create(content="my dog is called biscuit")
    record_fact(
        sources=[source],
        subject_user_id="u-alice",
        attribute="pet",
        statement="Alice has a dog called Biscuit",
        embedder=embedder,
    )
    again = record_fact(
        sources=[source],
        subject_user_id="u-alice",
        attribute="dog",
        statement="alice has a dog called biscuit.",
        embedder=embedder,
    )
    assert again.outcome in (WriteOutcome.DUPLICATE, WriteOutcome.NEAR_DUPLICATE)
    assert Fact.objects.count() == 1


def test_a_near_duplicate_highlight_is_refused_but_another_persons_is_kept(embedder):
    alice = TranscriptFactory.create(content="pineapple on pizza is a crime against italy")
    alice_again = TranscriptFactory.create(content="Pineapple on pizza is a crime against Italy!!")
    bob = TranscriptFactory.create(
        content="pineapple on pizza is a crime against italy", author_id="u-bob", author_display_name="bob"
    )
    assert record_highlight(sources=[alice], raw_text=alice.content, embedder=embedder).written
    refused = record_highlight(sources=[alice_again], raw_text=alice_again.content, embedder=embedder)
    assert refused.outcome == WriteOutcome.NEAR_DUPLICATE
    assert (refused.similarity or 0.0) >= 0.95
    assert record_highlight(sources=[bob], raw_text=bob.content, embedder=embedder).written


def test_a_bots_own_words_are_not_memory_unless_a_human_confirmed_them(embedder):
    said = TranscriptFactory.create(bot=True, message_id="bot-1", content="the deadline is friday")
    assert (
        record_fact(
            sources=[said],
            subject_user_id="u-alice",
            attribute="deadline",
            statement="The deadline is Friday",
            embedder=embedder,
        ).outcome
        == WriteOutcome.NOT_HUMAN
    )
    confirmed = TranscriptFactory.create(content="yes, friday it is", reply_to_message_id="bot-1")
    assert record_fact(
        sources=[said, confirmed],
        subject_user_id="u-alice",
        attribute="deadline",
        statement="The deadline is Friday",
        embedder=embedder,
    ).written


def test_a_highlight_must_quote_its_source_word_for_word(embedder):
    source = TranscriptFactory.create(content="honestly rust is overhyped, my boss agrees")
    paraphrase = record_highlight(sources=[source], raw_text="Alice thinks Rust is overrated", embedder=embedder)
    verbatim = record_highlight(sources=[source], raw_text="rust is overhyped, my boss agrees", embedder=embedder)
    assert paraphrase.outcome == WriteOutcome.NOT_VERBATIM
    assert verbatim.written
    assert row(verbatim).raw_text == "rust is overhyped, my boss agrees"
    assert row(verbatim).attribution == "alice"


def test_sources_from_a_dm_and_a_guild_together_are_refused(embedder):
    guild = TranscriptFactory.create(content="guild words")
    dm = TranscriptFactory.create(dm=True, content="dm words")
    with pytest.raises(MemoryWriteRefused, match="mix a DM"):
        record_highlight(sources=[guild, dm], raw_text="guild words", embedder=embedder)


def test_memory_from_a_dm_is_dm_visible_and_has_no_guild(embedder):
    dm = TranscriptFactory.create(dm=True, content="i am allergic to peanuts")
    result = record_fact(
        sources=[dm],
        subject_user_id="u-alice",
        attribute="allergy",
        statement="Alice is allergic to peanuts",
        embedder=embedder,
    )
    assert (row(result).visibility, row(result).guild_id) == (Visibility.DM, "")


def test_lore_is_deduplicated_guild_wide(embedder):
    source = TranscriptFactory.create(content="we always say 'ship it friday'")
    assert record_lore(
        sources=[source], kind=LoreKind.RUNNING_JOKE, body_text="The group says ship it friday", embedder=embedder
    ).written
    again = record_lore(
        sources=[source], kind=LoreKind.RUNNING_JOKE, body_text="the group says: ship it friday!", embedder=embedder
    )
    assert again.outcome == WriteOutcome.NEAR_DUPLICATE


def test_a_core_block_over_its_limit_is_refused_by_the_database():
    CoreBlock.objects.create(guild_id=GUILD, scope=CoreBlockScope.GUILD, label="fits", body="x" * CORE_BLOCK_MAX_CHARS)
    with pytest.raises(IntegrityError, match="memory_coreblock_body_size"), transaction.atomic():
        # bulk_create skips model validation: only the CHECK constraint stands in the way.
        CoreBlock.objects.bulk_create(
            [
                CoreBlock(
                    guild_id=GUILD, scope=CoreBlockScope.GUILD, label="too big", body="x" * (CORE_BLOCK_MAX_CHARS + 1)
                )
            ]
        )


def test_replaying_a_thousand_messages_leaves_under_five_percent_near_duplicate_rows(embedder):
    rng = random.Random(14)
    people = [("u-alice", "alice"), ("u-bob", "bob"), ("u-carol", "carol"), ("u-dan", "dan")]
    statements = [
        f"{opener} {topic}"
        for opener in ("honestly i think", "hot take:", "i am convinced that", "no joke,", "i swear")
        for topic in (
            "tabs beat spaces",
            "pineapple belongs on pizza",
            "vim is better than emacs",
            "mondays should be banned",
            "cats are smarter than dogs",
            "the office is overrated",
            "rust will replace c",
            "cold pizza is breakfast",
            "jazz is just noise",
            "winter is the best season",
            "tea beats coffee",
            "remote work is the future",
            "the movie was better than the book",
            "sushi is overrated",
            "running is boring",
            "chess is a sport",
            "podcasts are too long",
            "board games are underrated",
            "dark mode is a must",
            "emails should be banned",
        )
    ]
    variants = (str.lower, str.upper, lambda s: s + "!!", lambda s: s + " lol", lambda s: s.capitalize() + ".")
    start = T0
    replay = []
    for _ in range(1000):
        author, name = people[rng.randrange(len(people))]
        replay.append(
            (author, name, variants[rng.randrange(len(variants))](statements[rng.randrange(len(statements))]))
        )
    embedder.embed([text for _, _, text in replay])
    for n, (author, name, text) in enumerate(replay):
        row = TranscriptFactory.create(
            content=text, author_id=author, author_display_name=name, created_at=start + timedelta(minutes=n)
        )
        record_highlight(sources=[row], raw_text=text, embedder=embedder)
    rows = list(Highlight.objects.values_list("subject_user_id", "embedding"))
    assert 50 < len(rows) < 1000
    near = 0
    for index, (subject, vector) in enumerate(rows):
        others = [np.asarray(v) for j, (s, v) in enumerate(rows) if s == subject and j != index]
        if others and float(np.max(np.stack(others) @ np.asarray(vector))) >= 0.95:
            near += 1
    assert near / len(rows) < 0.05
