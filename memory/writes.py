"""Write gates of derived memory: what may become a highlight, a fact or lore, and what is refused.

Memory is add-only. Every write names the transcripts it came from; extraction reads human turns only (a
bot's own words count only when a human confirmed them, by replying to that message among the sources);
exact and near duplicates (cosine at or above DIT_MEMORY_DUPLICATE_COSINE against the subject's rows) are
refused; a changed fact supersedes the current one, and both rows stay with their clocks. Writes for one
subject are serialized by a transaction-scoped advisory lock, so two writers cannot both pass the gate.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone
from pgvector.django import CosineDistance

from memory.choices import HighlightKind, LoreKind, Visibility
from memory.embedding.minilm import Vectors
from memory.embedding.providers import Embedder, default_embedder
from memory.errors import MemoryWriteRefused
from memory.models import Fact, GroupLore, Highlight, Transcript
from memory.search import tuned_vector_search

logger = logging.getLogger(__name__)


class WriteOutcome(models.TextChoices):
    """What a gate decided about one candidate row."""

    WRITTEN = "written", "Written"
    SUPERSEDED = "superseded", "Written, superseding the current fact"
    DUPLICATE = "duplicate", "Refused: the same text is already stored"
    NEAR_DUPLICATE = "near-duplicate", "Refused: a stored row is too similar"
    NOT_HUMAN = "not-human", "Refused: drawn from a bot's words no human confirmed"
    NOT_VERBATIM = "not-verbatim", "Refused: a highlight's words are not in its sources"


@dataclass(frozen=True)
class WriteResult:
    """The gate's decision, the row written (if any), and the stored row it collided with (if any)."""

    outcome: WriteOutcome
    row: models.Model | None = None
    similar_to: int | None = None
    similarity: float | None = None

    @property
    def written(self) -> bool:
        """Whether a row was added."""
        return self.outcome in (WriteOutcome.WRITTEN, WriteOutcome.SUPERSEDED)


@dataclass(frozen=True)
class SourceScope:
    """Where a set of source transcripts was said: one guild (or one DM channel), its visibility."""

    guild_id: str
    channel_id: str
    visibility: Visibility
    said_at: datetime


def source_scope(sources: Sequence[Transcript]) -> SourceScope:
    """The one scope of the sources; sources from two guilds, or a guild and a DM, are refused."""
    if not sources:
        raise MemoryWriteRefused("a memory row needs at least one source transcript", field="sources")
    guilds = {(source.guild_id, source.is_dm) for source in sources}
    if len(guilds) != 1:
        raise MemoryWriteRefused("sources span more than one guild or mix a DM with a guild", field="sources")
    guild_id, is_dm = next(iter(guilds))
    if is_dm and len({source.channel_id for source in sources}) != 1:
        raise MemoryWriteRefused("DM sources must all come from one DM channel", field="sources")
    newest = max(sources, key=lambda source: (source.created_at, source.seq))
    return SourceScope(
        guild_id=guild_id,
        channel_id=newest.channel_id,
        visibility=Visibility.DM if is_dm else Visibility.GUILD,
        said_at=newest.created_at,
    )


def human_confirmed(sources: Sequence[Transcript]) -> bool:
    """Whether every bot-authored source was confirmed by a human source replying to it."""
    confirmations = {source.reply_to_message_id for source in sources if not source.author_is_bot}
    return all(source.message_id in confirmations for source in sources if source.author_is_bot)


def normalise(text: str) -> str:
    """Text as duplicates are compared: case-folded, whitespace collapsed, punctuation at the ends dropped."""
    return re.sub(r"\s+", " ", text.casefold()).strip(" .!?,;:")


def record_highlight(
    *,
    sources: Sequence[Transcript],
    raw_text: str,
    kind: HighlightKind = HighlightKind.QUOTE,
    score: float = 0.0,
    surrounding_context: str = "",
    embedder: Embedder | None = None,
    vector: Vectors | None = None,
) -> WriteResult:
    """Keep a moment verbatim: its words must appear in a source, said by a human (or confirmed by one)."""
    scope = source_scope(sources)
    if not human_confirmed(sources):
        return WriteResult(WriteOutcome.NOT_HUMAN)
    speaker = next((s for s in sources if raw_text.strip() and raw_text.strip() in s.content), None)
    if speaker is None:
        return WriteResult(WriteOutcome.NOT_VERBATIM)
    subject = speaker.author_id
    vector = vector if vector is not None else (embedder or default_embedder()).embed([raw_text])[0]
    with transaction.atomic():
        _lock_subject(scope.guild_id or scope.channel_id, subject)
        rows = Highlight.objects.filter(guild_id=scope.guild_id, subject_user_id=subject, visibility=scope.visibility)
        refused = _duplicate(rows, "raw_text", raw_text, vector)
        if refused is not None:
            return refused
        row = Highlight.objects.create(
            guild_id=scope.guild_id,
            channel_id=speaker.channel_id,
            subject_user_id=subject,
            visibility=scope.visibility,
            source_transcript_ids=sorted(source.pk for source in sources),
            kind=kind,
            raw_text=raw_text.strip(),
            attribution=speaker.author_display_name,
            surrounding_context=surrounding_context,
            score=max(0.0, min(1.0, score)),
            said_at=speaker.created_at,
            embedding=vector,
        )
    return WriteResult(WriteOutcome.WRITTEN, row=row)


