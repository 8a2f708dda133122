"""Context bench: each strategy's assembly time on a guild with a large archive, beside `live` in the same run.

    .venv/bin/python bench/context.py [--messages 1000000] [--turns 30] [--build-minutes 20] [--no-write]
                                      [--keep] [--reuse]

A throwaway database (DIT_BENCH_DATABASE, default bench_context) gets one guild's transcripts and archive
rows (`--messages`, over 10 channels, 200 people and 180 days, one message in twenty by the bot), their
embeddings (2,000 real chat lines embedded by the local model, each row one of them plus a little noise, so
the HNSW graph sees no exact duplicates), 500 dossiers, 2,000 highlights and facts, 100 lore rows, 3,000
summarized epochs and pinned blocks (`--keep` leaves that database behind, `--reuse` measures on the one
a kept run left, so a query plan can be studied without loading 1M rows again). Then every strategy
assembles context for `--turns` turns in random channels on random topics. The topic's query vector is
computed (and cached) before the timer starts, as the router's memory inputs do in a real turn; the
embedding bench times the model itself.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import sys
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dit_project.settings")
os.environ["DIT_TEST_DATABASE"] = os.environ.get("DIT_BENCH_DATABASE", "bench_context")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.utils import OperationalError  # noqa: E402
from django.utils import timezone  # noqa: E402
from pgvector.psycopg import register_vector  # noqa: E402

from bench.embedding import texts as chat_lines  # noqa: E402
from bench.report import machine, percentile, publish  # noqa: E402
from memory.choices import ContextStrategyId, CoreBlockScope, EpochStatus, Visibility  # noqa: E402
from memory.context import ContextScope, assemble_context  # noqa: E402
from memory.embedding.minilm import default_encoder  # noqa: E402
from memory.embedding.providers import embed_one  # noqa: E402
from memory.models import CoreBlock, Dossier, Epoch, Fact, GroupLore, Highlight  # noqa: E402
from memory.models.base import HNSW_EF_CONSTRUCTION, HNSW_M  # noqa: E402

DOCS = ROOT / "docs" / "benchmarks.md"
GUILD = "g-bench"
CHANNELS = [f"c-{n}" for n in range(10)]
PEOPLE = [f"u-{n}" for n in range(200)]
POOL = 2000


def load(messages: int, rng: random.Random, lines: list[str], vectors: np.ndarray) -> float:
    """COPY the transcripts, then their archive rows with vectors; seconds taken."""
    started = time.perf_counter()
    now = timezone.now()
    span = timedelta(days=180).total_seconds()
    raw = connection.connection
    register_vector(raw)
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX IF EXISTS memory_archive_hnsw")
    chunk = 100_000
    for start in range(0, messages, chunk):
        count = min(chunk, messages - start)
        buffer = io.StringIO()
        rows = []
        for n in range(start, start + count):
            line = n % len(lines)
            bot = n % 20 == 19
            author = "b-bot" if bot else PEOPLE[rng.randrange(len(PEOPLE))]
            channel = CHANNELS[rng.randrange(len(CHANNELS))]
            said = now - timedelta(seconds=span * (1 - n / messages))
            content = lines[line].replace("\t", " ")
            rows.append((n, channel, author, bot, content, said, line))
            buffer.write(
                f"bench\tm{n}\t{GUILD}\t{channel}\t{channel}\t\tf\t{author}\t{author}\t{'t' if bot else 'f'}\t"
                f"{'bot' if bot else 'user'}\t{content}\t\t\t{{}}\t{said.isoformat()}\n"
            )
        buffer.seek(0)
        with (
            raw.cursor() as cursor,
            cursor.copy(
                "COPY memory_transcript (platform, message_id, guild_id, channel_id, channel_name, parent_channel_id, "
                "is_dm, author_id, author_display_name, author_is_bot, role, content, reply_to_message_id, "
                "reply_to_author_id, mentions, created_at) FROM STDIN"
            ) as copy,
        ):
            copy.write(buffer.read())
        with raw.cursor() as cursor:
            cursor.execute("SELECT id, seq FROM memory_transcript WHERE message_id = %s", [f"m{start}"])
            first_id, first_seq = cursor.fetchone()
        noise = np.random.default_rng(start).standard_normal((count, vectors.shape[1])).astype(np.float32) * 0.02
        with (
            raw.cursor() as cursor,
            cursor.copy(
                "COPY memory_archiveentry (transcript_id, seq, guild_id, channel_id, subject_user_id, visibility, "
                "source_transcript_ids, created_at, channel_name, author_display_name, author_is_bot, content, "
                "said_at, embedding, embedding_model, embedded_at) FROM STDIN (FORMAT BINARY)"
            ) as copy,
        ):
            copy.set_types(
                [
                    "int8",
                    "int8",
                    "varchar",
                    "varchar",
                    "varchar",
                    "varchar",
                    "int8[]",
                    "timestamptz",
                    "varchar",
                    "varchar",
                    "bool",
                    "text",
                    "timestamptz",
                    "vector",
                    "varchar",
                    "timestamptz",
                ]
            )
            for offset, (_, channel, author, bot, content, said, line) in enumerate(rows):
                vector = vectors[line] + noise[offset]
                vector /= np.linalg.norm(vector)
                copy.write_row(
                    [
                        first_id + offset,
                        first_seq + offset,
                        GUILD,
                        channel,
                        author,
                        "guild",
                        [first_id + offset],
                        now,
                        channel,
                        author,
                        bot,
                        content,
                        said,
                        vector,
                        "bench",
                        now,
                    ]
                )
        raw.commit() if not raw.autocommit else None
        print(f"  loaded {start + count:,} messages", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE memory_transcript")
        cursor.execute("VACUUM ANALYZE memory_archiveentry")
    return time.perf_counter() - started


def build(minutes: float) -> float | None:
    """The archive's HNSW index within the time allowed; seconds, or None when it ran out of time."""
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '6GB'")
            cursor.execute("SET max_parallel_maintenance_workers = 1")
            cursor.execute(f"SET statement_timeout = '{int(minutes * 60)}s'")
            cursor.execute(
                "CREATE INDEX memory_archive_hnsw ON memory_archiveentry USING hnsw (embedding vector_cosine_ops) "
                f"WITH (m = {HNSW_M}, ef_construction = {HNSW_EF_CONSTRUCTION})"
            )
    except OperationalError:
        return None
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = 0")
    return time.perf_counter() - started


