"""Forget-me: a member asks (or an admin acts) and memory forgets them in one guild.

Deleted: their dossier, highlights, facts, core blocks, every lore row that mentions them, their archive rows
(embeddings and full-text vectors), and any derived row built from their messages. Redacted, not dropped:
their transcripts (words, name and id replaced; transcripts are immutable otherwise, and this service is the
one that opens the guard, for its own transaction) and the places other people's messages name them. Every
epoch summary that covered their messages is written again from the redacted transcripts. The action is
logged as a `ForgetRequest` that names the member only by a keyed hash.

Other apps keep member data too (the steward's threat scores, research payloads, reception rows, the
router's logged inputs, self-followup contexts, tasks); they receive `memory.signals.member_forgotten` in
the same transaction. The gateway's recorded tool calls, whose
arguments may name the member, are redacted here.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import uuid
from collections.abc import Sequence

from django.conf import settings
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from gateway.models import ToolInvocation
from memory.archive import archive_transcripts, embed_pending
from memory.choices import ForgetRequester, ForgetStatus
from memory.embedding.providers import Embedder
from memory.epochs import resummarize
from memory.errors import ForgetError
from memory.models import (
    ArchiveEntry,
    CoreBlock,
    Dossier,
    Epoch,
    Fact,
    ForgetRequest,
    GroupLore,
    Highlight,
    Transcript,
    TranscriptRevision,
)
from memory.signals import member_forgotten
from reactor.services import schedule

logger = logging.getLogger(__name__)

FORGET_TRIGGER = "memory.forget_member"
REDACTED = "[redacted]"
FORGOTTEN_NAME = "forgotten member"

# "forget me", "please forget everything about me", "delete my data", "erase me", "don't remember me"...
_REQUEST = re.compile(
    r"\b(?:please\s+)?(?:"
    r"forget\s+(?:about\s+)?me\b"
    r"|forget\s+(?:everything|all)\s+(?:you\s+know\s+)?about\s+me\b"
    r"|forget\s+(?:everything|all)\s+i\s+(?:ever\s+)?(?:said|told\s+you)\b"
    r"|(?:delete|erase|wipe|remove)\s+(?:all\s+)?(?:of\s+)?(?:my\s+(?:data|memories|memory|history|messages)|"
    r"everything\s+(?:you\s+know\s+)?about\s+me|me\s+from\s+(?:your\s+)?memory)\b"
    r"|erase\s+me\b"
    r"|(?:don't|do\s+not|stop)\s+remember(?:ing)?\s+(?:anything\s+about\s+)?me\b"
    r")",
    re.IGNORECASE,
)
# Talk about forgetting that is not a request to be forgotten.
_NOT_A_REQUEST = re.compile(
    r"\b(?:don't|do\s+not|never)\s+forget\s+(?:about\s+)?me\b|\bforget\s+me\s+not\b|\bdid\s+you\s+forget\s+me\b"
    r"|\bhow\s+(?:do|can|would)\s+i\s+(?:make\s+you\s+)?forget\b",
    re.IGNORECASE,
)


def is_forget_request(text: str) -> bool:
    """Whether a message addressed to the bot asks it to forget its author (a pure function; the host calls it)."""
    if not text or _NOT_A_REQUEST.search(text):
        return False
    return bool(_REQUEST.search(text))


def request_forget(*, guild_id: str, user_id: str) -> uuid.UUID:
    """A member asked in chat to be forgotten: schedule `forget_member` through the reactor (durable, once)."""
    if not guild_id or not user_id:
        raise ForgetError("forget-me needs a guild_id and a user_id", field="user_id" if guild_id else "guild_id")
    return schedule(
        FORGET_TRIGGER,
        due_at=timezone.now(),
        payload={"guild_id": guild_id, "user_id": user_id},
        dedupe_key=f"{FORGET_TRIGGER}:{subject_hash(guild_id, user_id)}",
        guild_id=guild_id,
    )


def subject_hash(guild_id: str, user_id: str) -> str:
    """HMAC-SHA256 of guild and member under SECRET_KEY: the log can be checked against an id, never reversed."""
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"forget:{guild_id}:{user_id}".encode(), hashlib.sha256).hexdigest()


def pseudonym(guild_id: str, user_id: str) -> str:
    """What a forgotten member's id becomes in the redacted transcripts."""
    return f"forgotten-{subject_hash(guild_id, user_id)[:16]}"


