"""MomentExtractor: "this just landed: does it deserve keeping?", cheapest signals first, then a cheap model.

A few minutes after the bot spoke (the `memory.extract_exchange` trigger), `extract_exchange` looks at the
exchange: reactions, replies, the bot's
words quoted later, self-disclosure patterns, phrases the guild repeats, the silence after a message. Only
messages whose signals pass a threshold go to the model check (purpose `extract`, through the validated
parser and its retries), which may keep a verbatim quote as a highlight and state facts; every write goes
through the gates of `memory.writes`. `consolidate_guild` is the batched half: dossiers and lore.
"""

from __future__ import annotations

import logging
import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Count, Max
from django.utils import timezone

from memory.choices import HighlightKind, LoreKind, Visibility
from memory.embedding.providers import Embedder
from memory.models import Dossier, Fact, Highlight, Transcript
from memory.writes import record_fact, record_highlight, record_lore

logger = logging.getLogger(__name__)

SELF_DISCLOSURE = re.compile(
    r"\b(i'm|i am|i was|i work|i live|i just|i've|i have|i got|i used to|i hate|i love|i moved|i quit|"
    r"my (wife|husband|partner|boss|dog|cat|kid|son|daughter|job|mom|dad|sister|brother|new))\b",
    re.IGNORECASE,
)
SIGNAL_THRESHOLD = 1.0
MAX_MODEL_CHECKS = 3
SILENCE_WEIGHT_AFTER = timedelta(minutes=10)
PHRASE_WORDS = 3
PHRASE_MIN_MESSAGES = 3
PHRASE_MIN_AUTHORS = 2
CONSOLIDATION_WINDOW = 2000
DISAGREEMENT = re.compile(r"\b(no way|wrong|disagree|nope|not true|nah|that's not|you're not)\b", re.IGNORECASE)

EXTRACT_SCHEMA = {
    "type": "object",
    "properties": {
        "keep": {"type": "boolean"},
        "kind": {"enum": list(HighlightKind.values)},
        "quote": {"type": "string"},
        "score": {"type": "number", "minimum": 0, "maximum": 1},
        "facts": {
            "type": "array",
            "maxItems": 4,
            "items": {
                "type": "object",
                "properties": {"attribute": {"type": "string"}, "statement": {"type": "string"}},
                "required": ["attribute", "statement"],
            },
        },
    },
    "required": ["keep"],
}
EXTRACT_INSTRUCTIONS = (
    "Decide whether the last message of this group-chat exchange deserves remembering (a joke that landed, a "
    "hot take, a self-disclosure, an opinion, a memorable phrase). If it does, set keep true, give the kind, "
    "copy the words worth keeping into quote exactly as written (no paraphrase), a score from 0 to 1, and any "
    "stable facts about its author as short attribute/statement pairs (attribute like employer, city, pet)."
)


@dataclass(frozen=True)
class MomentSignals:
    """The cheap signals of one message and the score they add up to."""

    transcript_id: int
    replies: int = 0
    reactions: int = 0
    quoted_bot: bool = False
    self_disclosure: bool = False
    repeated_phrase: str = ""
    silence_after_seconds: float = 0.0

    @property
    def score(self) -> float:
        """Weighted sum; 1.0 or more sends the message to the model check."""
        return (
            0.4 * min(self.replies, 3)
            + 0.35 * min(self.reactions, 4)
            + (0.6 if self.quoted_bot else 0.0)
            + (1.0 if self.self_disclosure else 0.0)
            + (0.5 if self.repeated_phrase else 0.0)
            + (0.3 if self.silence_after_seconds >= SILENCE_WEIGHT_AFTER.total_seconds() else 0.0)
        )


@dataclass(frozen=True)
class ExtractionReport:
    """What one extraction pass looked at and kept."""

    considered: int
    checked: int
    highlights: int
    facts: int
    refused: dict[str, int] = field(default_factory=dict)


def cheap_signals(exchange: Sequence[Transcript], *, reactions: Mapping[str, int] | None = None) -> list[MomentSignals]:
    """The signals of each human message of the exchange, read from the transcripts around it."""
    reactions = reactions or {}
    humans = [row for row in exchange if not row.author_is_bot]
    if not humans:
        return []
    channel = humans[0].channel_id
    later = list(
        Transcript.objects.filter(channel_id=channel, seq__gt=min(row.seq for row in humans))
        .order_by("seq")
        .only("seq", "message_id", "reply_to_message_id", "content", "created_at", "author_is_bot")[:200]
    )
    replies = Counter(row.reply_to_message_id for row in later if row.reply_to_message_id)
    bot_lines = [row.content for row in exchange if row.author_is_bot and len(row.content) > 20]
    phrases = repeated_phrases(humans[0].guild_id) if humans[0].guild_id else {}
    out = []
    for row in humans:
        following = next((other for other in later if other.seq > row.seq), None)
        silence = (following.created_at - row.created_at).total_seconds() if following else 0.0
        quoted = any(_quotes(row.content, line) for line in bot_lines)
        phrase = next((p for p in phrases if p in row.content.casefold()), "")
        out.append(
            MomentSignals(
                transcript_id=row.pk,
                replies=replies.get(row.message_id, 0),
                reactions=int(reactions.get(row.message_id, 0)),
                quoted_bot=quoted,
                self_disclosure=bool(SELF_DISCLOSURE.search(row.content)),
                repeated_phrase=phrase,
                silence_after_seconds=silence,
            )
        )
    return out


