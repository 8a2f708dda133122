"""backfill_embeddings and rebuild_memory, the gateway embedder, admin screens and the staff-only memory API."""

from __future__ import annotations

from io import StringIO

import numpy as np
import pytest
from django.core.management import call_command
from django.urls import reverse

from memory.archive import archive_new_transcripts
from memory.embedding.providers import GatewayEmbedder
from memory.models import ArchiveEntry, Dossier, Epoch, Highlight, Transcript
from memory.tests.factories import GUILD, TranscriptFactory
from memory.tests.seeding import CachingEmbedder, seed_guild

pytestmark = pytest.mark.django_db


def test_backfill_archives_and_embeds_every_transcript_and_draws_a_progress_bar(capsys):
    TranscriptFactory.create_batch(5)
    TranscriptFactory.create(dm=True)
    out = StringIO()
    call_command("backfill_embeddings", stdout=out)
    assert "archived 6 transcripts, embedded 6 rows" in out.getvalue()
    assert "embed: 100%" in capsys.readouterr().err
    assert ArchiveEntry.objects.filter(embedding__isnull=False).count() == 6
    again = StringIO()
    call_command("backfill_embeddings", stdout=again)
    assert "archived 0 transcripts, embedded 0 rows" in again.getvalue()


def test_the_archiving_job_picks_up_what_arrived_and_an_edit_gets_a_new_vector():
    first = TranscriptFactory.create(content="first words")
    run = archive_new_transcripts(embedder=CachingEmbedder())
    assert (run.archived, run.embedded) == (1, 1)
    first.revisions.create(content="better words", edited_at=first.created_at)
    from memory.archive import archive_transcripts

    assert archive_transcripts([first.pk]) == 1
    entry = ArchiveEntry.objects.get()
    assert (entry.content, entry.embedding) == ("better words", None)


def test_rebuild_memory_rederives_the_guild_and_keeps_pinned_blocks(capsys):
    seed_guild()
    Highlight.objects.update(raw_text="tampered")
    out = StringIO()
    call_command("rebuild_memory", "--guild", GUILD, "--no-extract", "--no-summaries", stdout=out)
    assert f"rebuilt {GUILD}" in out.getvalue()
    assert "100%" in capsys.readouterr().err
    assert Highlight.objects.count() == 0
    assert ArchiveEntry.objects.filter(guild_id=GUILD).count() == Transcript.objects.filter(guild_id=GUILD).count()
    assert Dossier.objects.filter(guild_id=GUILD).count() == 3
    # The seeded guild's channels each fell silent for more than three hours between talks.
    assert Epoch.objects.filter(guild_id=GUILD).count() >= 3
    from memory.models import CoreBlock

    assert CoreBlock.objects.count() == 1


def test_the_gateway_embedder_asks_for_the_deployments_dimension_and_normalises(gateway_on_openai_server):
    vectors = GatewayEmbedder(dimensions=384, batch_size=2).embed(["a", "b", ""], guild_id="g-1")
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    requests = gateway_on_openai_server.embedding_requests
    assert [r.body["dimensions"] for r in requests] == [384, 384]
    assert requests[1].body["input"] == [" "]


def test_every_memory_admin_changelist_renders(client, owner):
    seed_guild()
    client.force_login(owner)
    for name in (
        "dossier",
        "highlight",
        "fact",
        "grouplore",
        "coreblock",
        "archiveentry",
        "epoch",
        "guildmemorypolicy",
        "forgetrequest",
    ):
        response = client.get(reverse(f"admin:memory_{name}_changelist"))
        assert response.status_code == 200, name


def test_memory_api_is_staff_only(member_client, owner_client):
    assert member_client.get("/api/memory/dossiers/").status_code == 403
    assert owner_client.get("/api/memory/dossiers/").status_code == 200


@pytest.mark.parametrize(
    ("path", "queries"),
    [
        ("dossiers", 2),
        ("highlights", 2),
        ("facts", 2),
        ("lore", 2),
        ("epochs", 2),
        ("core-blocks", 2),
        ("forget-requests", 1),
    ],
)
def test_memory_list_endpoints_take_a_fixed_number_of_queries(owner_client, django_assert_num_queries, path, queries):
    seed_guild()
    # A count and one page: no query per row (forget-requests is empty, so the count alone).
    with django_assert_num_queries(queries):
        response = owner_client.get(f"/api/memory/{path}/?guild_id={GUILD}")
    assert response.status_code == 200


def test_memory_search_endpoint_finds_guild_memory_and_never_dms(owner_client):
    seed_guild()
    response = owner_client.get("/api/memory/search/", {"q": "sourdough", "guild_id": GUILD, "k": 5})
    assert response.status_code == 200
    texts = [hit["text"] for hit in response.json()["hits"]]
    assert texts
    assert not any("hate sourdough" in text for text in texts)
    bad = owner_client.get("/api/memory/search/", {"guild_id": GUILD})
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "invalid_search_query"
