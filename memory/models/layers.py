"""The curated memory layers: dossiers, verbatim highlights, facts with two clocks, group lore, core blocks.

Paraphrase lives only in summary fields (`Dossier.body_text`, `GroupLore.body_text`); a highlight keeps the
original words in `raw_text`. Every row says which transcripts it came from, so all of it can be rebuilt.
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone
from pgvector.django import HnswIndex, VectorField

from memory.choices import CoreBlockScope, HighlightKind, LoreKind
from memory.models.base import EMBEDDING_DIMENSIONS, FTS_CONFIG, HNSW_EF_CONSTRUCTION, HNSW_M, ScopedMemory

CORE_BLOCK_MAX_CHARS = 2000


def _hnsw(name: str) -> HnswIndex:
    return HnswIndex(
        name=name, fields=["embedding"], m=HNSW_M, ef_construction=HNSW_EF_CONSTRUCTION, opclasses=["vector_cosine_ops"]
    )


class Dossier(ScopedMemory):
    """One curated text per person in a guild: stable facts, declared preferences, relationship signals."""

    display_name = models.CharField(max_length=200, blank=True, help_text="The name they were last seen under.")
    body_text = models.TextField(blank=True, help_text="Curated paraphrase; quotes belong in highlights.")
    signals = models.JSONField(default=dict, blank=True, help_text="Counters and flags: replies, reactions, topics.")
    message_count = models.PositiveIntegerField(default=0)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("guild_id", "display_name")
        constraints = (
            *ScopedMemory.Meta.constraints,
            models.UniqueConstraint(fields=("guild_id", "subject_user_id"), name="memory_dossier_one_per_person"),
            models.CheckConstraint(condition=~models.Q(subject_user_id=""), name="memory_dossier_has_subject"),
        )
        indexes = (
            GinIndex(name="memory_dossier_name_trgm", fields=["display_name"], opclasses=["gin_trgm_ops"]),
            GinIndex(name="memory_dossier_sources", fields=["source_transcript_ids"]),
        )

    def __str__(self) -> str:
        return f"dossier of {self.display_name or self.subject_user_id} in {self.guild_id or 'DMs'}"


class Highlight(ScopedMemory):
    """A moment preserved verbatim, with who said it and what was around it."""

    kind = models.CharField(max_length=20, choices=HighlightKind.choices, default=HighlightKind.QUOTE)
    raw_text = models.TextField(help_text="The original words, never paraphrased.")
    attribution = models.CharField(max_length=200, help_text="Who said it, as they were named then.")
    surrounding_context = models.TextField(blank=True, help_text="The lines around it, verbatim.")
    score = models.FloatField(default=0.0, help_text="How strongly it landed (0..1).")
    said_at = models.DateTimeField(help_text="When the words were posted.")
    embedding = VectorField(dimensions=EMBEDDING_DIMENSIONS, null=True, blank=True)
    search_vector = models.GeneratedField(
        expression=SearchVector("raw_text", config=FTS_CONFIG),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    class Meta:
        ordering = ("-said_at", "-id")
        constraints = (
            *ScopedMemory.Meta.constraints,
            models.CheckConstraint(
                condition=models.Q(kind__in=HighlightKind.values), name="memory_highlight_kind_valid"
            ),
        )
        indexes = (
            _hnsw("memory_highlight_hnsw"),
            GinIndex(name="memory_highlight_fts", fields=["search_vector"]),
            GinIndex(name="memory_highlight_sources", fields=["source_transcript_ids"]),
            models.Index(fields=("guild_id", "subject_user_id", "said_at"), name="memory_highlight_guild_subject"),
        )

    def __str__(self) -> str:
        return f"{self.attribution}: {self.raw_text[:60]}"


class Fact(ScopedMemory):
    """A statement about a person, with two clocks: when it held (valid) and when memory knew it (recorded).

    A changed fact is a new row; the old one gets `superseded_at` and `valid_to`, and both are kept.
    """

    attribute = models.CharField(max_length=100, help_text="What the fact is about, e.g. 'employer', 'pet'.")
    statement = models.TextField(help_text="The fact in one sentence.")
    valid_from = models.DateTimeField(help_text="When it became true (the message that said so, by default).")
    valid_to = models.DateTimeField(null=True, blank=True, help_text="When it stopped being true.")
    recorded_at = models.DateTimeField(default=timezone.now, help_text="When memory learned it.")
    superseded_at = models.DateTimeField(null=True, blank=True, help_text="When a newer fact replaced it.")
    superseded_by = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="supersedes"
    )
    confidence = models.FloatField(default=0.5)
    embedding = VectorField(dimensions=EMBEDDING_DIMENSIONS, null=True, blank=True)
    search_vector = models.GeneratedField(
        expression=SearchVector("statement", config=FTS_CONFIG),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    class Meta:
        ordering = ("-recorded_at", "-id")
        constraints = (
            *ScopedMemory.Meta.constraints,
            # Two writers superseding one fact at once: the second current row loses here.
            models.UniqueConstraint(
                fields=("guild_id", "subject_user_id", "attribute"),
                condition=models.Q(superseded_at__isnull=True),
                name="memory_fact_one_current_per_attribute",
            ),
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True) | models.Q(valid_to__gte=models.F("valid_from")),
                name="memory_fact_valid_range",
            ),
        )
        indexes = (
            _hnsw("memory_fact_hnsw"),
            GinIndex(name="memory_fact_fts", fields=["search_vector"]),
            GinIndex(name="memory_fact_sources", fields=["source_transcript_ids"]),
            models.Index(fields=("guild_id", "subject_user_id", "attribute"), name="memory_fact_guild_subject"),
        )

    def __str__(self) -> str:
        return f"{self.subject_user_id}.{self.attribute}: {self.statement[:60]}"

    @property
    def is_current(self) -> bool:
        """Whether no newer fact has replaced this one."""
        return self.superseded_at is None


class GroupLore(ScopedMemory):
    """A pattern of the group as a unit: rivalries, running jokes, shared vocabulary."""

    kind = models.CharField(max_length=20, choices=LoreKind.choices, default=LoreKind.RUNNING_JOKE)
    body_text = models.TextField(help_text="The pattern, paraphrased.")
    subject_user_ids = ArrayField(
        models.CharField(max_length=64), default=list, blank=True, help_text="Everyone the lore mentions."
    )
    score = models.FloatField(default=0.0)
    updated_at = models.DateTimeField(default=timezone.now)
    embedding = VectorField(dimensions=EMBEDDING_DIMENSIONS, null=True, blank=True)
    search_vector = models.GeneratedField(
        expression=SearchVector("body_text", config=FTS_CONFIG),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    class Meta:
        ordering = ("-score", "-id")
        verbose_name_plural = "group lore"
        constraints = (
            *ScopedMemory.Meta.constraints,
            models.CheckConstraint(condition=models.Q(kind__in=LoreKind.values), name="memory_lore_kind_valid"),
        )
        indexes = (
            _hnsw("memory_lore_hnsw"),
            GinIndex(name="memory_lore_fts", fields=["search_vector"]),
            GinIndex(name="memory_lore_subjects", fields=["subject_user_ids"]),
            GinIndex(name="memory_lore_sources", fields=["source_transcript_ids"]),
        )

    def __str__(self) -> str:
        return f"{self.kind}: {self.body_text[:60]}"


class CoreBlock(ScopedMemory):
    """A small pinned block always shown for its scope (persona, guild, channel, user); the database caps its size."""

    scope = models.CharField(max_length=10, choices=CoreBlockScope.choices)
    persona_id = models.BigIntegerField(null=True, blank=True, help_text="For persona blocks (a plain id).")
    label = models.CharField(max_length=100)
    body = models.TextField(help_text=f"At most {CORE_BLOCK_MAX_CHARS} characters; the database refuses more.")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("scope", "label")
        constraints = (
            *ScopedMemory.Meta.constraints,
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("body"), CORE_BLOCK_MAX_CHARS), name="memory_coreblock_body_size"
            ),
            models.CheckConstraint(condition=models.Q(scope__in=CoreBlockScope.values), name="memory_coreblock_scope"),
            models.CheckConstraint(
                condition=~models.Q(scope=CoreBlockScope.PERSONA) | models.Q(persona_id__isnull=False),
                name="memory_coreblock_persona_has_id",
            ),
            models.CheckConstraint(
                condition=~models.Q(scope=CoreBlockScope.CHANNEL) | ~models.Q(channel_id=""),
                name="memory_coreblock_channel_has_id",
            ),
            models.CheckConstraint(
                condition=~models.Q(scope=CoreBlockScope.USER) | ~models.Q(subject_user_id=""),
                name="memory_coreblock_user_has_id",
            ),
            models.UniqueConstraint(
                fields=("scope", "persona_id", "guild_id", "channel_id", "subject_user_id", "label"),
                nulls_distinct=False,
                name="memory_coreblock_unique_label",
            ),
        )

    def __str__(self) -> str:
        return f"{self.scope} block {self.label}"


__all__ = ["CORE_BLOCK_MAX_CHARS", "CoreBlock", "Dossier", "Fact", "GroupLore", "Highlight"]
