"""`memory_search`: hybrid retrieval over highlights, facts, lore, the archive and epochs.

For each layer, two candidate lists: nearest rows by HNSW (cosine) and best rows by Postgres full-text
search (GIN). The scope filters (guild and visibility, DM channel, person, channel, time) sit inside both
queries, and `hnsw.iterative_scan` is on, so a filtered query still returns k rows whenever k rows match.
A person named in the question (matched to the guild's dossiers with pg_trgm, so typos pass) and a time
the question names add their own filtered lists. Lists are fused by reciprocal rank fusion; episodic rows
(archive messages, highlights, epochs) decay gently with age unless the question names a time; duplicates
go; archived messages, fragments of a conversation, get their neighbours; the result is trimmed to a
token budget counted offline with the MiniLM tokenizer.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import cache, lru_cache
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from memory.choices import Visibility
from memory.embedding.minilm import Vectors
from memory.embedding.providers import embed_one
from memory.embedding.tokens import count_tokens
from memory.models import FTS_CONFIG
from memory.provenance import Provenance
from memory.timewords import TimeWindow, parse_time_window

logger = logging.getLogger(__name__)

RRF_K = 60
CANDIDATES = 50
RECENCY_WEIGHT = 0.3
# Lexemes in more than this share of a table's rows (Postgres's own statistics) add cost and no signal.
COMMON_LEXEME_FREQUENCY = 0.02
COMMON_LEXEME_ROWS = 100
# The most rows the full-text list reads: it matches on the rarest lexemes estimated to fit (ANDed when even the
# rarest does not) and scores those rows on all of them, so a topic of ten common words never scores the archive.
FTS_MATCH_ROWS = 2000
PERSON_SIMILARITY = 0.45
# Conversation context: the best PROPAGATE_FROM archived hits lend PROPAGATE_SHARE of their score (divided by the
# distance) to the PROPAGATE_SPAN messages either side of them in their channel.
PROPAGATE_FROM = 10
PROPAGATE_SPAN = 2
PROPAGATE_SHARE = 0.3
LIST_WEIGHTS = {"vector": 1.0, "fts": 1.0, "person": 1.2, "time": 1.2}


@dataclass(frozen=True)
class Layer:
    """One searchable table: how its text, time, person and scope read in SQL."""

    name: str
    table: str
    text: str
    time: str
    person: str
    episodic: bool
    extra_where: str = ""
    label: str = ""


LAYERS: dict[str, Layer] = {
    "archive": Layer(
        "archive", "memory_archiveentry", "content", "said_at", "subject_user_id = ANY(%s)", True, label="message"
    ),
    "highlight": Layer(
        "highlight", "memory_highlight", "raw_text", "said_at", "subject_user_id = ANY(%s)", True, label="highlight"
    ),
    "fact": Layer(
        "fact",
        "memory_fact",
        "statement",
        "valid_from",
        "subject_user_id = ANY(%s)",
        False,
        extra_where="superseded_at IS NULL",
        label="fact",
    ),
    "epoch": Layer(
        "epoch",
        "memory_epoch",
        "summary_text",
        "end_at",
        "participants && %s::varchar[]",
        True,
        extra_where="summary_text <> ''",
        label="epoch",
    ),
    "lore": Layer("lore", "memory_grouplore", "body_text", "updated_at", "subject_user_ids && %s::varchar[]", False),
}
ALL_LAYERS = frozenset(LAYERS)


@dataclass(frozen=True)
class SearchQuery:
    """A question and where it is asked: the scope decides what may be found, the rest tunes the search."""

    text: str
    guild_id: str
    channel_id: str
    is_dm: bool = False
    requester_id: str = ""
    k: int = 10
    layers: frozenset[str] = ALL_LAYERS
    person_ids: tuple[str, ...] = ()
    channel_ids: tuple[str, ...] = ()
    exclude_channel_ids: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    include_bots: bool = True
    neighbours: int = 1
    token_budget: int | None = None
    now: datetime | None = None
    ef_search: int | None = None
    # Off for the single-retriever baselines of bench/recall.py.
    use_vector: bool = True
    use_fts: bool = True
    interpret: bool = True
    recency: bool = True
    conversational: bool = True
    vector: Vectors | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.k < 1:
            raise ValueError(f"k must be at least 1, got {self.k}")
        if not self.layers <= ALL_LAYERS:
            raise ValueError(f"unknown layers {sorted(self.layers - ALL_LAYERS)}; known: {sorted(ALL_LAYERS)}")
        if self.is_dm == bool(self.guild_id):
            raise ValueError("a DM search has no guild_id and a guild search needs one")


@dataclass(frozen=True)
class Neighbour:
    """A message said just before or after an archived hit, in the same channel."""

    transcript_id: int
    author: str
    text: str
    said_at: datetime
    offset: int


@dataclass(frozen=True)
class SearchHit:
    """One result: which layer and row, its words, who and where, its fused score and how it ranked."""

    layer: str
    row_id: int
    text: str
    author: str
    subject_user_id: str
    channel_id: str
    channel_name: str
    said_at: datetime | None
    score: float
    transcript_ids: tuple[int, ...]
    provenance: Provenance
    ranks: dict[str, int] = field(default_factory=dict)
    neighbours: tuple[Neighbour, ...] = ()

    def render(self) -> str:
        """The hit as a context line, neighbours indented around it."""
        when = f" {self.said_at:%Y-%m-%d %H:%M}" if self.said_at else ""
        where = f" #{self.channel_name}" if self.channel_name else ""
        who = f" {self.author}:" if self.author else ":"
        head = f"[{LAYERS[self.layer].label or self.layer}{where}{when}]{who} {_one_line(self.text)}"
        before = [n for n in self.neighbours if n.offset < 0]
        after = [n for n in self.neighbours if n.offset > 0]
        lines = [f"  (before) {n.author}: {_one_line(n.text)}" for n in before]
        lines.append(head)
        lines += [f"  (after) {n.author}: {_one_line(n.text)}" for n in after]
        return "\n".join(lines)


@dataclass(frozen=True)
class SearchResult:
    """The hits in rank order, what the question was taken to name, and the budget spent."""

    hits: tuple[SearchHit, ...]
    person_ids: tuple[str, ...]
    window: TimeWindow | None
    tokens: int
    trimmed: int

    def transcript_ids(self) -> list[int]:
        """The transcripts behind the hits, in rank order, each once (neighbours not included)."""
        seen: dict[int, None] = {}
        for hit in self.hits:
            for transcript_id in hit.transcript_ids:
                seen.setdefault(transcript_id, None)
        return list(seen)


def memory_search(query: SearchQuery) -> SearchResult:
    """Hybrid search within the query's scope, fused, deduplicated, with neighbours, within the token budget."""
    now = query.now or timezone.now()
    # People and times the question names add filtered lists (a boost); ones the caller gives filter outright.
    persons: tuple[str, ...] = ()
    window = None
    if query.interpret:
        if not query.person_ids and query.guild_id:
            persons = find_people(query.guild_id, query.text)
        if query.since is None and query.until is None:
            window = parse_time_window(query.text, now=now)
    vector = query.vector
    if vector is None and query.use_vector:
        vector = embed_one(query.text, guild_id=query.guild_id or None)
    lists: list[tuple[str, str, list[int]]] = []
    # Fusion needs candidates past k; a single list has nothing to fuse, so it fetches k and no more.
    single = len(query.layers) == 1 and not persons and window is None and query.use_vector != query.use_fts
    depth = query.k if single else max(2 * query.k, CANDIDATES)
    with tuned_vector_search(query.ef_search):
        for name in sorted(query.layers):
            layer = LAYERS[name]
            base = _scope(layer, query)
            exact = query.is_dm or _small_scope(layer.table, query.guild_id)
            if query.use_vector and vector is not None:
                lists.append(("vector", name, _vector_ids(layer, base, vector, depth, exact)))
            if query.use_fts:
                lists.append(("fts", name, _fts_ids(layer, base, query.text, depth)))
            if persons:
                narrowed = _and(base, _person_filter(layer, persons))
                if vector is not None:
                    lists.append(("person", name, _vector_ids(layer, narrowed, vector, depth, exact)))
                lists.append(("person", name, _fts_ids(layer, narrowed, query.text, depth)))
            if window is not None and layer.episodic:
                narrowed = _and(base, _time_filter(layer, window.start, window.end))
                if vector is not None:
                    lists.append(("time", name, _vector_ids(layer, narrowed, vector, depth, exact)))
                lists.append(("time", name, _fts_ids(layer, narrowed, query.text, depth)))
    fused = _fuse(lists)
    if query.conversational and "archive" in query.layers:
        _propagate(fused)
    rows = _load(fused)
    hits = _rank(rows, fused, now=now, decay=query.recency and window is None)
    hits = _dedupe(hits)[: max(query.k * 2, query.k)]
    if query.neighbours > 0:
        hits = _attach_neighbours(hits[: query.k], query.neighbours) + hits[query.k :]
    hits = hits[: query.k]
    hits, tokens, trimmed = _trim(hits, query.token_budget)
    named = persons or tuple(query.person_ids)
    return SearchResult(hits=tuple(hits), person_ids=named, window=window, tokens=tokens, trimmed=trimmed)