def _quotes(text: str, bot_line: str) -> bool:
    words = bot_line.casefold().split()
    lowered = text.casefold()
    return any(" ".join(words[i : i + 5]) in lowered for i in range(max(0, len(words) - 4)))


def repeated_phrases(guild_id: str, *, window: int = CONSOLIDATION_WINDOW) -> dict[str, list[int]]:
    """Phrases of three words or more that several people keep using in the guild, with the messages."""
    rows = list(
        Transcript.objects.filter(guild_id=guild_id, author_is_bot=False)
        .order_by("-seq")
        .values_list("pk", "author_id", "content")[:window]
    )
    seen: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for pk, author, content in rows:
        words = re.findall(r"[\w']+", content.casefold())
        grams = {" ".join(words[i : i + PHRASE_WORDS]) for i in range(len(words) - PHRASE_WORDS + 1)}
        for gram in grams:
            seen[gram].append((pk, author))
    return {
        gram: [pk for pk, _ in uses]
        for gram, uses in seen.items()
        if len(uses) >= PHRASE_MIN_MESSAGES and len({author for _, author in uses}) >= PHRASE_MIN_AUTHORS
    }


async def extract_after_turn(
    *,
    transcript_ids: Sequence[int],
    reactions: Mapping[str, int] | None = None,
    embedder: Embedder | None = None,
    max_checks: int = MAX_MODEL_CHECKS,
) -> ExtractionReport:
    """Extract moments from the just-finished exchange (its transcript ids), after the turn's reply went out."""
    from asgiref.sync import sync_to_async

    return await sync_to_async(extract_exchange)(
        transcript_ids=transcript_ids, reactions=reactions, embedder=embedder, max_checks=max_checks
    )


def extract_exchange(
    *,
    transcript_ids: Sequence[int],
    reactions: Mapping[str, int] | None = None,
    embedder: Embedder | None = None,
    max_checks: int = MAX_MODEL_CHECKS,
) -> ExtractionReport:
    """Moments of an exchange (its transcript ids), kept through the write gates; the trigger calls this."""
    from asgiref.sync import async_to_sync

    from gateway.parser import parse

    exchange = list(Transcript.objects.filter(pk__in=list(transcript_ids)).order_by("seq"))
    signals = sorted(cheap_signals(exchange, reactions=reactions), key=lambda s: -s.score)
    by_id = {row.pk: row for row in exchange}
    refused: Counter[str] = Counter()
    checked = highlights = facts = 0
    for signal in signals:
        if signal.score < SIGNAL_THRESHOLD or checked >= max_checks:
            break
        row = by_id[signal.transcript_id]
        checked += 1
        context = _exchange_text(exchange, upto=row)
        result = async_to_sync(parse)(
            context, EXTRACT_SCHEMA, instructions=EXTRACT_INSTRUCTIONS, guild_id=row.guild_id or None
        )
        if not result.ok or not result.value.get("keep"):
            continue
        value = result.value
        sources = [row]
        quote = str(value.get("quote") or "").strip()
        if quote:
            written = record_highlight(
                sources=sources,
                raw_text=quote,
                kind=HighlightKind(value.get("kind") or HighlightKind.QUOTE),
                score=float(value.get("score") or signal.score / 3),
                surrounding_context=context,
                embedder=embedder,
            )
            highlights += int(written.written)
            if not written.written:
                refused[written.outcome] += 1
        for item in value.get("facts") or []:
            written = record_fact(
                sources=sources,
                subject_user_id=row.author_id,
                attribute=str(item["attribute"]),
                statement=str(item["statement"]),
                embedder=embedder,
            )
            facts += int(written.written)
            if not written.written:
                refused[written.outcome] += 1
    return ExtractionReport(
        considered=len(signals), checked=checked, highlights=highlights, facts=facts, refused=dict(refused)
    )


def _exchange_text(exchange: Sequence[Transcript], *, upto: Transcript) -> str:
    lines = [f"{row.author_display_name}: {row.content}" for row in exchange if row.seq <= upto.seq]
    return "\n".join(lines[-8:])


