"""Memory's work runs on reactor triggers the data arms: archiving, edits, epochs, extraction, consolidation,
forget-me and each guild's retention. Each trigger is run here exactly as a worker runs it."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from memory import triggers
from memory.epochs import SUMMARY_TRIGGER
from memory.forgetting import FORGET_TRIGGER, request_forget
from memory.ingest import IngestMessage, ingest_message
from memory.models import ArchiveEntry, Epoch, ForgetRequest, GuildMemoryPolicy, Highlight, Transcript
from reactor.choices import TriggerStatus
from reactor.execution import RunEnd
from reactor.models import Trigger
from reactor.tests.running import run_inline, waiting

pytestmark = pytest.mark.django_db

GUILD = "g-memory"


def _say(message_id, content, *, channel="c-general", author="u-alice", bot=False, at=None, edited_at=None, dm=False):
    return ingest_message(
        IngestMessage(
            platform="local",
            message_id=message_id,
            channel_id=channel,
            guild_id="" if dm else GUILD,
            is_dm=dm,
            author_id=author,
            author_display_name=author.removeprefix("u-"),
            author_is_bot=bot,
            content=content,
            created_at=at or timezone.now(),
            edited_at=edited_at,
        )
    )


def test_a_burst_of_messages_arms_one_archive_run_which_archives_and_embeds_them():
    for n in range(3):
        _say(f"m-{n}", f"the lighthouse keeper story, part {n}")
    run = waiting(triggers.ARCHIVE_TRIGGER)
    assert Trigger.objects.filter(kind=triggers.ARCHIVE_TRIGGER).count() == 1
    assert run.due_at is not None
    assert run.due_at > timezone.now()
    assert run_inline(run.pk).end == RunEnd.DONE
    entries = ArchiveEntry.objects.all()
    assert entries.count() == 3
    assert all(entry.embedding is not None for entry in entries)
    _say("m-later", "and one more line")
    assert waiting(triggers.ARCHIVE_TRIGGER).pk != run.pk


def test_an_edit_archives_the_message_again_with_its_new_words():
    first = _say("m-edit", "the meeting is on tuesday").transcript
    run_inline(waiting(triggers.ARCHIVE_TRIGGER).pk)
    _say("m-edit", "the meeting is on thursday", edited_at=first.created_at + timedelta(minutes=1))
    refresh = waiting(triggers.REFRESH_TRIGGER)
    assert refresh.dedupe_key is not None
    assert refresh.dedupe_key.endswith(str(first.pk))
    assert run_inline(refresh.pk).end == RunEnd.DONE
    entry = ArchiveEntry.objects.get(transcript=first)
    assert entry.content == "the meeting is on thursday"
    assert entry.embedding is not None


def test_a_silent_channel_closes_its_epoch_on_its_guilds_gap_and_schedules_the_summary():
    start = timezone.now() - timedelta(minutes=30)
    for n in range(3):
        _say(f"e-{n}", f"planning the camping trip {n}", at=start + timedelta(minutes=n))
    _say("e-other", "meanwhile elsewhere", channel="c-random", at=start)
    timers = Trigger.objects.filter(kind=triggers.EPOCH_CLOSE_TRIGGER, status=TriggerStatus.PENDING)
    assert sorted(timers.values_list("channel_id", flat=True)) == ["c-general", "c-random"]
    timer = timers.get(channel_id="c-general")
    # The deployment's gap (3 hours) has not passed since the last message: the run waits for it.
    assert run_inline(timer.pk).end == RunEnd.DONE
    again = waiting(triggers.EPOCH_CLOSE_TRIGGER, channel_id="c-general")
    assert again.due_at == Transcript.objects.get(message_id="e-2").created_at + timedelta(hours=3)
    assert not Epoch.objects.exists()
    # The guild's own gap of ten minutes has passed: the channel's epoch closes, the other channel's stays open.
    GuildMemoryPolicy.objects.create(guild_id=GUILD, epoch_gap_seconds=600)
    run_inline(again.pk)
    epoch = Epoch.objects.get()
    assert (epoch.channel_id, epoch.message_count) == ("c-general", 3)
    assert waiting(SUMMARY_TRIGGER).payload == {"epoch_id": epoch.pk}


def test_the_bot_speaking_arms_extraction_over_its_exchange_and_people_talking_arm_consolidation(
    gateway_on_openai_server,
):
    gateway_on_openai_server.queue_reply(
        json.dumps({"keep": True, "kind": "self-disclosure", "quote": "I just got the job at the observatory"})
    )
    _say("x-1", "I just got the job at the observatory!", author="u-alice")
    _say("x-1b", "over here too", channel="c-random", author="u-bob")
    assert not Trigger.objects.filter(kind=triggers.EXTRACT_TRIGGER).exists()
    # One consolidation for the guild, however many channels talk; none for a DM.
    assert Trigger.objects.filter(kind=triggers.CONSOLIDATE_TRIGGER).count() == 1
    _say("x-dm", "psst", channel="d-1", dm=True)
    assert Trigger.objects.filter(kind=triggers.CONSOLIDATE_TRIGGER).count() == 1
    _say("x-2", "congratulations!", author="u-dit", bot=True)
    _say("x-3", "so proud of you", author="u-bob")
    extract = waiting(triggers.EXTRACT_TRIGGER)
    assert extract.channel_id == "c-general"
    assert extract.due_at is not None
    assert extract.due_at >= timezone.now() + timedelta(minutes=2)
    assert run_inline(extract.pk).end == RunEnd.DONE
    extract.refresh_from_db()
    # The exchange's human messages were weighed (the bot's own words are not extracted from); the news
    # went to the model check and was kept, verbatim.
    assert extract.result["considered"] == 2
    assert extract.result["highlights"] == 1
    assert Highlight.objects.get().raw_text == "I just got the job at the observatory"


def test_a_member_asking_to_be_forgotten_is_forgotten_through_the_reactor():
    _say("f-1", "I live on Elm street", author="u-carol")
    first = request_forget(guild_id=GUILD, user_id="u-carol")
    assert request_forget(guild_id=GUILD, user_id="u-carol") == first
    assert run_inline(first).end == RunEnd.DONE
    assert ForgetRequest.objects.get().requested_by == "member"
    assert "Elm" not in Transcript.objects.get(message_id="f-1").content
    assert Trigger.objects.get(pk=first).kind == FORGET_TRIGGER


def test_a_guilds_archive_retention_is_a_timer_due_when_its_oldest_message_comes_of_age():
    _say("r-old", "from long ago", at=timezone.now() - timedelta(days=3))
    _say("r-new", "from today")
    assert not Trigger.objects.filter(kind=triggers.GUILD_RETENTION_TRIGGER).exists()
    GuildMemoryPolicy.objects.create(guild_id=GUILD, archive_retention_days=2)
    timer = waiting(triggers.GUILD_RETENTION_TRIGGER)
    assert timer.due_at is not None
    assert timer.due_at <= timezone.now()
    assert run_inline(timer.pk).end == RunEnd.DONE
    assert list(Transcript.objects.values_list("message_id", flat=True)) == ["r-new"]
    following = waiting(triggers.GUILD_RETENTION_TRIGGER)
    assert following.due_at is not None
    assert following.due_at > timezone.now() + timedelta(days=1)