def nearest_ids(rows: QuerySet[Any], vector: Vectors, k: int) -> list[int]:
    """The primary keys of the k rows of `rows` nearest the vector, exactly, nearest first.

    For a queryset whose filter leaves few rows: they are read by whatever index the filter plans to and
    sorted by distance. Ordering the queryset itself by distance may plan the HNSW index instead, which,
    outside `tuned_vector_search`, hands back only the filtered few of its first ef_search candidates.
    """
    sql, params = rows.filter(embedding__isnull=False).values_list("pk", "embedding").query.sql_with_params()
    return _sorted_exactly(sql, params, _vector_literal(vector), k)


def _sorted_exactly(scoped_sql: str, params: Sequence[Any], literal: str, k: int) -> list[int]:
    """The ids of the k rows of `scoped_sql` (selecting id and embedding) nearest the vector literal.

    The MATERIALIZED CTE keeps the HNSW index out of it: the rows are read as their filter plans, then sorted.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH scoped (id, embedding) AS MATERIALIZED ({scoped_sql}) "  # noqa: S608 - constants and ORM SQL
            "SELECT id FROM scoped ORDER BY embedding <=> %s::vector, id LIMIT %s",
            [*params, literal, k],
        )
        return [row[0] for row in cursor.fetchall()]


def find_people(guild_id: str, text: str) -> tuple[str, ...]:
    """Members of the guild the text names (display names matched by trigram similarity, so typos pass)."""
    mentioned = re.findall(r"<@!?(\d+)>", text)
    words = [w for w in re.findall(r"[^\W\d_][\w'-]{2,}", text) if w.casefold() not in _STOP_NAMES]
    if not words:
        return tuple(mentioned)
    sql = (
        "SELECT subject_user_id, max(similarity(lower(display_name), lower(w))) AS s "
        "FROM memory_dossier, unnest(%s::text[]) AS w "
        "WHERE guild_id = %s AND visibility = 'guild' AND lower(display_name) %% lower(w) "
        "GROUP BY subject_user_id HAVING max(similarity(lower(display_name), lower(w))) >= %s "
        "ORDER BY s DESC LIMIT 3"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [words, guild_id, PERSON_SIMILARITY])
        found = [row[0] for row in cursor.fetchall()]
    return tuple(dict.fromkeys([*mentioned, *found]))


# Words that look like names in a question but never are.
_STOP_TEXT = (
    "what who when where which why how did does do the and was were is are has have had about said say "
    "says tell told last week month year yesterday today ago his her their they them she him our you your "
    "with from that this there then than into over after before since until during on in at of for to by"
)
_STOP_NAMES = frozenset(_STOP_TEXT.split())


@contextmanager
def tuned_vector_search(ef_search: int | None) -> Iterator[None]:
    """A transaction in which HNSW scans use ef_search and iterative scan (filters then still return k rows)."""
    # SET LOCAL lasts for this transaction only, so a pooled connection never carries the settings away.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('hnsw.ef_search', %s, true), set_config('hnsw.iterative_scan', 'relaxed_order', true),"
            " set_config('hnsw.max_scan_tuples', %s, true)",
            [str(ef_search or settings.DIT_HNSW_EF_SEARCH), str(settings.DIT_HNSW_MAX_SCAN_TUPLES)],
        )
        yield


Where = tuple[str, list[Any]]


def _and(*parts: Where) -> Where:
    sql = " AND ".join(f"({p[0]})" for p in parts if p[0])
    params: list[Any] = []
    for part in parts:
        params.extend(part[1])
    return sql, params


def _scope(layer: Layer, query: SearchQuery) -> Where:
    """The privacy boundary and the caller's filters, as one WHERE clause for this layer."""
    if query.is_dm:
        # A DM sees its own channel, and DM material by or about the requester alone.
        where: Where = (
            "visibility = %s AND guild_id = '' AND (channel_id = %s OR subject_user_id = %s)",
            [Visibility.DM.value, query.channel_id, query.requester_id or "\x00"],
        )
    else:
        where = ("guild_id = %s AND visibility = %s", [query.guild_id, Visibility.GUILD.value])
    parts = [where]
    if layer.extra_where:
        parts.append((layer.extra_where, []))
    if query.person_ids:
        parts.append(_person_filter(layer, query.person_ids))
    if query.channel_ids:
        parts.append(("channel_id = ANY(%s)", [list(query.channel_ids)]))
    if query.exclude_channel_ids:
        parts.append(("NOT (channel_id = ANY(%s))", [list(query.exclude_channel_ids)]))
    if query.since is not None or query.until is not None:
        parts.append(_time_filter(layer, query.since, query.until))
    if not query.include_bots and layer.name == "archive":
        parts.append(("NOT author_is_bot", []))
    return _and(*parts)


