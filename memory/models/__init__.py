"""Models of the memory app, split by layer; import them from here."""

from __future__ import annotations

from memory.models.archive import ArchiveEntry, GuildMemoryPolicy
from memory.models.base import EMBEDDING_DIMENSIONS, FTS_CONFIG, ScopedMemory
from memory.models.epochs import Epoch
from memory.models.forgetting import ForgetRequest
from memory.models.layers import CORE_BLOCK_MAX_CHARS, CoreBlock, Dossier, Fact, GroupLore, Highlight
from memory.models.transcripts import (
    IMMUTABLE_HINT,
    TRANSCRIPT_SEQ_NAME,
    ImmutableTranscriptModel,
    ImmutableTranscriptQuerySet,
    Reaction,
    Transcript,
    TranscriptRevision,
)

__all__ = [
    "CORE_BLOCK_MAX_CHARS",
    "EMBEDDING_DIMENSIONS",
    "FTS_CONFIG",
    "IMMUTABLE_HINT",
    "TRANSCRIPT_SEQ_NAME",
    "ArchiveEntry",
    "CoreBlock",
    "Dossier",
    "Epoch",
    "Fact",
    "ForgetRequest",
    "GroupLore",
    "GuildMemoryPolicy",
    "Highlight",
    "ImmutableTranscriptModel",
    "ImmutableTranscriptQuerySet",
    "Reaction",
    "ScopedMemory",
    "Transcript",
    "TranscriptRevision",
]
