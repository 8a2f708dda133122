"""The immutable transcript and its edit revisions: the raw record every memory layer is derived from."""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models.functions import Now

from memory.choices import TranscriptRole
from memory.errors import TranscriptImmutable

# The transcript's arrival order comes from its own sequence (created in migration 0002), so `seq` is
# assigned by the database on insert, by the ORM and by the raw INSERT of the ingest path alike.
TRANSCRIPT_SEQ_NAME = "memory_transcript_seq"

IMMUTABLE_HINT = "record an edit with memory.ingest.ingest_message; delete only through purge_transcripts"


class ImmutableTranscriptQuerySet(models.QuerySet[Any]):
    """A queryset that refuses bulk changes: the rows it reads are a record, not state."""

    def update(self, **kwargs: Any) -> int:
        """Refuse: transcript rows never change once written."""
        raise TranscriptImmutable(f"{self.model.__name__} rows are immutable; {IMMUTABLE_HINT}")

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> int:
        """Refuse before any transaction is opened, like update()."""
        raise TranscriptImmutable(f"{self.model.__name__} rows are immutable; {IMMUTABLE_HINT}")

    def delete(self) -> tuple[int, dict[str, int]]:
        """Refuse: deletion belongs to the retention service alone."""
        raise TranscriptImmutable(f"{self.model.__name__} rows are deleted only by retention; {IMMUTABLE_HINT}")


class ImmutableTranscriptModel(models.Model):
    """A row written once: saving it again or deleting it raises (the database triggers agree)."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Insert a new row; refuse to write an existing one."""
        if not self._state.adding:
            raise TranscriptImmutable(f"{type(self).__name__} {self.pk} is immutable; {IMMUTABLE_HINT}")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        """Refuse: deletion belongs to the retention service alone."""
        raise TranscriptImmutable(f"{type(self).__name__} {self.pk} is deleted only by retention; {IMMUTABLE_HINT}")


class Transcript(ImmutableTranscriptModel):
    """One message as it first arrived, never changed: the raw record every memory layer is derived from."""

    platform = models.CharField(max_length=32, help_text="Adapter the message came from, e.g. 'discord'.")
    message_id = models.CharField(max_length=64, help_text="The platform's id of the message.")
    seq = models.BigIntegerField(
        db_default=models.Func(models.Value(TRANSCRIPT_SEQ_NAME), function="nextval"),
        editable=False,
        help_text="Arrival order across all transcripts; increases, may have gaps.",
    )
    guild_id = models.CharField(max_length=64, blank=True, help_text="Empty for direct messages.")
    channel_id = models.CharField(max_length=64, help_text="Where the message was posted (the thread, in a thread).")
    channel_name = models.CharField(max_length=200, blank=True)
    parent_channel_id = models.CharField(
        max_length=64, blank=True, help_text="The channel a thread hangs off; empty outside threads."
    )
    is_dm = models.BooleanField(default=False)
    author_id = models.CharField(max_length=64)
    author_display_name = models.CharField(max_length=200)
    author_is_bot = models.BooleanField(default=False)
    role = models.CharField(max_length=16, choices=TranscriptRole.choices, default=TranscriptRole.USER)
    content = models.TextField(blank=True)
    reply_to_message_id = models.CharField(max_length=64, blank=True)
    reply_to_author_id = models.CharField(max_length=64, blank=True)
    mentions = ArrayField(models.CharField(max_length=64), default=list, blank=True, help_text="Mentioned user ids.")
    created_at = models.DateTimeField(help_text="When the platform says the message was posted.")
    ingested_at = models.DateTimeField(db_default=Now(), editable=False)

    objects = ImmutableTranscriptQuerySet.as_manager()

    class Meta:
        ordering = ("created_at", "seq")
        constraints = (
            models.UniqueConstraint(fields=("platform", "message_id"), name="memory_transcript_unique_message"),
            models.UniqueConstraint(fields=("seq",), name="memory_transcript_unique_seq"),
            # A DM has no guild and a guild message always has one: the privacy boundary leans on this.
            models.CheckConstraint(
                condition=models.Q(is_dm=True, guild_id="") | (models.Q(is_dm=False) & ~models.Q(guild_id="")),
                name="memory_transcript_dm_iff_no_guild",
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=TranscriptRole.values), name="memory_transcript_role_valid"
            ),
        )
        indexes = (
            models.Index(fields=("guild_id", "created_at"), name="memory_tx_guild_created"),
            models.Index(fields=("channel_id", "created_at"), name="memory_tx_channel_created"),
            # "Did anyone reply to this?" (unanswered questions, bot history): replies only, so ingest pays little.
            models.Index(
                fields=("reply_to_message_id",),
                condition=~models.Q(reply_to_message_id=""),
                name="memory_tx_reply_to",
            ),
            models.Index(fields=("guild_id", "author_id", "created_at"), name="memory_tx_guild_author"),
            # "Who pushed back on whom" (the contrasting strategy): replies between given people, replies only.
            models.Index(
                fields=("reply_to_author_id", "author_id"),
                condition=~models.Q(reply_to_author_id=""),
                name="memory_tx_reply_author",
            ),
        )

    def __str__(self) -> str:
        where = self.channel_name or self.channel_id
        return f"{self.platform}:{self.message_id} by {self.author_display_name} in {where}"