def _person_filter(layer: Layer, persons: Sequence[str]) -> Where:
    return layer.person, [list(persons)]


def _time_filter(layer: Layer, since: datetime | None, until: datetime | None) -> Where:
    parts: list[Where] = []
    if since is not None:
        parts.append((f"{layer.time} >= %s", [since]))
    if until is not None:
        parts.append((f"{layer.time} < %s", [until]))
    return _and(*parts)


def _vector_ids(layer: Layer, where: Where, vector: Vectors, depth: int, exact: bool = False) -> list[int]:
    literal = _vector_literal(vector)
    if exact:
        # A small scope: reading its rows by their B-tree index and sorting them all is both exact and faster
        # than walking the whole graph for the few that match.
        scoped_sql = f"SELECT id, embedding FROM {layer.table} WHERE embedding IS NOT NULL AND {where[0]}"  # noqa: S608 - constants
        return _sorted_exactly(scoped_sql, where[1], literal, depth)
    sql = (
        f"SELECT id, embedding <=> %s::vector AS d FROM {layer.table} "  # noqa: S608 - names are constants
        f"WHERE embedding IS NOT NULL AND {where[0]} ORDER BY embedding <=> %s::vector LIMIT %s"
    )
    params = [literal, *where[1], literal, depth]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    # relaxed_order may hand rows back slightly out of order: sort them by their true distance.
    return [row[0] for row in sorted(rows, key=lambda row: row[1])]


