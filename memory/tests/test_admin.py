"""Transcripts in admin: readable by staff with their revisions, never added, changed or deleted."""

from __future__ import annotations

import pytest
from django.urls import reverse

from memory.tests.factories import TranscriptFactory, TranscriptRevisionFactory

pytestmark = pytest.mark.django_db


def test_the_transcript_changelist_lists_rows_in_a_fixed_number_of_queries(client, owner, django_assert_num_queries):
    client.force_login(owner)
    TranscriptFactory.create_batch(30, author_display_name="listed-author")
    client.get(reverse("admin:memory_transcript_changelist"))

    # Session, user, the table-size estimate, the exact count (the table is small), the page.
    with django_assert_num_queries(5):
        response = client.get(reverse("admin:memory_transcript_changelist"))

    assert response.status_code == 200
    assert response.content.count(b"listed-author") == 30


def test_a_transcript_shows_with_its_revisions_and_cannot_be_changed(client, owner):
    client.force_login(owner)
    transcript = TranscriptFactory.create(content="as posted")
    TranscriptRevisionFactory.create(transcript=transcript, content="as edited")

    detail = client.get(reverse("admin:memory_transcript_change", args=[transcript.pk]))
    post = client.post(reverse("admin:memory_transcript_change", args=[transcript.pk]), {"content": "rewritten"})
    delete = client.post(reverse("admin:memory_transcript_delete", args=[transcript.pk]), {"post": "yes"})

    assert detail.status_code == 200
    assert b"as posted" in detail.content
    assert b"as edited" in detail.content
    assert post.status_code == 403
    assert delete.status_code == 403
    transcript.refresh_from_db()
    assert transcript.content == "as posted"