@dataclass(frozen=True)
class ConsolidationReport:
    """What a consolidation pass wrote."""

    dossiers: int
    lore: int
    refused: dict[str, int] = field(default_factory=dict)


def consolidate_guild(*, guild_id: str, embedder: Embedder | None = None) -> ConsolidationReport:
    """Refresh the guild's dossiers from its transcripts and facts, and add lore from repeated patterns."""
    dossiers = refresh_dossiers(guild_id)
    refused: Counter[str] = Counter()
    lore = 0
    for phrase, ids in sorted(repeated_phrases(guild_id).items(), key=lambda item: -len(item[1]))[:10]:
        sources = list(Transcript.objects.filter(pk__in=ids[:20]))
        authors = sorted({row.author_id for row in sources})
        result = record_lore(
            sources=sources,
            kind=LoreKind.RUNNING_JOKE,
            body_text=f'The group keeps saying "{phrase}".',
            subject_user_ids=authors,
            score=min(1.0, len(ids) / 10),
            embedder=embedder,
        )
        lore += int(result.written)
        if not result.written:
            refused[result.outcome] += 1
    names = dict(Dossier.objects.filter(guild_id=guild_id).values_list("subject_user_id", "display_name"))
    for (left, right), ids in _arguments(guild_id).items():
        sources = list(Transcript.objects.filter(pk__in=ids[:20]))
        result = record_lore(
            sources=sources,
            kind=LoreKind.RIVALRY,
            body_text=f"{names.get(left, left)} and {names.get(right, right)} often argue with each other.",
            subject_user_ids=[left, right],
            score=min(1.0, len(ids) / 10),
            embedder=embedder,
        )
        lore += int(result.written)
        if not result.written:
            refused[result.outcome] += 1
    return ConsolidationReport(dossiers=dossiers, lore=lore, refused=dict(refused))


def _arguments(guild_id: str, *, minimum: int = 3) -> dict[tuple[str, str], list[int]]:
    rows = (
        Transcript.objects.filter(guild_id=guild_id, author_is_bot=False)
        .exclude(reply_to_author_id="")
        .order_by("-seq")
        .values_list("pk", "author_id", "reply_to_author_id", "content")[:CONSOLIDATION_WINDOW]
    )
    pairs: dict[tuple[str, str], list[int]] = defaultdict(list)
    for pk, author, other, content in rows:
        if author != other and DISAGREEMENT.search(content):
            left, right = sorted((author, other))
            pairs[(left, right)].append(pk)
    return {pair: ids for pair, ids in pairs.items() if len(ids) >= minimum}


def refresh_dossiers(guild_id: str) -> int:
    """One dossier per person who spoke in the guild: counts, last seen, name, and current facts as its body."""
    stats = (
        Transcript.objects.filter(guild_id=guild_id, author_is_bot=False)
        .values("author_id")
        .annotate(count=Count("id"), last_seen=Max("created_at"), newest=Max("seq"))
    )
    written = 0
    for row in stats:
        author = row["author_id"]
        name = (
            Transcript.objects.filter(guild_id=guild_id, author_id=author, seq=row["newest"])
            .values_list("author_display_name", flat=True)
            .first()
            or author
        )
        current = list(
            Fact.objects.filter(guild_id=guild_id, subject_user_id=author, superseded_at__isnull=True).order_by(
                "attribute"
            )
        )
        highlight_count = Highlight.objects.filter(guild_id=guild_id, subject_user_id=author).count()
        # Signals written by others stay (the security engine's threat score, stored with the host's decisions).
        kept = Dossier.objects.filter(guild_id=guild_id, subject_user_id=author).values_list("signals", flat=True)
        previous = kept.first() or {}
        carried = {key: previous[key] for key in ("threat",) if key in previous}
        Dossier.objects.update_or_create(
            guild_id=guild_id,
            subject_user_id=author,
            defaults={
                "visibility": Visibility.GUILD,
                "display_name": name,
                "body_text": " ".join(fact.statement.rstrip(".") + "." for fact in current),
                "signals": {"facts": len(current), "highlights": highlight_count, **carried},
                "message_count": row["count"],
                "last_seen_at": row["last_seen"],
                "source_transcript_ids": sorted({pk for fact in current for pk in fact.source_transcript_ids}),
                "updated_at": timezone.now(),
            },
        )
        written += 1
    return written


__all__ = [
    "ConsolidationReport",
    "ExtractionReport",
    "MomentSignals",
    "cheap_signals",
    "consolidate_guild",
    "extract_after_turn",
    "extract_exchange",
    "refresh_dossiers",
    "repeated_phrases",
]