def _fts_ids(layer: Layer, where: Where, text: str, depth: int) -> list[int]:
    weighted = _query_lexemes(text, layer.table)
    if not weighted:
        return []
    tsquery = _matching_lexemes(weighted, layer.table)
    # ts_rank has no notion of how rare a word is; a rare name must outrank three common words, so each
    # matched lexeme adds its inverse document frequency (summed in SQL: one containment test per lexeme is
    # cheaper than handing every row's lexemes to Python), and ts_rank_cd only breaks ties. At most
    # FTS_MATCH_ROWS matching rows are read.
    score_sql = " + ".join("(CASE WHEN search_vector @@ %s::tsquery THEN %s ELSE 0 END)" for _ in weighted)
    sql = (
        f"SELECT id, {score_sql} FROM {layer.table} "  # noqa: S608 - constants and placeholders
        f"WHERE search_vector @@ to_tsquery('{FTS_CONFIG}', %s) AND {where[0]} LIMIT %s"
    )
    # Each lexeme as a tsquery literal of itself (already stemmed: no second pass through the configuration).
    terms = [value for lexeme, weight in weighted for value in (f"'{lexeme}'", weight)]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*terms, tsquery, *where[1], FTS_MATCH_ROWS])
        scores = {int(pk): float(total) for pk, total in cursor.fetchall()}
    if not scores:
        return []
    # Only rows scoring at least the depth-th best can make the list; ts_rank_cd (tens of microseconds a
    # row) is computed for those alone, which orders them exactly as ranking every matched row would.
    cutoff = sorted(scores.values(), reverse=True)[min(depth, len(scores)) - 1]
    contenders = [pk for pk, score in scores.items() if score >= cutoff]
    ranks = _cover_density(layer, contenders, weighted) if len(contenders) > 1 else {}
    ordered = sorted(contenders, key=lambda pk: (scores[pk], ranks.get(pk, 0.0), pk), reverse=True)
    return ordered[:depth]


