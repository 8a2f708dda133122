"""The searchable archive: one row per transcript with its embedding and full-text vector, and retention per guild.

Transcripts are immutable, so what search needs (the current wording, a vector, a tsvector) lives here,
beside them; a row is written by the archiving job, off the reply path, and can always be rebuilt.
"""

from __future__ import annotations

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.utils import timezone
from pgvector.django import HnswIndex, VectorField

from memory.models.base import EMBEDDING_DIMENSIONS, FTS_CONFIG, HNSW_EF_CONSTRUCTION, HNSW_M, ScopedMemory
from memory.models.transcripts import Transcript


class ArchiveEntry(ScopedMemory):
    """A transcript as search sees it: current wording, author, an embedding and a full-text vector."""

    transcript = models.OneToOneField(Transcript, on_delete=models.CASCADE, related_name="archive_entry")
    seq = models.BigIntegerField(help_text="The transcript's arrival order.")
    channel_name = models.CharField(max_length=200, blank=True)
    author_display_name = models.CharField(max_length=200)
    author_is_bot = models.BooleanField(default=False)
    content = models.TextField(blank=True, help_text="The newest wording (edits applied).")
    said_at = models.DateTimeField(help_text="When the message was posted.")
    embedding = VectorField(dimensions=EMBEDDING_DIMENSIONS, null=True, blank=True)
    embedding_model = models.CharField(max_length=100, blank=True)
    embedded_at = models.DateTimeField(null=True, blank=True)
    search_vector = models.GeneratedField(
        expression=SearchVector("content", config=FTS_CONFIG),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    class Meta:
        ordering = ("-said_at", "-seq")
        verbose_name_plural = "archive entries"
        constraints = ScopedMemory.Meta.constraints
        indexes = (
            HnswIndex(
                name="memory_archive_hnsw",
                fields=["embedding"],
                m=HNSW_M,
                ef_construction=HNSW_EF_CONSTRUCTION,
                opclasses=["vector_cosine_ops"],
            ),
            GinIndex(name="memory_archive_fts", fields=["search_vector"]),
            GinIndex(name="memory_archive_name_trgm", fields=["author_display_name"], opclasses=["gin_trgm_ops"]),
            models.Index(fields=("guild_id", "said_at"), name="memory_archive_guild_said"),
            models.Index(fields=("guild_id", "subject_user_id", "said_at"), name="memory_archive_guild_author"),
            models.Index(fields=("channel_id", "said_at"), name="memory_archive_channel_said"),
            # The embedding job's queue: rows still waiting for a vector.
            models.Index(fields=("seq",), condition=models.Q(embedding__isnull=True), name="memory_archive_unembedded"),
        )

    def __str__(self) -> str:
        return f"{self.author_display_name}: {self.content[:60]}"


class GuildMemoryPolicy(models.Model):
    """How one guild's memory is kept: archive retention and the silence that closes an epoch."""

    guild_id = models.CharField(max_length=64, unique=True)
    archive_retention_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Archive rows older than this are removed; empty keeps them all."
    )
    epoch_gap_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="Silence that closes a channel's epoch; empty uses DIT_EPOCH_GAP_SECONDS."
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("guild_id",)
        verbose_name_plural = "guild memory policies"
        constraints = (
            models.CheckConstraint(
                condition=models.Q(epoch_gap_seconds__isnull=True) | models.Q(epoch_gap_seconds__gte=60),
                name="memory_policy_gap_at_least_a_minute",
            ),
        )

    def __str__(self) -> str:
        return f"memory policy of {self.guild_id}"
