"""Conversation epochs: a channel's stretch of talk between silences, summarized; an index over transcripts."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from pgvector.django import HnswIndex, VectorField

from memory.choices import EpochStatus
from memory.models.base import EMBEDDING_DIMENSIONS, FTS_CONFIG, HNSW_EF_CONSTRUCTION, HNSW_M, ScopedMemory


class Epoch(ScopedMemory):
    """One closed window of a channel: the messages from `first_seq` to `last_seq`, and their summary.

    The summary paraphrases by design; the raw transcripts it covers stay untouched.
    """

    channel_name = models.CharField(max_length=200, blank=True)
    start_at = models.DateTimeField()
    end_at = models.DateTimeField()
    first_seq = models.BigIntegerField()
    last_seq = models.BigIntegerField()
    message_count = models.PositiveIntegerField(default=0)
    participants = ArrayField(models.CharField(max_length=64), default=list, blank=True, help_text="User ids.")
    summary_text = models.TextField(blank=True)
    topics = ArrayField(models.CharField(max_length=100), default=list, blank=True)
    score = models.FloatField(default=0.0, help_text="How lively the window was (0..1).")
    closed_at = models.DateTimeField()
    summarized_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=EpochStatus.choices, default=EpochStatus.CLOSED)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    embedding = VectorField(dimensions=EMBEDDING_DIMENSIONS, null=True, blank=True)
    search_vector = models.GeneratedField(
        expression=SearchVector("summary_text", config=FTS_CONFIG),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    class Meta:
        ordering = ("-end_at", "-id")
        constraints = (
            *ScopedMemory.Meta.constraints,
            models.CheckConstraint(condition=models.Q(status__in=EpochStatus.values), name="memory_epoch_status_valid"),
            models.CheckConstraint(
                condition=models.Q(last_seq__gte=models.F("first_seq")), name="memory_epoch_seq_range"
            ),
            # A close delivered twice (two timers, a retry) makes one epoch.
            models.UniqueConstraint(fields=("channel_id", "first_seq"), name="memory_epoch_unique_start"),
        )
        indexes = (
            HnswIndex(
                name="memory_epoch_hnsw",
                fields=["embedding"],
                m=HNSW_M,
                ef_construction=HNSW_EF_CONSTRUCTION,
                opclasses=["vector_cosine_ops"],
            ),
            GinIndex(name="memory_epoch_fts", fields=["search_vector"]),
            GinIndex(name="memory_epoch_participants", fields=["participants"]),
            models.Index(fields=("guild_id", "end_at"), name="memory_epoch_guild_end"),
            models.Index(fields=("channel_id", "last_seq"), name="memory_epoch_channel_last"),
        )

    def __str__(self) -> str:
        return f"epoch of {self.channel_name or self.channel_id} {self.start_at:%Y-%m-%d %H:%M}"