def _cover_density(layer: Layer, ids: list[int], weighted: Sequence[tuple[str, float]]) -> dict[int, float]:
    """ts_rank_cd of the given rows against all the query's lexemes: the tie-break among equal scores."""
    ranked = _any_of(lexeme for lexeme, _ in weighted)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, ts_rank_cd(search_vector, to_tsquery('{FTS_CONFIG}', %s)) FROM {layer.table} "  # noqa: S608 - constants
            "WHERE id = ANY(%s)",
            [ranked, ids],
        )
        return {int(pk): float(rank) for pk, rank in cursor.fetchall()}


def _any_of(lexemes: Iterable[str]) -> str:
    """A tsquery matching any of the lexemes (each quoted: already stemmed)."""
    return " | ".join(f"'{lexeme}'" for lexeme in lexemes)


def _matching_lexemes(weighted: Sequence[tuple[str, float]], table: str) -> str:
    """The tsquery rows must match to be scored: estimated to match no more than FTS_MATCH_ROWS rows.

    The rarest lexemes are ORed while their estimated rows add up to FTS_MATCH_ROWS. When even the rarest matches
    more than that (every word of the query is common), the rarest are ANDed until the rows holding all of them
    are estimated to fit: those are the rows the score ranks first anyway.
    """
    stats = _lexeme_stats(table)
    if stats.rows <= FTS_MATCH_ROWS:
        return _any_of(lexeme for lexeme, _ in weighted)

    def share(lexeme: str) -> float:
        return stats.frequencies.get(lexeme, stats.floor)

    rarest = sorted((lexeme for lexeme, _ in weighted), key=lambda lexeme: (share(lexeme), lexeme))
    chosen: list[str] = []
    if share(rarest[0]) * stats.rows <= FTS_MATCH_ROWS:
        rows = 0.0
        for lexeme in rarest:
            rows += share(lexeme) * stats.rows
            if rows > FTS_MATCH_ROWS:
                break
            chosen.append(lexeme)
        return _any_of(chosen)
    together = stats.rows
    for lexeme in rarest:
        chosen.append(lexeme)
        together *= share(lexeme)
        if together <= FTS_MATCH_ROWS:
            break
    return " & ".join(f"'{lexeme}'" for lexeme in chosen)


@lru_cache(maxsize=512)
def _text_lexemes(words: str) -> tuple[str, ...]:
    """The distinct lexemes Postgres's full-text configuration makes of `words`, sorted.

    Cached: one search asks for the same text's lexemes once per list it runs (each layer, and again for
    its person and time lists), and the answer depends on nothing but the text.
    """
    if not words:
        return ()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT unnest(tsvector_to_array(to_tsvector('{FTS_CONFIG}', %s)))", [words])
        return tuple(sorted(row[0] for row in cursor.fetchall() if "'" not in row[0] and "\\" not in row[0]))


def _query_lexemes(text: str, table: str) -> list[tuple[str, float]]:
    """The query's lexemes with their IDF weights; lexemes too common to tell rows apart are left out."""
    lexemes = _text_lexemes(" ".join(re.findall(r"[\w']+", text.casefold())))
    if not lexemes:
        return []
    stats = _lexeme_stats(table)
    weighted = []
    for lexeme in lexemes:
        frequency = stats.frequencies.get(lexeme, stats.floor)
        if frequency > COMMON_LEXEME_FREQUENCY and frequency * stats.rows >= COMMON_LEXEME_ROWS:
            continue
        weighted.append((lexeme, max(0.1, math.log(1.0 / frequency)) if frequency > 0 else 1.0))
    if not weighted:
        # Only common words: keep them, equally weighted, rather than search for nothing.
        return [(lexeme, 1.0) for lexeme in lexemes]
    return weighted


