"""Transcripts are immutable: the models refuse changes, and so does the database."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from memory.errors import TranscriptImmutable
from memory.models import Transcript, TranscriptRevision
from memory.tests.factories import TranscriptFactory, TranscriptRevisionFactory

pytestmark = pytest.mark.django_db


def test_saving_an_existing_transcript_raises():
    transcript = TranscriptFactory.create(content="as posted")
    transcript.content = "rewritten"

    with pytest.raises(TranscriptImmutable):
        transcript.save()

    assert Transcript.objects.get(pk=transcript.pk).content == "as posted"


def test_deleting_a_transcript_instance_raises():
    transcript = TranscriptFactory.create()

    with pytest.raises(TranscriptImmutable):
        transcript.delete()

    assert Transcript.objects.filter(pk=transcript.pk).exists()


def test_bulk_updating_transcripts_raises():
    transcript = TranscriptFactory.create(content="as posted")

    with pytest.raises(TranscriptImmutable):
        Transcript.objects.filter(pk=transcript.pk).update(content="rewritten")
    transcript.content = "rewritten"
    with pytest.raises(TranscriptImmutable):
        Transcript.objects.bulk_update([transcript], ["content"])

    assert Transcript.objects.get(pk=transcript.pk).content == "as posted"


def test_deleting_transcripts_through_the_manager_raises():
    transcript = TranscriptFactory.create()

    with pytest.raises(TranscriptImmutable):
        Transcript.objects.filter(pk=transcript.pk).delete()

    assert Transcript.objects.filter(pk=transcript.pk).exists()


def test_the_database_rejects_a_raw_update_of_transcript_content():
    transcript = TranscriptFactory.create(content="as posted")

    with pytest.raises(IntegrityError, match="immutable"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE memory_transcript SET content = %s WHERE id = %s", ["rewritten", transcript.pk])

    assert Transcript.objects.get(pk=transcript.pk).content == "as posted"


def test_the_database_rejects_a_raw_delete_of_a_transcript():
    transcript = TranscriptFactory.create()

    with pytest.raises(IntegrityError, match="retention"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM memory_transcript WHERE id = %s", [transcript.pk])

    assert Transcript.objects.filter(pk=transcript.pk).exists()


def test_saving_an_existing_revision_raises():
    revision = TranscriptRevisionFactory.create(content="v2")
    revision.content = "v3"

    with pytest.raises(TranscriptImmutable):
        revision.save()

    assert TranscriptRevision.objects.get(pk=revision.pk).content == "v2"


def test_the_database_rejects_a_raw_update_of_a_revision():
    revision = TranscriptRevisionFactory.create(content="v2")

    with pytest.raises(IntegrityError, match="immutable"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE memory_transcriptrevision SET content = 'v3' WHERE id = %s", [revision.pk])

    assert TranscriptRevision.objects.get(pk=revision.pk).content == "v2"


def test_the_database_refuses_a_direct_message_that_names_a_guild():
    with pytest.raises(IntegrityError, match="memory_transcript_dm_iff_no_guild"), transaction.atomic():
        TranscriptFactory.create(is_dm=True, guild_id="g-100")


def test_the_database_refuses_a_guild_message_without_a_guild():
    with pytest.raises(IntegrityError, match="memory_transcript_dm_iff_no_guild"), transaction.atomic():
        TranscriptFactory.create(is_dm=False, guild_id="")


def test_seq_is_assigned_by_the_database_on_create():
    first = TranscriptFactory.create()
    second = TranscriptFactory.create()

    assert first.seq is not None
    assert second.seq > first.seq
