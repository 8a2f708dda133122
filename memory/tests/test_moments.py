"""Moment extraction: cheap signals first, the model check only for what they flag, writes through the gates."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from asgiref.sync import async_to_sync

from memory.models import Dossier, Fact, GroupLore, Highlight
from memory.moments import cheap_signals, consolidate_guild, extract_after_turn, extract_exchange
from memory.tests.factories import GUILD, TranscriptFactory
from memory.tests.seeding import CachingEmbedder

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 4, 1, 18, 0, tzinfo=UTC)


def _line(minutes, content, author=("u-alice", "alice"), **extra):
    return TranscriptFactory.create(
        content=content,
        author_id=author[0],
        author_display_name=author[1],
        created_at=T0 + timedelta(minutes=minutes),
        **extra,
    )


def test_cheap_signals_see_self_disclosure_replies_reactions_quotes_and_silence():
    bot = _line(
        0,
        "hot take: meetings should be emails, always and forever",
        author=("b-dit", "dit"),
        author_is_bot=True,
        message_id="m-bot",
    )
    disclosure = _line(1, "i just got a job at the aquarium", message_id="m-1")
    _line(2, "congrats!!", author=("u-bob", "bob"), reply_to_message_id="m-1")
    quote = _line(3, "'meetings should be emails, always and forever' is my new motto", author=("u-bob", "bob"))
    _line(30, "anyway", author=("u-carol", "carol"))
    signals = {s.transcript_id: s for s in cheap_signals([bot, disclosure, quote], reactions={"m-1": 3})}
    assert bot.pk not in signals
    assert signals[disclosure.pk].self_disclosure
    assert signals[disclosure.pk].replies == 1
    assert signals[disclosure.pk].reactions == 3
    assert signals[quote.pk].quoted_bot
    assert signals[quote.pk].silence_after_seconds == 27 * 60
    assert signals[disclosure.pk].score > signals[quote.pk].score > 0


def test_only_flagged_messages_reach_the_model_and_what_it_keeps_is_written(gateway_on_openai_server):
    server = gateway_on_openai_server
    plain = _line(0, "ok")
    news = _line(1, "i just got a job at the aquarium, starting monday", message_id="m-news")
    _line(2, "no way, amazing", author=("u-bob", "bob"), reply_to_message_id="m-news")
    server.queue_reply(
        json.dumps(
            {
                "keep": True,
                "kind": "self-disclosure",
                "quote": "i just got a job at the aquarium",
                "score": 0.8,
                "facts": [{"attribute": "employer", "statement": "Alice works at the aquarium"}],
            }
        )
    )
    report = extract_exchange(transcript_ids=[plain.pk, news.pk], embedder=CachingEmbedder())
    assert (report.checked, report.highlights, report.facts) == (1, 1, 1)
    assert len(server.chat_requests) == 1
    assert "aquarium" in server.chat_requests[0].body["messages"][-1]["content"]
    highlight = Highlight.objects.get()
    assert highlight.raw_text == "i just got a job at the aquarium"
    assert highlight.source_transcript_ids == [news.pk]
    assert Fact.objects.get().statement == "Alice works at the aquarium"


def test_a_model_paraphrase_is_not_kept_as_a_highlight(gateway_on_openai_server):
    news = _line(1, "i just moved to lisbon last week")
    gateway_on_openai_server.queue_reply(
        json.dumps({"keep": True, "kind": "self-disclosure", "quote": "Alice relocated to Portugal"})
    )
    report = async_to_sync(extract_after_turn)(transcript_ids=[news.pk], embedder=CachingEmbedder())
    assert report.highlights == 0
    assert report.refused == {"not-verbatim": 1}
    assert Highlight.objects.count() == 0


def test_an_exchange_of_bot_lines_only_calls_no_model(gateway_on_openai_server):
    said = _line(0, "i am a bot and i like bots", author=("b-dit", "dit"), author_is_bot=True)
    report = extract_exchange(transcript_ids=[said.pk])
    assert report.considered == 0
    assert gateway_on_openai_server.chat_requests == []


def test_consolidation_writes_dossiers_and_lore_from_repeated_phrases_and_arguments():
    people = [("u-alice", "alice"), ("u-bob", "bob"), ("u-carol", "carol")]
    for n in range(6):
        _line(n, f"ship it on friday {n}", author=people[n % 3])
    for n in range(3):
        _line(10 + n, "no way, that's wrong", author=people[1], reply_to_author_id="u-carol")
    report = consolidate_guild(guild_id=GUILD, embedder=CachingEmbedder())
    assert report.dossiers == 3
    assert Dossier.objects.get(subject_user_id="u-bob").message_count == 5
    bodies = set(GroupLore.objects.values_list("body_text", flat=True))
    assert 'The group keeps saying "ship it on".' in bodies or 'The group keeps saying "it on friday".' in bodies
    assert "bob and carol often argue with each other." in bodies
    again = consolidate_guild(guild_id=GUILD, embedder=CachingEmbedder())
    assert again.lore == 0