def _small_scope(table: str, guild_id: str) -> bool:
    """Whether the guild holds so few of the table's rows (by Postgres's statistics) that an exact scan wins."""
    limit = int(settings.DIT_HNSW_EXACT_BELOW)
    if limit <= 0:
        return False
    frequencies, floor, rows = _guild_stats(table, _stats_epoch())
    if rows <= 0:
        # Never analyzed: nothing to go on, HNSW with iterative scan is the safe default.
        return False
    return frequencies.get(guild_id, floor) * rows < limit


@cache
def _guild_stats(table: str, epoch: int) -> tuple[dict[str, float], float, float]:
    """Share of rows per common guild, the share below which the rest lie, and the table's row count."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.most_common_vals::text::text[], s.most_common_freqs, c.reltuples, s.n_distinct FROM pg_stats s "
            "JOIN pg_class c ON c.relname = s.tablename WHERE s.tablename = %s AND s.attname = 'guild_id'",
            [table],
        )
        row = cursor.fetchone()
    if row is None:
        return {}, 0.0, 0.0
    values, freqs, rows, _ = row
    frequencies = dict(zip(values or [], freqs or [], strict=False))
    # A guild missing from the list is no commoner than the least common one listed (or, with no list,
    # than an even share of the distinct values).
    floor = min(frequencies.values()) if frequencies else 1.0
    return frequencies, floor, float(rows)


@dataclass(frozen=True)
class _LexemeStats:
    frequencies: dict[str, float]
    floor: float
    rows: float


def _lexeme_stats(table: str) -> _LexemeStats:
    return _lexeme_stats_cached(table, _stats_epoch())


def _stats_epoch() -> int:
    # Refreshed at most every ten minutes: the statistics move slowly, and reading them costs a round trip.
    return int(timezone.now().timestamp() // 600)


@cache
def _lexeme_stats_cached(table: str, epoch: int) -> _LexemeStats:
    """Postgres's own statistics of the tsvector column (ANALYZE keeps them): lexeme frequencies and row count."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.most_common_elems::text::text[], s.most_common_elem_freqs, c.reltuples FROM pg_stats s "
            "JOIN pg_class c ON c.relname = s.tablename WHERE s.tablename = %s AND s.attname = 'search_vector'",
            [table],
        )
        row = cursor.fetchone()
    if row is None or row[0] is None:
        # Never analyzed: no frequencies, every lexeme weighs the same.
        return _LexemeStats(frequencies={}, floor=0.0, rows=0.0)
    elements, freqs, rows = row
    frequencies = dict(zip(elements, freqs, strict=False))
    # Lexemes missing from the list are rarer than the rarest one listed.
    floor = min(frequencies.values()) / 2 if frequencies else 0.0
    return _LexemeStats(frequencies=frequencies, floor=floor, rows=float(max(rows, 1.0)))


def _vector_literal(vector: Vectors) -> str:
    return "[" + ",".join(f"{float(x):.7g}" for x in vector) + "]"


def _fuse(lists: Sequence[tuple[str, str, list[int]]]) -> dict[tuple[str, int], dict[str, Any]]:
    """Reciprocal rank fusion: each list adds weight / (60 + rank) to every row it holds."""
    fused: dict[tuple[str, int], dict[str, Any]] = {}
    for kind, layer, ids in lists:
        weight = LIST_WEIGHTS[kind]
        for rank, row_id in enumerate(ids, start=1):
            entry = fused.setdefault((layer, row_id), {"score": 0.0, "ranks": {}})
            entry["score"] += weight / (RRF_K + rank)
            entry["ranks"].setdefault(kind, rank)
    return fused


