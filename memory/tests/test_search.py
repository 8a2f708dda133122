"""memory_search: filters inside both retrievers, iterative scan, hybrid beats vector on rare names, the boundary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pgvector.django import CosineDistance

from memory import search as search_module
from memory.archive import archive_transcripts, embed_pending
from memory.choices import Visibility
from memory.models import Highlight, Transcript
from memory.models.base import HNSW_EF_CONSTRUCTION, HNSW_M
from memory.search import SearchQuery, _lexeme_stats_cached, _text_lexemes, memory_search
from memory.tests.factories import GUILD, TranscriptFactory
from memory.tests.seeding import CachingEmbedder
from memory.timewords import parse_time_window

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _unit(rng, n):
    vectors = rng.standard_normal((n, 384)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _highlights(guild_id, vectors, *, subject="u-x", channel="c-1"):
    Highlight.objects.bulk_create(
        Highlight(
            guild_id=guild_id,
            channel_id=channel,
            subject_user_id=subject,
            visibility=Visibility.GUILD,
            raw_text=f"line {guild_id} {n}",
            attribution="x",
            said_at=NOW,
            embedding=vector,
        )
        for n, vector in enumerate(vectors)
    )


def _near_crowd_and_quiet_channel(rng, crowd):
    """`crowd` highlights of the guild close to a query vector and 12 random ones in c-quiet; the query."""
    query = _unit(rng, 1)[0]
    near = query + 0.05 * _unit(rng, crowd)
    _highlights(GUILD, near / np.linalg.norm(near, axis=1, keepdims=True))
    _highlights(GUILD, _unit(rng, 12), channel="c-quiet")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE memory_highlight")
    return query


def _vector_only(query_vector, guild_id, k, **changes):
    return SearchQuery(
        text="zzz",
        guild_id=guild_id,
        channel_id="c-1",
        k=k,
        layers=frozenset({"highlight"}),
        use_fts=False,
        interpret=False,
        neighbours=0,
        vector=query_vector,
        ef_search=20,
        **changes,
    )


def test_a_filtered_query_returns_k_rows_whenever_k_rows_match(settings):
    settings.DIT_HNSW_EXACT_BELOW = 0  # the graph, not the exact scan of a small guild
    # The rest of the guild lies near the query, the quiet channel far away: a plain HNSW scan's first
    # ef_search candidates are all the rest's, so a post-filter would find none of the quiet channel.
    query = _near_crowd_and_quiet_channel(np.random.default_rng(1), 3000)
    with connection.cursor() as cursor:
        # Make the planner use the HNSW index as it would on a large table.
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("SET enable_bitmapscan = off")
        cursor.execute("SET enable_sort = off")
    try:
        found = memory_search(_vector_only(query, GUILD, 10, channel_ids=("c-quiet",)))
        with connection.cursor() as cursor:
            cursor.execute("SET hnsw.iterative_scan = off")
            cursor.execute("SET hnsw.ef_search = 20")
            cursor.execute(
                "EXPLAIN SELECT id FROM memory_highlight WHERE guild_id = %s AND visibility = 'guild' "
                "AND channel_id = 'c-quiet' ORDER BY embedding <=> %s::vector LIMIT 10",
                [GUILD, "[" + ",".join(map(str, query)) + "]"],
            )
            plan = "\n".join(row[0] for row in cursor.fetchall())
            cursor.execute(
                "SELECT count(*) FROM (SELECT id FROM memory_highlight WHERE guild_id = %s AND visibility = 'guild' "
                "AND channel_id = 'c-quiet' ORDER BY embedding <=> %s::vector LIMIT 10) s",
                [GUILD, "[" + ",".join(map(str, query)) + "]"],
            )
            without_iterative_scan = cursor.fetchone()[0]
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                "RESET enable_seqscan; RESET enable_bitmapscan; RESET enable_sort; RESET hnsw.iterative_scan"
            )
    assert "memory_highlight_hnsw" in plan
    assert without_iterative_scan < 10
    assert len(found.hits) == 10
    assert {hit.channel_id for hit in found.hits} == {"c-quiet"}


def test_a_small_guild_is_searched_exactly_once_statistics_show_it_is_small():
    from memory.search import _guild_stats

    rng = np.random.default_rng(3)
    query = _unit(rng, 1)[0]
    near = query + 0.05 * _unit(rng, 2000)
    _highlights("g-big", near / np.linalg.norm(near, axis=1, keepdims=True))
    small = _unit(rng, 30)
    _highlights("g-small", small)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE memory_highlight")
    _guild_stats.cache_clear()
    found = memory_search(_vector_only(query, "g-small", 10))
    stored = dict(Highlight.objects.filter(guild_id="g-small").values_list("pk", "embedding"))
    truth = sorted(stored, key=lambda pk: -float(np.dot(np.asarray(stored[pk]), query)))[:10]
    assert [hit.row_id for hit in found.hits] == truth


def test_nearest_ids_is_exact_even_where_the_planner_would_walk_the_graph():
    from memory.search import nearest_ids

    query = _near_crowd_and_quiet_channel(np.random.default_rng(5), 2000)
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("SET enable_sort = off")
        cursor.execute("SET hnsw.ef_search = 20")
    try:
        rows = Highlight.objects.filter(guild_id=GUILD, channel_id="c-quiet")
        found = nearest_ids(rows, query, 10)
        graph = list(rows.order_by(CosineDistance("embedding", query)).values_list("pk", flat=True)[:10])
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET enable_seqscan; RESET enable_sort; RESET hnsw.ef_search")
    stored = dict(rows.values_list("pk", "embedding"))
    truth = sorted(stored, key=lambda pk: -float(np.dot(np.asarray(stored[pk]), query)))[:10]
    assert found == truth
    assert len(graph) < 10


def test_a_filter_matching_fewer_than_k_rows_returns_exactly_those():
    rng = np.random.default_rng(2)
    _highlights("g-big", _unit(rng, 200))
    _highlights("g-small", _unit(rng, 4))
    found = memory_search(_vector_only(_unit(rng, 1)[0], "g-small", 10))
    assert len(found.hits) == 4


@pytest.fixture
def bakery_archive():
    embedder = CachingEmbedder()
    start = NOW - timedelta(days=30)
    rows = []
    lines = [
        "did anyone meet someone new at the bakery recently",
        "i met someone at the bakery recently, lovely person",
        "meeting new people at the bakery is my favourite thing",
        "someone i met at the bakery recently recommended a book",
        "recently i keep meeting people at that bakery",
    ]
    for n in range(60):
        rows.append(
            TranscriptFactory.create(
                content=f"{lines[n % len(lines)]} {'!' * (n % 3)}",
                author_id=f"u-{n % 4}",
                author_display_name=f"person {n % 4}",
                created_at=start + timedelta(minutes=n),
            )
        )
    rare = TranscriptFactory.create(
        content="Qwzxvbt fixed my bike chain yesterday",
        author_id="u-9",
        author_display_name="person 9",
        created_at=start + timedelta(hours=3),
    )
    TranscriptFactory.create(content="see you all tomorrow", created_at=start + timedelta(hours=3, minutes=1))
    secret = TranscriptFactory.create(
        dm=True, content="Qwzxvbt told me a secret at the bakery", created_at=start + timedelta(hours=4)
    )
    archive_transcripts(list(Transcript.objects.values_list("pk", flat=True)))
    embed_pending(embedder=embedder)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE memory_archiveentry")
    _lexeme_stats_cached.cache_clear()
    return {"rare": rare, "secret": secret}


def _guild_query(text, **changes):
    options = {"k": 5, "neighbours": 0, "now": NOW, **changes}
    return SearchQuery(text=text, guild_id=GUILD, channel_id="c-general", **options)


def test_hybrid_search_finds_a_rare_name_that_vector_search_alone_misses(bakery_archive):
    question = "did anyone meet someone at the bakery recently, maybe Qwzxvbt?"
    vector_only = memory_search(_guild_query(question, use_fts=False, interpret=False, recency=False))
    hybrid = memory_search(_guild_query(question))
    rare = bakery_archive["rare"].pk
    assert rare not in vector_only.transcript_ids()
    assert rare in hybrid.transcript_ids()


def test_no_dm_row_reaches_a_guild_query_even_when_it_matches_best(bakery_archive):
    found = memory_search(_guild_query("Qwzxvbt secret", k=20))
    assert bakery_archive["secret"].pk not in found.transcript_ids()
    assert all(not hit.provenance.is_dm for hit in found.hits)
    assert all(hit.provenance.guild_id == GUILD for hit in found.hits)


def test_a_dm_query_sees_its_own_dm_and_nothing_of_the_guild(bakery_archive):
    query = SearchQuery(
        text="Qwzxvbt", guild_id="", channel_id="dm-alice", is_dm=True, requester_id="u-alice", k=5, neighbours=0
    )
    found = memory_search(query)
    assert found.transcript_ids() == [bakery_archive["secret"].pk]


def test_hits_carry_their_neighbours_and_the_budget_trims(bakery_archive):
    with_neighbours = memory_search(_guild_query("qwzxvbt", neighbours=1, k=3))
    first = with_neighbours.hits[0]
    assert [n.offset for n in first.neighbours] == [-1, 1]
    assert "(before)" in first.render()
    tight = memory_search(_guild_query("qwzxvbt", neighbours=1, k=3, token_budget=30))
    assert tight.tokens <= 30
    assert tight.hits[0].neighbours == ()


def test_duplicates_are_removed():
    TranscriptFactory.create_batch(3, content="exactly the same words", created_at=NOW - timedelta(hours=1))
    archive_transcripts(list(range(0)))
    archive_transcripts(list(Transcript.objects.values_list("pk", flat=True)))
    embed_pending(embedder=CachingEmbedder())
    found = memory_search(_guild_query("exactly the same words"))
    assert len(found.hits) == 1


def test_a_named_time_narrows_to_that_window():
    for day in range(10):
        TranscriptFactory.create(content=f"release notes for the deploy {day}", created_at=NOW - timedelta(days=day))
    archive_transcripts(list(Transcript.objects.values_list("pk", flat=True)))
    embed_pending(embedder=CachingEmbedder())
    found = memory_search(_guild_query("what were the release notes yesterday?", k=1))
    assert found.window is not None
    assert found.hits[0].text == "release notes for the deploy 1"


def _window(text, *, now):
    found = parse_time_window(text, now=now)
    assert found is not None, text
    return found


def test_time_words():
    now = datetime(2026, 3, 18, 15, 0, tzinfo=UTC)  # a Wednesday
    assert _window("what happened yesterday", now=now).start == datetime(2026, 3, 17, tzinfo=UTC)
    assert _window("on March 4?", now=now).start == datetime(2026, 3, 4, tzinfo=UTC)
    assert _window("the 4th of march", now=now).start == datetime(2026, 3, 4, tzinfo=UTC)
    assert _window("in June", now=now).start == datetime(2025, 6, 1, tzinfo=UTC)
    last_week = _window("last week", now=now)
    assert (last_week.start, last_week.end) == (datetime(2026, 3, 9, tzinfo=UTC), datetime(2026, 3, 16, tzinfo=UTC))
    assert _window("on monday", now=now).start == datetime(2026, 3, 16, tzinfo=UTC)
    assert _window("2026-01-02", now=now).start == datetime(2026, 1, 2, tzinfo=UTC)
    assert parse_time_window("no time here", now=now) is None


def test_the_full_text_list_matches_on_its_rarest_lexemes_and_scores_on_all(monkeypatch, bakery_archive):
    # A large archive by its statistics: "bakery" in 40% of rows, "bike" in 0.1%, "chain" in 0.05%.
    stats = search_module._LexemeStats(
        frequencies={"bakeri": 0.4, "bike": 0.001, "chain": 0.0005, "cake": 0.3}, floor=0.0001, rows=10_000_000.0
    )
    monkeypatch.setattr(search_module, "_lexeme_stats", lambda table: stats)
    monkeypatch.setattr(search_module, "FTS_MATCH_ROWS", 5000)
    weighted = [("bakeri", 0.9), ("bike", 6.9), ("chain", 7.6)]
    # 5,000 rows of "chain", then "bike" would pass FTS_MATCH_ROWS: only the rarest matches.
    assert search_module._matching_lexemes(weighted, "memory_archiveentry") == "'chain'"
    # The rarest alone too many: the rows holding the two rarest together (5,000 x 0.001 = 5).
    monkeypatch.setattr(search_module, "FTS_MATCH_ROWS", 2000)
    assert search_module._matching_lexemes(weighted, "memory_archiveentry") == "'chain' & 'bike'"
    # Two rare words that fit together are both matched.
    monkeypatch.setattr(search_module, "FTS_MATCH_ROWS", 20_000)
    assert search_module._matching_lexemes(weighted, "memory_archiveentry") == "'chain' | 'bike'"
    # Every word common: the rows holding the rarest ones together (10M x 0.3 = 3M, then x 0.4 = 1.2M, fits).
    monkeypatch.setattr(search_module, "FTS_MATCH_ROWS", 1_500_000)
    common = [("bakeri", 1.0), ("cake", 1.0)]
    assert search_module._matching_lexemes(common, "memory_archiveentry") == "'cake' & 'bakeri'"
    # A small table matches on everything.
    monkeypatch.setattr(search_module, "FTS_MATCH_ROWS", 50_000_000)
    assert search_module._matching_lexemes(weighted, "memory_archiveentry") == "'bakeri' | 'bike' | 'chain'"


def test_a_row_matching_the_rare_lexeme_and_a_common_one_outranks_the_rare_one_alone(monkeypatch, bakery_archive):
    rare = bakery_archive["rare"]
    stats = search_module._LexemeStats(frequencies={"bike": 0.00004, "chain": 0.01}, floor=0.00001, rows=1e8)
    monkeypatch.setattr(search_module, "_lexeme_stats", lambda table: stats)
    monkeypatch.setattr(search_module, "FTS_MATCH_ROWS", 5000)
    other = TranscriptFactory.create(content="my bike is red", created_at=NOW - timedelta(days=1))
    archive_transcripts([other.pk])
    found = memory_search(_guild_query("bike chain", use_vector=False, interpret=False, recency=False, k=5))
    ids = found.transcript_ids()
    # Only "bike" matched rows into the list; "chain" still scored them, so the row with both comes first.
    assert ids[:2] == [rare.pk, other.pk]


def test_every_hnsw_index_is_built_with_the_project_parameters():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, c.reloptions FROM pg_class c JOIN pg_am a ON a.oid = c.relam "
            "WHERE a.amname = 'hnsw' AND c.relname LIKE 'memory\\_%%' ORDER BY c.relname"
        )
        found = dict(cursor.fetchall())

    expected = [f"m={HNSW_M}", f"ef_construction={HNSW_EF_CONSTRUCTION}"]
    assert sorted(found) == [
        "memory_archive_hnsw",
        "memory_epoch_hnsw",
        "memory_fact_hnsw",
        "memory_highlight_hnsw",
        "memory_lore_hnsw",
    ]
    assert all(options == expected for options in found.values()), found


def test_a_search_over_every_layer_asks_postgres_for_the_text_lexemes_once():
    _highlights(GUILD, _unit(np.random.default_rng(3), 3))
    _text_lexemes.cache_clear()
    query = SearchQuery(text="sourdough starter recipe", guild_id=GUILD, channel_id="c-1", use_vector=False)

    with CaptureQueriesContext(connection) as captured:
        memory_search(query)
        memory_search(query)

    parses = [q["sql"] for q in captured.captured_queries if "to_tsvector" in q["sql"]]
    fts_lists = [q["sql"] for q in captured.captured_queries if "@@ to_tsquery" in q["sql"]]
    assert len(fts_lists) >= 2 * len(query.layers)
    assert len(parses) == 1


def test_the_full_text_list_ranks_as_if_every_matched_row_were_ranked_by_cover_density():
    rng = np.random.default_rng(11)
    words = ["sourdough", "starter", "flour", "oven", "crust", "rye", "levain", "proof", "bake", "loaf"]
    texts = [" ".join(rng.choice(words, size=int(rng.integers(2, 9)))) for _ in range(300)]
    Highlight.objects.bulk_create(
        Highlight(
            guild_id=GUILD,
            channel_id="c-1",
            subject_user_id="u-x",
            visibility=Visibility.GUILD,
            raw_text=text,
            attribution="x",
            said_at=NOW,
        )
        for text in texts
    )
    layer = search_module.LAYERS["highlight"]
    where = ("guild_id = %s AND visibility = 'guild'", [GUILD])
    text = "rye levain proof and the oven"
    weighted = search_module._query_lexemes(text, layer.table)
    every = " | ".join(f"'{lexeme}'" for lexeme, _ in weighted)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, tsvector_to_array(search_vector), ts_rank_cd(search_vector, to_tsquery('english', %s)) "
            "FROM memory_highlight WHERE search_vector @@ to_tsquery('english', %s) AND guild_id = %s",
            [every, every, GUILD],
        )
        rows = cursor.fetchall()
    weights = dict(weighted)
    expected = sorted(
        ((sum(weights.get(lexeme, 0.0) for lexeme in lexemes), rank, pk) for pk, lexemes, rank in rows), reverse=True
    )

    found = search_module._fts_ids(layer, where, text, 25)

    assert len(rows) > 100
    assert found == [pk for _, _, pk in expected[:25]]