def forget_member(
    *,
    guild_id: str,
    user_id: str,
    requested_by: ForgetRequester,
    staff_username: str = "",
    embedder: Embedder | None = None,
) -> ForgetRequest:
    """Forget a member in a guild: delete what memory derived about them, redact their words, redo summaries."""
    if not guild_id or not user_id:
        raise ForgetError("forget-me needs a guild_id and a user_id", field="user_id" if guild_id else "guild_id")
    log = ForgetRequest(
        guild_id=guild_id,
        subject_hash=subject_hash(guild_id, user_id),
        requested_by=requested_by,
        requested_by_staff=staff_username,
    )
    try:
        with transaction.atomic():
            deleted, epoch_ids, touched = _forget(guild_id, user_id)
        # Outside the transaction: regenerating summaries calls a model; the deletions are already durable.
        archive_transcripts(touched)
        embed_pending(embedder=embedder, guild_id=guild_id)
        # A summary that cannot be regenerated (the model is down) is left empty, never with the old words.
        log.epochs_regenerated = resummarize(epoch_ids, embedder=embedder)
        log.deleted = deleted
        log.status = ForgetStatus.DONE
    except Exception as exc:
        log.status, log.last_error = ForgetStatus.FAILED, f"{type(exc).__name__}: {exc}"[:2000]
        log.finished_at = timezone.now()
        log.save()
        logger.exception("forget-me failed in guild %s (subject %s)", guild_id, log.subject_hash[:10])
        raise
    log.finished_at = timezone.now()
    log.save()
    logger.info("forget-me done in guild %s (subject %s): %s", guild_id, log.subject_hash[:10], deleted)
    return log


def _forget(guild_id: str, user_id: str) -> tuple[dict[str, int], list[int], list[int]]:
    own = Transcript.objects.filter(guild_id=guild_id, author_id=user_id)
    own_ids = list(own.values_list("pk", flat=True))
    names = _names_of(guild_id, user_id)
    mentions = _name_pattern(names, user_id)
    epoch_ids = list(
        Epoch.objects.filter(guild_id=guild_id)
        .filter(Q(participants__contains=[user_id]) | _text_q("summary_text", names, user_id))
        .values_list("pk", flat=True)
    )
    deleted: dict[str, int] = {}

    def remove(label: str, count: int) -> None:
        deleted[label] = deleted.get(label, 0) + count

    remove("dossiers", Dossier.objects.filter(guild_id=guild_id, subject_user_id=user_id).delete()[0])
    for label, model, text_field in (("highlights", Highlight, "raw_text"), ("facts", Fact, "statement")):
        rows = model.objects.filter(guild_id=guild_id).filter(
            Q(subject_user_id=user_id)
            | Q(source_transcript_ids__overlap=own_ids or [0])
            | _text_q(text_field, names, user_id)
            | (_text_q("surrounding_context", names, user_id) if model is Highlight else Q(pk__in=[]))
        )
        remove(label, rows.delete()[0])
    lore = GroupLore.objects.filter(guild_id=guild_id).filter(
        Q(subject_user_ids__contains=[user_id])
        | Q(source_transcript_ids__overlap=own_ids or [0])
        | _text_q("body_text", names, user_id)
    )
    remove("lore", lore.delete()[0])
    blocks = CoreBlock.objects.filter(guild_id=guild_id).filter(
        Q(subject_user_id=user_id) | _text_q("body", names, user_id)
    )
    remove("core_blocks", blocks.delete()[0])
    archive = ArchiveEntry.objects.filter(guild_id=guild_id).filter(
        Q(subject_user_id=user_id) | _text_q("content", names, user_id)
    )
    # Other people's lines that name the member are re-archived from the redacted wording below.
    touched = list(archive.exclude(subject_user_id=user_id).values_list("transcript_id", flat=True))
    remove("archive_entries", archive.delete()[0])
    alias = pseudonym(guild_id, user_id)
    calls = ToolInvocation.objects.filter(guild_id=guild_id).alias(text=Cast("arguments", TextField()))
    remove("tool_calls_redacted", calls.filter(text__iregex=mentions).update(arguments={"redacted": REDACTED}))
    # Before the member's transcripts lose their id: receivers may look their messages up.
    message_ids = list(own.values_list("message_id", flat=True))
    for _receiver, counts in member_forgotten.send(
        sender=ForgetRequest,
        guild_id=guild_id,
        user_id=user_id,
        alias=alias,
        pattern=mentions,
        message_ids=message_ids,
    ):
        received: dict[str, int] = counts if isinstance(counts, dict) else {}
        for label, count in received.items():
            remove(label, count)
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('dit.transcript_redaction', 'on', true)")
        remove("transcripts_redacted", _redact_own(cursor, guild_id, user_id, alias))
        remove("transcripts_mentioning", _redact_mentions(cursor, guild_id, user_id, alias, mentions))
        cursor.execute("SELECT set_config('dit.transcript_redaction', 'off', true)")
    return deleted, epoch_ids, touched