def layers(rng: random.Random, lines: list[str], vectors: np.ndarray) -> None:
    """Dossiers, highlights, facts, lore, epochs and pinned blocks for the guild."""
    now = timezone.now()
    Dossier.objects.bulk_create(
        Dossier(
            guild_id=GUILD,
            subject_user_id=p,
            display_name=f"person {p}",
            body_text=lines[i % len(lines)],
            message_count=rng.randint(1, 5000),
            last_seen_at=now,
        )
        for i, p in enumerate(PEOPLE)
    )
    Highlight.objects.bulk_create(
        Highlight(
            guild_id=GUILD,
            channel_id=rng.choice(CHANNELS),
            subject_user_id=rng.choice(PEOPLE),
            raw_text=lines[i % len(lines)],
            attribution="someone",
            said_at=now - timedelta(days=rng.randint(1, 170)),
            embedding=vectors[i % len(lines)],
            score=rng.random(),
        )
        for i in range(2000)
    )
    Fact.objects.bulk_create(
        Fact(
            guild_id=GUILD,
            channel_id=rng.choice(CHANNELS),
            subject_user_id=PEOPLE[i % len(PEOPLE)],
            attribute=f"attr-{i}",
            statement=lines[(i * 7) % len(lines)],
            valid_from=now - timedelta(days=30),
            recorded_at=now - timedelta(days=30),
            embedding=vectors[(i * 7) % len(lines)],
        )
        for i in range(2000)
    )
    GroupLore.objects.bulk_create(
        GroupLore(
            guild_id=GUILD,
            body_text=lines[(i * 13) % len(lines)],
            subject_user_ids=rng.sample(PEOPLE, 2),
            score=rng.random(),
            embedding=vectors[(i * 13) % len(lines)],
        )
        for i in range(100)
    )
    Epoch.objects.bulk_create(
        Epoch(
            guild_id=GUILD,
            channel_id=CHANNELS[i % 10],
            channel_name=CHANNELS[i % 10],
            visibility=Visibility.GUILD,
            start_at=now - timedelta(hours=3 * (3000 - i) + 2),
            end_at=now - timedelta(hours=3 * (3000 - i)),
            first_seq=i * 10,
            last_seq=i * 10 + 9,
            message_count=10,
            participants=rng.sample(PEOPLE, 3),
            summary_text=lines[(i * 3) % len(lines)],
            topics=["bench"],
            closed_at=now,
            summarized_at=now,
            status=EpochStatus.SUMMARIZED,
            embedding=vectors[(i * 3) % len(lines)],
        )
        for i in range(3000)
    )
    CoreBlock.objects.create(guild_id=GUILD, scope=CoreBlockScope.GUILD, label="rules", body="be kind")
    with connection.cursor() as cursor:
        for table in ("memory_highlight", "memory_fact", "memory_grouplore", "memory_epoch", "memory_dossier"):
            cursor.execute(f"VACUUM ANALYZE {table}")


def measure(turns: int, rng: random.Random, lines: list[str]) -> dict[ContextStrategyId, list[float]]:
    """Milliseconds per assembly, per strategy."""
    timings: dict[ContextStrategyId, list[float]] = {strategy: [] for strategy in ContextStrategyId}
    for turn_number in range(turns):
        topic = lines[rng.randrange(len(lines))]
        embed_one(topic, guild_id=GUILD)
        scope = ContextScope(
            guild_id=GUILD,
            channel_id=rng.choice(CHANNELS),
            is_dm=False,
            requester_id=rng.choice(PEOPLE),
            present_user_ids=frozenset(rng.sample(PEOPLE, 4)),
            topic=topic,
            seed=turn_number,
        )
        for strategy in ContextStrategyId:
            started = time.perf_counter()
            assemble_context(strategy=strategy, turn=scope)
            timings[strategy].append((time.perf_counter() - started) * 1000)
    return timings