class TranscriptRevision(ImmutableTranscriptModel):
    """A later wording of a transcript line: edits are added beside the original, never written over it."""

    # No separate index: the (transcript, edited_at) unique constraint below serves every lookup by transcript.
    transcript = models.ForeignKey(Transcript, on_delete=models.CASCADE, related_name="revisions", db_index=False)
    content = models.TextField(blank=True)
    edited_at = models.DateTimeField(help_text="When the platform says the edit was made.")
    ingested_at = models.DateTimeField(db_default=Now(), editable=False)

    objects = ImmutableTranscriptQuerySet.as_manager()

    class Meta:
        ordering = ("transcript_id", "edited_at", "id")
        constraints = (
            # A redelivered edit carries the same edited_at: it is stored once.
            models.UniqueConstraint(fields=("transcript", "edited_at"), name="memory_revision_unique_edit"),
        )

    def __str__(self) -> str:
        return f"edit of {self.transcript_id} at {self.edited_at.isoformat()}"


class Reaction(models.Model):
    """Whether one person's emoji stands on one message: added and removed as the platform reports it.

    One row per (message, person, emoji). An add while the reaction stands, or a remove while it does not,
    changes nothing: that is how a replayed event (a resumed session) is told from a real change.
    """

    platform = models.CharField(max_length=32)
    message_id = models.CharField(max_length=64, help_text="The message reacted to.")
    guild_id = models.CharField(max_length=64, blank=True, help_text="Empty for direct messages.")
    channel_id = models.CharField(max_length=64)
    is_dm = models.BooleanField(default=False)
    message_author_id = models.CharField(max_length=64, blank=True, help_text="Who wrote the message, when known.")
    user_id = models.CharField(max_length=64, help_text="Who reacted.")
    user_is_bot = models.BooleanField(default=False)
    emoji = models.CharField(max_length=100)
    present = models.BooleanField(default=True, help_text="Whether the reaction stands now.")
    changes = models.PositiveIntegerField(default=1, help_text="How many times it was added or removed.")
    first_added_at = models.DateTimeField(db_default=Now())
    changed_at = models.DateTimeField(db_default=Now())

    class Meta:
        ordering = ("-changed_at", "-id")
        constraints = (
            models.UniqueConstraint(
                fields=("platform", "message_id", "user_id", "emoji"), name="memory_reaction_unique_per_person"
            ),
            models.CheckConstraint(
                condition=models.Q(is_dm=True, guild_id="") | (models.Q(is_dm=False) & ~models.Q(guild_id="")),
                name="memory_reaction_dm_iff_no_guild",
            ),
        )
        indexes = (
            models.Index(fields=("platform", "message_id"), name="memory_reaction_message"),
            models.Index(fields=("guild_id", "changed_at"), name="memory_reaction_guild_changed"),
        )

    def __str__(self) -> str:
        state = "on" if self.present else "off"
        return f"{self.emoji} by {self.user_id} on {self.platform}:{self.message_id} ({state})"