_LOADERS = {
    "archive": (
        "SELECT id, content, author_display_name, subject_user_id, channel_id, channel_name, said_at, "
        "source_transcript_ids, guild_id, visibility FROM memory_archiveentry WHERE id = ANY(%s)"
    ),
    "highlight": (
        "SELECT id, raw_text, attribution, subject_user_id, channel_id, '', said_at, source_transcript_ids, "
        "guild_id, visibility FROM memory_highlight WHERE id = ANY(%s)"
    ),
    "fact": (
        "SELECT id, statement, '', subject_user_id, channel_id, '', valid_from, source_transcript_ids, "
        "guild_id, visibility FROM memory_fact WHERE id = ANY(%s)"
    ),
    "epoch": (
        "SELECT id, summary_text, '', array_to_string(participants, ','), channel_id, channel_name, end_at, "
        "'{}'::bigint[], guild_id, visibility FROM memory_epoch WHERE id = ANY(%s)"
    ),
    "lore": (
        "SELECT id, body_text, '', array_to_string(subject_user_ids, ','), channel_id, '', updated_at, "
        "source_transcript_ids, guild_id, visibility FROM memory_grouplore WHERE id = ANY(%s)"
    ),
}


def _propagate(fused: dict[tuple[str, int], dict[str, Any]]) -> None:
    """Let the best archived hits lend part of their score to the messages around them.

    In a group chat the answer is often the reply, not the line that matches the question ("who is coming
    to the gig?" matches the announcement; "I'll be there!" follows it), so the few messages either side
    of a strong hit in its channel get a share of its score.
    """
    best = sorted(
        ((entry["score"], row_id) for (layer, row_id), entry in fused.items() if layer == "archive"), reverse=True
    )[:PROPAGATE_FROM]
    if not best:
        return
    sql = (
        "SELECT h.id, n.id, n.pos FROM memory_archiveentry h CROSS JOIN LATERAL ("
        "  (SELECT b.id, -row_number() OVER () AS pos FROM (SELECT id FROM memory_archiveentry b "
        "   WHERE b.channel_id = h.channel_id AND b.guild_id = h.guild_id AND b.visibility = h.visibility "
        "   AND (b.said_at, b.seq) < (h.said_at, h.seq) ORDER BY b.said_at DESC, b.seq DESC LIMIT %s) b)"
        "  UNION ALL "
        "  (SELECT a.id, row_number() OVER () AS pos FROM (SELECT id FROM memory_archiveentry a "
        "   WHERE a.channel_id = h.channel_id AND a.guild_id = h.guild_id AND a.visibility = h.visibility "
        "   AND (a.said_at, a.seq) > (h.said_at, h.seq) ORDER BY a.said_at, a.seq LIMIT %s) a)"
        ") n WHERE h.id = ANY(%s)"
    )
    scores = {row_id: score for score, row_id in best}
    with connection.cursor() as cursor:
        cursor.execute(sql, [PROPAGATE_SPAN, PROPAGATE_SPAN, list(scores)])
        pairs = cursor.fetchall()
    for hit_id, neighbour_id, position in pairs:
        entry = fused.setdefault(("archive", neighbour_id), {"score": 0.0, "ranks": {}})
        entry["score"] += PROPAGATE_SHARE * scores[hit_id] / abs(position)
        entry["ranks"].setdefault("context", abs(position))


def _load(fused: dict[tuple[str, int], dict[str, Any]]) -> dict[tuple[str, int], tuple[Any, ...]]:
    by_layer: dict[str, list[int]] = {}
    for layer, row_id in fused:
        by_layer.setdefault(layer, []).append(row_id)
    rows: dict[tuple[str, int], tuple[Any, ...]] = {}
    with connection.cursor() as cursor:
        for layer, ids in by_layer.items():
            cursor.execute(_LOADERS[layer], [ids])
            for row in cursor.fetchall():
                rows[(layer, row[0])] = row
    return rows


