"""Retention: the one way transcript rows leave the database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from dit_project.errors import ApplicationError
from memory.models import Transcript, TranscriptRevision
from memory.services import purge_transcripts
from memory.tests.factories import TranscriptFactory, TranscriptRevisionFactory

pytestmark = pytest.mark.django_db


def test_purge_deletes_transcripts_older_than_the_cutoff_with_their_revisions():
    now = timezone.now()
    old = TranscriptFactory.create(created_at=now - timedelta(days=40))
    TranscriptRevisionFactory.create(transcript=old)
    recent = TranscriptFactory.create(created_at=now - timedelta(days=1))

    purged = purge_transcripts(before=now - timedelta(days=30))

    assert purged == 1
    assert list(Transcript.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not TranscriptRevision.objects.exists()


def test_purge_limited_to_a_guild_leaves_other_guilds_alone():
    now = timezone.now()
    TranscriptFactory.create(guild_id="g-1", created_at=now - timedelta(days=40))
    kept = TranscriptFactory.create(guild_id="g-2", created_at=now - timedelta(days=40))

    purge_transcripts(before=now, guild_id="g-1")

    assert list(Transcript.objects.values_list("pk", flat=True)) == [kept.pk]


def test_the_retention_permission_ends_with_the_purge():
    now = timezone.now()
    TranscriptFactory.create(created_at=now - timedelta(days=40))
    survivor = TranscriptFactory.create(created_at=now)

    with transaction.atomic():
        purge_transcripts(before=now - timedelta(days=30))
        with pytest.raises(IntegrityError, match="retention"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM memory_transcript WHERE id = %s", [survivor.pk])

    assert Transcript.objects.filter(pk=survivor.pk).exists()


def test_purge_refuses_a_naive_cutoff():
    TranscriptFactory.create()

    with pytest.raises(ApplicationError, match="timezone-aware"):
        purge_transcripts(before=timezone.now().replace(tzinfo=None))

    assert Transcript.objects.count() == 1


def test_a_purge_deletes_in_batches_of_bounded_size():
    from django.test.utils import CaptureQueriesContext

    now = timezone.now()
    for _ in range(5):
        TranscriptFactory.create(created_at=now - timedelta(days=40))

    with CaptureQueriesContext(connection) as queries:
        purged = purge_transcripts(before=now - timedelta(days=30), batch_size=2)

    deletes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('DELETE FROM "memory_transcript"')]
    assert purged == 5
    assert len(deletes) == 3
    assert not Transcript.objects.exists()


def test_a_purge_is_announced_so_other_apps_purge_what_they_keep_about_those_messages():
    from reactor.models import ReactorEvent

    now = timezone.now()
    TranscriptFactory.create(guild_id="g-1", created_at=now - timedelta(days=40))

    purge_transcripts(before=now - timedelta(days=30), guild_id="g-1")

    event = ReactorEvent.objects.get(kind="transcripts.purged")
    assert event.guild_id == "g-1"
    assert event.payload["purged"] == 1
