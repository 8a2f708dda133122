"""Transcript retention: bounded batches, on a reactor timer that follows the oldest transcript."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from memory.models import Transcript
from memory.services import purge_transcripts, purge_transcripts_batch
from memory.tests.factories import TranscriptFactory, TranscriptRevisionFactory
from memory.triggers import RETENTION_TRIGGER, arm_retention
from reactor.models import Trigger
from reactor.tests.running import run_inline, waiting

pytestmark = pytest.mark.django_db


def test_a_batch_purges_at_most_its_limit_oldest_first_and_says_more_remain():
    now = timezone.now()
    old = [TranscriptFactory.create(created_at=now - timedelta(days=40 + n)) for n in range(5)]
    TranscriptRevisionFactory.create(transcript=old[-1])
    recent = TranscriptFactory.create(created_at=now)

    batch = purge_transcripts_batch(before=now - timedelta(days=30), limit=2)

    assert (batch.purged, batch.more) == (2, True)
    remaining = set(Transcript.objects.values_list("pk", flat=True))
    assert remaining == {t.pk for t in old[:3]} | {recent.pk}


def test_the_last_batch_says_nothing_remains():
    now = timezone.now()
    TranscriptFactory.create(created_at=now - timedelta(days=40))

    batch = purge_transcripts_batch(before=now - timedelta(days=30), limit=2)

    assert (batch.purged, batch.more) == (1, False)


def test_purging_everything_runs_batch_after_batch():
    now = timezone.now()
    for n in range(5):
        TranscriptFactory.create(created_at=now - timedelta(days=40 + n))

    assert purge_transcripts(before=now - timedelta(days=30), batch_size=2) == 5
    assert not Transcript.objects.exists()


@override_settings(DIT_TRANSCRIPT_RETENTION_DAYS=30, DIT_RETENTION_BATCH_SIZE=2)
def test_the_retention_timer_purges_a_batch_and_comes_back_at_once_while_more_remain():
    now = timezone.now()
    for n in range(3):
        TranscriptFactory.create(created_at=now - timedelta(days=40 + n))
    young = TranscriptFactory.create(created_at=now - timedelta(days=1))
    arm_retention()
    first = waiting(RETENTION_TRIGGER)
    assert first.due_at is not None
    assert first.due_at <= timezone.now()

    run_inline(first.pk)
    second = waiting(RETENTION_TRIGGER)
    assert second.parent_trigger_id == first.pk
    run_inline(second.pk)

    assert list(Transcript.objects.values_list("pk", flat=True)) == [young.pk]
    third = waiting(RETENTION_TRIGGER)
    assert third.due_at == young.created_at + timedelta(days=30)
    assert [t.result for t in Trigger.objects.filter(pk__in=[first.pk, second.pk]).order_by("created_at")] == [
        {"purged": 2, "more": True},
        {"purged": 1, "more": False},
    ]


@override_settings(DIT_TRANSCRIPT_RETENTION_DAYS=0)
def test_with_retention_off_no_timer_is_armed():
    TranscriptFactory.create(created_at=timezone.now() - timedelta(days=4000))

    arm_retention()

    assert not Trigger.objects.filter(kind=RETENTION_TRIGGER).exists()
