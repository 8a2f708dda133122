"""What every derived memory row carries: guild, channel, subject, visibility, and the messages it came from."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone

from memory.choices import Visibility

# One dimension for the deployment (settings.DIT_EMBEDDING_DIMENSIONS, 384 for all-MiniLM-L6-v2).
EMBEDDING_DIMENSIONS: int = settings.DIT_EMBEDDING_DIMENSIONS
# Full-text search configuration of every tsvector column and every query against them.
FTS_CONFIG = "english"
# HNSW build parameters, stated so the benches and docs name what they measure. Above pgvector's defaults
# (16 and 64): over a million clustered rows those bound recall@10 near 0.94 whatever ef_search is, while 24
# and 128 reach 0.98 at ef_search 100 in less time per query (docs/benchmarks.md, "Vector search"); the cost
# is a build about twice as long and a larger index.
HNSW_M = 24
HNSW_EF_CONSTRUCTION = 128


class ScopedMemory(models.Model):
    """A row of derived memory: where it was said, about whom, and who may see it.

    A DM row has no guild and `dm` visibility; a guild row always has a guild. The privacy boundary and
    every search filter lean on that, so the database checks it.
    """

    guild_id = models.CharField(max_length=64, blank=True, help_text="Empty for direct-message memory.")
    channel_id = models.CharField(max_length=64, blank=True, help_text="Where it was said: provenance, not partition.")
    subject_user_id = models.CharField(
        max_length=64, blank=True, help_text="The person this row is by or about; empty when it is about the group."
    )
    visibility = models.CharField(max_length=8, choices=Visibility.choices, default=Visibility.GUILD)
    source_transcript_ids = ArrayField(
        models.BigIntegerField(),
        default=list,
        blank=True,
        help_text="The transcript rows this was derived from: memory can be rebuilt from them.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True
        constraints = (
            models.CheckConstraint(
                condition=models.Q(visibility=Visibility.DM, guild_id="")
                | (models.Q(visibility=Visibility.GUILD) & ~models.Q(guild_id="")),
                name="%(app_label)s_%(class)s_dm_iff_no_guild",
            ),
        )

    @property
    def is_dm(self) -> bool:
        """Whether the row was drawn from direct messages."""
        return self.visibility == Visibility.DM
