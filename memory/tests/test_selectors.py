"""The router's inputs from memory: callback material with its primed row, and the channel's topic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from memory.selectors import channel_topic, router_memory_inputs
from memory.tests.factories import GENERAL, GUILD, TranscriptFactory
from memory.tests.seeding import CachingEmbedder
from memory.writes import record_highlight

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def old_highlight():
    said = TranscriptFactory.create(
        content="my cat knocked the christmas tree over again", created_at=NOW - timedelta(days=40)
    )
    return record_highlight(sources=[said], raw_text=said.content, embedder=CachingEmbedder()).row


def test_a_live_topic_that_matches_an_old_highlight_primes_it(old_highlight):
    TranscriptFactory.create(
        content="is anyone's cat destroying the christmas tree yet?", created_at=NOW - timedelta(minutes=2)
    )
    inputs = router_memory_inputs(guild_id=GUILD, channel_id=GENERAL, is_dm=False, requester_id="u-bob", now=NOW)
    assert inputs.primed is not None
    assert inputs.primed.row_id == old_highlight.pk
    assert 0.0 < inputs.callback_material <= 1.0
    assert "christmas" in inputs.topic.keywords


def test_an_unrelated_topic_primes_nothing(old_highlight):
    TranscriptFactory.create(content="the quarterly tax filing deadline moved", created_at=NOW - timedelta(minutes=2))
    inputs = router_memory_inputs(guild_id=GUILD, channel_id=GENERAL, is_dm=False, requester_id="u-bob", now=NOW)
    assert inputs.primed is None
    assert inputs.callback_material == 0.0


def test_material_from_the_live_conversation_itself_is_no_callback():
    said = TranscriptFactory.create(
        content="my cat knocked the christmas tree over", created_at=NOW - timedelta(minutes=5)
    )
    record_highlight(sources=[said], raw_text=said.content, embedder=CachingEmbedder())
    inputs = router_memory_inputs(
        guild_id=GUILD,
        channel_id=GENERAL,
        is_dm=False,
        requester_id="u-bob",
        message_text="cat vs christmas tree",
        now=NOW,
    )
    assert inputs.primed is None


def test_a_dm_highlight_never_primes_a_guild_turn():
    said = TranscriptFactory.create(
        dm=True, content="my cat knocked the christmas tree over", created_at=NOW - timedelta(days=9)
    )
    record_highlight(sources=[said], raw_text=said.content, embedder=CachingEmbedder())
    inputs = router_memory_inputs(
        guild_id=GUILD,
        channel_id=GENERAL,
        is_dm=False,
        requester_id="u-alice",
        message_text="cat christmas tree chaos",
        now=NOW,
    )
    assert inputs.primed is None


def test_the_channel_topic_is_its_last_half_hour_of_human_words():
    TranscriptFactory.create(content="old talk about golf", created_at=NOW - timedelta(hours=2))
    TranscriptFactory.create(content="sourdough starter tips please", created_at=NOW - timedelta(minutes=10))
    TranscriptFactory.create(bot=True, content="bots talk about golf", created_at=NOW - timedelta(minutes=5))
    topic = channel_topic(channel_id=GENERAL, now=NOW)
    assert topic.text == "sourdough starter tips please"
    assert topic.message_count == 1
    assert "golf" not in topic.keywords
