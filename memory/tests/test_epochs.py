"""Epochs close on silence (the function the reactor's silence timer calls) and are summarized."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from gateway.models import UsageEvent
from memory.choices import EpochStatus
from memory.epochs import SUMMARY_TRIGGER, EpochCloseCall, epoch_close, epoch_gap, summarize_epoch
from memory.models import Epoch, GuildMemoryPolicy, Transcript
from memory.tests.factories import GENERAL, GUILD, TranscriptFactory
from memory.tests.seeding import CachingEmbedder
from reactor.choices import TriggerStatus
from reactor.models import Trigger

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 5, 1, 20, 0, tzinfo=UTC)


def _talk(start, n=4, **extra):
    people = [("u-alice", "alice"), ("u-bob", "bob")]
    return [
        TranscriptFactory.create(
            content=f"line {i} about the camping trip",
            author_id=people[i % 2][0],
            author_display_name=people[i % 2][1],
            created_at=start + timedelta(minutes=i),
            **extra,
        )
        for i in range(n)
    ]


def test_a_channel_silent_for_its_gap_closes_its_epoch_and_schedules_the_summary():
    rows = _talk(T0)
    TranscriptFactory.create(bot=True, content="bot chimes in", created_at=T0 + timedelta(minutes=5))
    too_soon = epoch_close(guild_id=GUILD, channel_id=GENERAL, now=T0 + timedelta(hours=1))
    assert too_soon is None
    assert not Trigger.objects.filter(kind=SUMMARY_TRIGGER).exists()
    epoch = epoch_close(guild_id=GUILD, channel_id=GENERAL, now=T0 + timedelta(hours=4))
    assert epoch is not None
    assert (epoch.first_seq, epoch.last_seq, epoch.message_count) == (rows[0].seq, rows[-1].seq + 1, 5)
    assert epoch.participants == ["u-alice", "u-bob"]
    assert epoch.status == EpochStatus.CLOSED
    summary = Trigger.objects.get(kind=SUMMARY_TRIGGER)
    assert (summary.payload, summary.status) == ({"epoch_id": epoch.pk}, TriggerStatus.PENDING)
    # The raw transcripts stay.
    assert Transcript.objects.count() == 5


def test_closing_twice_makes_one_epoch_and_a_message_since_the_timer_keeps_it_open():
    _talk(T0)
    call = EpochCloseCall(guild_id=GUILD, channel_id=GENERAL, silent_since=T0 + timedelta(minutes=3))
    assert (
        epoch_close(
            guild_id=call.guild_id,
            channel_id=call.channel_id,
            silent_since=call.silent_since,
            now=T0 + timedelta(hours=4),
        )
        is not None
    )
    assert epoch_close(guild_id=GUILD, channel_id=GENERAL, now=T0 + timedelta(hours=5)) is None
    assert Epoch.objects.count() == 1
    _talk(T0 + timedelta(hours=6))
    late = epoch_close(
        guild_id=GUILD, channel_id=GENERAL, silent_since=T0 + timedelta(hours=6), now=T0 + timedelta(hours=10)
    )
    assert late is None


def test_the_guilds_policy_sets_the_gap(settings):
    assert epoch_gap(GUILD) == timedelta(seconds=settings.DIT_EPOCH_GAP_SECONDS) == timedelta(hours=3)
    GuildMemoryPolicy.objects.create(guild_id=GUILD, epoch_gap_seconds=600)
    _talk(T0)
    assert epoch_close(guild_id=GUILD, channel_id=GENERAL, now=T0 + timedelta(minutes=15)) is not None


def test_the_summary_job_writes_summary_topics_participants_and_embedding(gateway_on_openai_server):
    server = gateway_on_openai_server
    _talk(T0)
    epoch = epoch_close(guild_id=GUILD, channel_id=GENERAL, now=T0 + timedelta(hours=4))
    assert epoch is not None
    server.queue_reply('```json\n{"summary": "Alice and Bob planned a camping trip.", "topics": ["camping"]}\n```')
    summarize_epoch(epoch, embedder=CachingEmbedder())
    epoch.refresh_from_db()
    assert epoch.status == EpochStatus.SUMMARIZED
    assert epoch.summary_text == "Alice and Bob planned a camping trip."
    assert epoch.topics == ["camping"]
    assert epoch.participants == ["u-alice", "u-bob"]
    assert epoch.embedding is not None
    assert len(epoch.embedding) == 384
    assert UsageEvent.objects.get().purpose == "epoch-summarize"
    shown = server.chat_requests[0].body["messages"][1]["content"]
    assert shown.splitlines()[0] == "alice: line 0 about the camping trip"


def test_a_summary_that_is_not_the_asked_json_fails_and_says_why(gateway_on_openai_server):
    _talk(T0)
    epoch = epoch_close(guild_id=GUILD, channel_id=GENERAL, now=T0 + timedelta(hours=4))
    assert epoch is not None
    gateway_on_openai_server.queue_reply(json.dumps({"summary": "", "topics": "camping"}))
    summarize_epoch(epoch, embedder=CachingEmbedder())
    epoch.refresh_from_db()
    assert epoch.status == EpochStatus.FAILED
    assert "schema" in epoch.last_error
    assert epoch.attempts == 1