def report(
    messages: int,
    requested: int,
    load_s: float | None,
    build_s: float | None,
    tries: list[str],
    timings: dict[ContextStrategyId, list[float]],
    turns: int,
) -> str:
    """The `## Context assembly` section."""
    live = percentile(timings[ContextStrategyId.LIVE], 0.5)
    lines = [
        "## Context assembly",
        "",
        "`.venv/bin/python bench/context.py`: every context strategy assembling for the same turns (random "
        "channel, requester, present people and topic) on one guild with a large archive (10 channels, 200 people, "
        "180 days; 500 dossiers, 2,000 highlights and facts, 100 lore rows, 3,000 epochs). The topic's vector is "
        "computed before the timer (the router's memory inputs do that in a turn, and cache it); `live`, what every "
        "strategy cost before this work, is the baseline.",
        "",
        f"- Machine: {machine()}",
        f"- Run: {timezone.now():%Y-%m-%d %H:%M} UTC; {turns} turns per strategy after one warm-up turn.",
        f"- Archived messages: {messages:,} (asked for {requested:,}); "
        + (
            f"loaded in {load_s / 60:.1f} min; archive HNSW (m={HNSW_M}, ef_construction={HNSW_EF_CONSTRUCTION}) "
            f"built in {build_s / 60:.1f} min. {' '.join(tries)}"
            if load_s is not None and build_s is not None
            else "measured on the database a `--keep` run loaded and indexed."
        ),
        "",
        "| strategy | p50 ms | p99 ms | p50 vs live |",
        "|---|---:|---:|---:|",
    ]
    worst = 0.0
    for strategy, samples in timings.items():
        p50 = percentile(samples, 0.5)
        worst = max(worst, p50)
        lines.append(f"| {strategy.value} | {p50:.1f} | {percentile(samples, 0.99):.1f} | {p50 / live:.1f}x |")
    lines += [
        "",
        f"- Target p50 under 30 ms for every strategy: {'met' if worst < 30 else 'not met'} "
        f"(slowest p50 {worst:.1f} ms).",
    ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str]) -> int:
    """Load, index, seed the layers, time every strategy, report."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--turns", type=int, default=30)
    parser.add_argument("--build-minutes", type=float, default=20.0)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--docs", type=Path, default=DOCS)
    parser.add_argument("--keep", action="store_true", help="leave the bench database behind")
    parser.add_argument("--reuse", action="store_true", help="measure on the database a --keep run left")
    args = parser.parse_args(argv)
    rng = random.Random(30)
    # A small smoke run needs few distinct lines; a full run 2,000.
    lines = chat_lines(min(POOL, max(50, args.messages // 20)))
    vectors = default_encoder().encode(lines)
    if args.reuse:
        return remeasure(args, rng, lines)
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    tries: list[str] = []
    try:
        messages = args.messages
        load_s = load(messages, rng, lines, vectors)
        while (build_s := build(args.build_minutes)) is None:
            tries.append(f"The archive index over {messages:,} rows did not build within {args.build_minutes:.0f} min;")
            messages //= 2
            with connection.cursor() as cursor:
                cursor.execute("SET session_replication_role = replica")  # the transcript guard is a trigger
                cursor.execute(
                    "DELETE FROM memory_archiveentry WHERE seq > (SELECT min(seq) FROM memory_archiveentry) + %s",
                    [messages - 1],
                )
                cursor.execute(
                    "DELETE FROM memory_transcript WHERE seq > (SELECT min(seq) FROM memory_transcript) + %s",
                    [messages - 1],
                )
                cursor.execute("SET session_replication_role = DEFAULT")
                cursor.execute("VACUUM ANALYZE memory_archiveentry")
        if tries:
            tries.append(f"this is the largest size tried that did: {messages:,} messages.")
        layers(rng, lines, vectors)
        measure(1, rng, lines)
        timings = measure(args.turns, rng, lines)
        section = report(messages, args.messages, load_s, build_s, tries, timings, args.turns)
    finally:
        if args.keep:
            print(f"  kept database {connection.settings_dict['NAME']}", flush=True)
        else:
            connection.creation.destroy_test_db(old_name, verbosity=0)
    publish(section, docs=None if args.no_write else args.docs)
    return 0


def remeasure(args: argparse.Namespace, rng: random.Random, lines: list[str]) -> int:
    """Time every strategy on the database a `--keep` run left."""
    connection.close()
    connection.settings_dict["NAME"] = os.environ["DIT_TEST_DATABASE"]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM memory_archiveentry")
            (messages,) = cursor.fetchone()
    except OperationalError:
        messages = 0
    if not messages:
        print("no kept bench database: run with --keep first", file=sys.stderr)
        return 2
    if not Dossier.objects.filter(guild_id=GUILD).exists():
        layers(rng, lines, default_encoder().encode(lines))
    measure(1, rng, lines)
    timings = measure(args.turns, rng, lines)
    section = report(messages, args.messages, None, None, [], timings, args.turns)
    publish(section, docs=None if args.no_write else args.docs)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