def _names_of(guild_id: str, user_id: str) -> list[str]:
    names = set(
        Transcript.objects.filter(guild_id=guild_id, author_id=user_id).values_list("author_display_name", flat=True)
    )
    names |= set(
        Dossier.objects.filter(guild_id=guild_id, subject_user_id=user_id).values_list("display_name", flat=True)
    )
    # Very short names ("al") would redact unrelated words: they are matched only as a mention.
    return sorted(name for name in names if len(name.strip()) >= 3)


def _name_pattern(names: Sequence[str], user_id: str) -> str:
    alternatives = [rf"<@!?{re.escape(user_id)}>"] + [rf"\m{re.escape(name)}\M" for name in names]
    return "(" + "|".join(alternatives) + ")"


def _text_q(field: str, names: Sequence[str], user_id: str) -> Q:
    return Q(**{f"{field}__iregex": _name_pattern(names, user_id)})


def _redact_own(cursor: CursorWrapper, guild_id: str, user_id: str, alias: str) -> int:
    cursor.execute(
        f"UPDATE {TranscriptRevision._meta.db_table} SET content = %s WHERE transcript_id IN "  # noqa: S608
        f"(SELECT id FROM {Transcript._meta.db_table} WHERE guild_id = %s AND author_id = %s)",
        [REDACTED, guild_id, user_id],
    )
    cursor.execute(
        f"UPDATE {Transcript._meta.db_table} SET content = %s, author_id = %s, author_display_name = %s, "  # noqa: S608
        "mentions = array_replace(mentions, %s, %s), "
        "reply_to_author_id = CASE WHEN reply_to_author_id = %s THEN %s ELSE reply_to_author_id END "
        "WHERE guild_id = %s AND author_id = %s",
        [REDACTED, alias, FORGOTTEN_NAME, user_id, alias, user_id, alias, guild_id, user_id],
    )
    return int(cursor.rowcount)


def _redact_mentions(cursor: CursorWrapper, guild_id: str, user_id: str, alias: str, pattern: str) -> int:
    replacement = f"[{FORGOTTEN_NAME}]"
    cursor.execute(
        f"UPDATE {TranscriptRevision._meta.db_table} r SET content = regexp_replace(r.content, %s, %s, 'gi') "  # noqa: S608
        f"FROM {Transcript._meta.db_table} t WHERE r.transcript_id = t.id AND t.guild_id = %s AND r.content ~* %s",
        [pattern, replacement, guild_id, pattern],
    )
    cursor.execute(
        f"UPDATE {Transcript._meta.db_table} SET "  # noqa: S608
        "content = regexp_replace(content, %s, %s, 'gi'), "
        "mentions = array_replace(mentions, %s, %s), "
        "reply_to_author_id = CASE WHEN reply_to_author_id = %s THEN %s ELSE reply_to_author_id END "
        "WHERE guild_id = %s AND (content ~* %s OR %s = ANY(mentions) OR reply_to_author_id = %s)",
        [pattern, replacement, user_id, alias, user_id, alias, guild_id, pattern, user_id, user_id],
    )
    return int(cursor.rowcount)


__all__ = ["FORGET_TRIGGER", "forget_member", "is_forget_request", "pseudonym", "request_forget", "subject_hash"]