def _rank(
    rows: dict[tuple[str, int], tuple[Any, ...]],
    fused: dict[tuple[str, int], dict[str, Any]],
    *,
    now: datetime,
    decay: bool,
) -> list[SearchHit]:
    half_life = timedelta(days=float(settings.DIT_MEMORY_RECENCY_HALF_LIFE_DAYS)).total_seconds()
    hits = []
    for key, entry in fused.items():
        row = rows.get(key)
        if row is None:
            continue
        layer = key[0]
        score = entry["score"]
        said_at = row[6]
        if decay and LAYERS[layer].episodic and said_at is not None:
            age = max(0.0, (now - said_at).total_seconds())
            score *= (1 - RECENCY_WEIGHT) + RECENCY_WEIGHT * 0.5 ** (age / half_life)
        subjects = frozenset(s for s in str(row[3]).split(",") if s)
        hits.append(
            SearchHit(
                layer=layer,
                row_id=row[0],
                text=row[1],
                author=row[2],
                subject_user_id=row[3],
                channel_id=row[4],
                channel_name=row[5],
                said_at=said_at,
                score=score,
                transcript_ids=tuple(row[7]),
                provenance=Provenance(
                    guild_id=row[8], channel_id=row[4], is_dm=row[9] == Visibility.DM, subject_user_ids=subjects
                ),
                ranks=dict(entry["ranks"]),
            )
        )
    hits.sort(key=lambda hit: (-hit.score, hit.layer, -hit.row_id))
    return hits


def _dedupe(hits: list[SearchHit]) -> list[SearchHit]:
    """One hit per text and per source message: a highlight and the message it quotes are one memory."""
    kept: list[SearchHit] = []
    seen_texts: set[str] = set()
    seen_sources: set[int] = set()
    for hit in hits:
        text = re.sub(r"\W+", " ", hit.text.casefold()).strip()
        sources = set(hit.transcript_ids)
        if text in seen_texts or (hit.layer == "archive" and sources and sources <= seen_sources):
            continue
        seen_texts.add(text)
        if hit.layer in ("archive", "highlight"):
            seen_sources |= sources
        kept.append(hit)
    return kept


def _attach_neighbours(hits: list[SearchHit], count: int) -> list[SearchHit]:
    fragments = [hit for hit in hits if hit.layer == "archive"]
    if not fragments:
        return hits
    sql = (
        "SELECT h.id, n.transcript_id, n.author_display_name, n.content, n.said_at, n.pos FROM memory_archiveentry h "
        "CROSS JOIN LATERAL ("
        "  (SELECT transcript_id, author_display_name, content, said_at, -1 AS pos FROM memory_archiveentry b "
        "   WHERE b.channel_id = h.channel_id AND b.visibility = h.visibility AND b.guild_id = h.guild_id "
        "   AND (b.said_at, b.seq) < (h.said_at, h.seq) ORDER BY b.said_at DESC, b.seq DESC LIMIT %s)"
        "  UNION ALL "
        "  (SELECT transcript_id, author_display_name, content, said_at, 1 AS pos FROM memory_archiveentry a "
        "   WHERE a.channel_id = h.channel_id AND a.visibility = h.visibility AND a.guild_id = h.guild_id "
        "   AND (a.said_at, a.seq) > (h.said_at, h.seq) ORDER BY a.said_at, a.seq LIMIT %s)"
        ") n WHERE h.id = ANY(%s)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [count, count, [hit.row_id for hit in fragments]])
        found = cursor.fetchall()
    by_hit: dict[int, list[Neighbour]] = {}
    for hit_id, transcript_id, author, text, said_at, pos in found:
        by_hit.setdefault(hit_id, []).append(Neighbour(transcript_id, author, text, said_at, pos))
    out = []
    for hit in hits:
        if hit.layer != "archive" or hit.row_id not in by_hit:
            out.append(hit)
            continue
        ordered = sorted(by_hit[hit.row_id], key=lambda n: n.said_at)
        out.append(replace(hit, neighbours=tuple(ordered)))
    return out


def _trim(hits: list[SearchHit], budget: int | None) -> tuple[list[SearchHit], int, int]:
    """Hits in rank order while they fit; a hit whose neighbours do not fit goes in without them."""
    if budget is None:
        return hits, sum(count_tokens(hit.render()) for hit in hits), 0
    kept: list[SearchHit] = []
    used = 0
    trimmed = 0
    for hit in hits:
        cost = count_tokens(hit.render())
        if used + cost > budget and hit.neighbours:
            hit = replace(hit, neighbours=())
            cost = count_tokens(hit.render())
        if used + cost > budget:
            trimmed += 1
            continue
        kept.append(hit)
        used += cost
    return kept, used, trimmed


def _one_line(text: str) -> str:
    return " ".join(text.split())