def record_fact(
    *,
    sources: Sequence[Transcript],
    subject_user_id: str,
    attribute: str,
    statement: str,
    valid_from: datetime | None = None,
    confidence: float = 0.5,
    embedder: Embedder | None = None,
    vector: Vectors | None = None,
) -> WriteResult:
    """Add a fact; one that changes the subject's current fact on the attribute supersedes it (both kept)."""
    scope = source_scope(sources)
    if not human_confirmed(sources):
        return WriteResult(WriteOutcome.NOT_HUMAN)
    if not subject_user_id or not attribute.strip() or not statement.strip():
        raise MemoryWriteRefused("a fact needs a subject, an attribute and a statement", field="statement")
    attribute = normalise(attribute).replace(" ", "_")[:100]
    vector = vector if vector is not None else (embedder or default_embedder()).embed([statement])[0]
    valid_from = valid_from or scope.said_at
    with transaction.atomic():
        _lock_subject(scope.guild_id or scope.channel_id, subject_user_id)
        rows = Fact.objects.filter(
            guild_id=scope.guild_id,
            subject_user_id=subject_user_id,
            visibility=scope.visibility,
            superseded_at__isnull=True,
        )
        refused = _duplicate(rows, "statement", statement, vector)
        if refused is not None:
            return refused
        now = timezone.now()
        current = rows.filter(attribute=attribute).select_for_update().first()
        row = Fact(
            guild_id=scope.guild_id,
            channel_id=scope.channel_id,
            subject_user_id=subject_user_id,
            visibility=scope.visibility,
            source_transcript_ids=sorted(source.pk for source in sources),
            attribute=attribute,
            statement=statement.strip(),
            valid_from=valid_from,
            recorded_at=now,
            confidence=max(0.0, min(1.0, confidence)),
            embedding=vector,
        )
        if current is None:
            row.save()
            return WriteResult(WriteOutcome.WRITTEN, row=row)
        # The old row is closed first: the one-current-fact constraint holds at every statement.
        current.superseded_at = now
        current.valid_to = max(valid_from, current.valid_from)
        current.save(update_fields=["superseded_at", "valid_to"])
        row.save()
        current.superseded_by = row
        current.save(update_fields=["superseded_by"])
    return WriteResult(WriteOutcome.SUPERSEDED, row=row, similar_to=current.pk)


def record_lore(
    *,
    sources: Sequence[Transcript],
    kind: LoreKind,
    body_text: str,
    subject_user_ids: Sequence[str] = (),
    score: float = 0.0,
    embedder: Embedder | None = None,
    vector: Vectors | None = None,
) -> WriteResult:
    """Add a pattern of the group; the subject of lore is the group, so duplicates are checked guild-wide."""
    scope = source_scope(sources)
    if not human_confirmed(sources):
        return WriteResult(WriteOutcome.NOT_HUMAN)
    vector = vector if vector is not None else (embedder or default_embedder()).embed([body_text])[0]
    with transaction.atomic():
        _lock_subject(scope.guild_id or scope.channel_id, "")
        rows = GroupLore.objects.filter(guild_id=scope.guild_id, visibility=scope.visibility)
        refused = _duplicate(rows, "body_text", body_text, vector)
        if refused is not None:
            return refused
        row = GroupLore.objects.create(
            guild_id=scope.guild_id,
            channel_id=scope.channel_id,
            subject_user_id="",
            visibility=scope.visibility,
            source_transcript_ids=sorted(source.pk for source in sources),
            kind=kind,
            body_text=body_text.strip(),
            subject_user_ids=sorted(set(subject_user_ids)),
            score=max(0.0, min(1.0, score)),
            embedding=vector,
        )
    return WriteResult(WriteOutcome.WRITTEN, row=row)


def _duplicate(rows: models.QuerySet[Any], field: str, text: str, vector: Vectors) -> WriteResult | None:
    same = rows.filter(**{f"{field}__iexact": text.strip()}).values_list("pk", flat=True).first()
    if same is not None:
        return WriteResult(WriteOutcome.DUPLICATE, similar_to=same, similarity=1.0)
    threshold = float(settings.DIT_MEMORY_DUPLICATE_COSINE)
    # The subject filter sits inside the HNSW scan with iterative scan on, so the nearest rows of this subject
    # are found however many rows others have; relaxed order may swap neighbours, so the best of five counts.
    with tuned_vector_search(None):
        candidates = list(
            rows.filter(embedding__isnull=False)
            .annotate(distance=CosineDistance("embedding", vector))
            .order_by("distance")
            .values_list("pk", "distance")[:5]
        )
    if candidates:
        pk, distance = min(candidates, key=lambda candidate: float(candidate[1]))
        if 1.0 - float(distance) >= threshold:
            return WriteResult(WriteOutcome.NEAR_DUPLICATE, similar_to=pk, similarity=1.0 - float(distance))
    return None


def _lock_subject(scope_key: str, subject: str) -> None:
    # Held until the transaction ends: the duplicate check and the insert are one step for this subject.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"memory:{scope_key}:{subject}"])
