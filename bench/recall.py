"""Recall bench: evidence recall@5/@10/@25 of full-text alone, vector alone and memory_search, in one run.

    .venv/bin/python bench/recall.py [--no-write] [--docs PATH]

Loads bench/recall_data (written group conversations: 1,104 messages over 24 dated sessions, 157 questions
that each name the messages holding their answer) into a throwaway database (DIT_BENCH_DATABASE, default
bench_recall) as transcripts, archives and embeds them with the local model, refreshes dossiers, and asks
every question three ways over the archive layer. Recall@k of a question is the share of its evidence
messages among the first k messages returned (neighbours attached to hits are not counted); the table
averages over questions, for the tuned part and for the held-back part (every fourth question) apart.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dit_project.settings")
os.environ["DIT_TEST_DATABASE"] = os.environ.get("DIT_BENCH_DATABASE", "bench_recall")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.report import machine, publish  # noqa: E402
from memory.archive import archive_missing, embed_pending  # noqa: E402
from memory.models import Transcript  # noqa: E402
from memory.moments import refresh_dossiers  # noqa: E402
from memory.search import SearchQuery, memory_search  # noqa: E402

DATA = ROOT / "bench" / "recall_data"
DOCS = ROOT / "docs" / "benchmarks.md"
GUILD = "g-recall"
KS = (5, 10, 25)
RETRIEVERS = {
    "full-text alone": {"use_vector": False, "interpret": False, "recency": False, "conversational": False},
    "vector alone": {"use_fts": False, "interpret": False, "recency": False, "conversational": False},
    "memory_search": {},
}
TARGET = 0.70


def load() -> tuple[dict[str, int], list[dict[str, Any]], datetime]:
    """Store the conversations as transcripts; the map of message id to transcript id, the questions, 'now'."""
    conversations = json.loads((DATA / "conversations.json").read_text())
    questions = json.loads((DATA / "questions.json").read_text())
    rows = [
        Transcript(
            platform="recall",
            message_id=m["id"],
            guild_id=GUILD,
            channel_id=m["channel_id"],
            channel_name=m["channel_name"],
            author_id=m["author_id"],
            author_display_name=m["author_name"],
            content=m["text"],
            created_at=datetime.fromisoformat(m["at"]),
        )
        for m in conversations["messages"]
    ]
    Transcript.objects.bulk_create(rows, batch_size=500)
    ids = dict(Transcript.objects.filter(guild_id=GUILD).values_list("message_id", "pk"))
    archive_missing(guild_id=GUILD)
    embed_pending(guild_id=GUILD)
    refresh_dossiers(GUILD)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE memory_archiveentry")
    last = max(datetime.fromisoformat(m["at"]) for m in conversations["messages"])
    return ids, questions, last + timedelta(days=1)


def ranked(question: str, options: dict[str, bool], now: datetime) -> list[int]:
    """The transcript ids one retriever returns for a question, best first (up to the largest k)."""
    query = SearchQuery(
        text=question,
        guild_id=GUILD,
        channel_id="c-general",
        k=max(KS),
        layers=frozenset({"archive"}),
        neighbours=0,
        now=now,
        **options,  # type: ignore[arg-type]
    )
    return memory_search(query).transcript_ids()


def recall_at(found: Sequence[int], evidence: set[int], k: int) -> float:
    """Share of the evidence among the first k results."""
    return len(evidence & set(found[:k])) / len(evidence)


def run(
    limit: int | None = None,
) -> tuple[dict[tuple[str, bool], dict[int, float]], dict[str, float], int, int, dict[tuple[str, str], float]]:
    """Recall per (retriever, held-back part) and k, milliseconds per question per retriever, counts."""
    ids, questions, now = load()
    if limit is not None:
        # A smoke run: the first questions of each part only.
        questions = [q for q in questions if not q["held_back"]][:limit] + [q for q in questions if q["held_back"]][
            :limit
        ]
    sums: dict[tuple[str, bool], dict[int, float]] = {}
    by_kind: dict[tuple[str, str], list[float]] = {}
    counts = {False: 0, True: 0}
    elapsed = dict.fromkeys(RETRIEVERS, 0.0)
    for question in questions:
        held = bool(question["held_back"])
        counts[held] += 1
        evidence = {ids[message_id] for message_id in question["evidence"]}
        for name, options in RETRIEVERS.items():
            started = time.perf_counter()
            found = ranked(str(question["question"]), options, now)
            elapsed[name] += time.perf_counter() - started
            row = sums.setdefault((name, held), dict.fromkeys(KS, 0.0))
            for k in KS:
                row[k] += recall_at(found, evidence, k)
            by_kind.setdefault((name, str(question["kind"])), []).append(recall_at(found, evidence, 10))
    recall = {key: {k: value / counts[key[1]] for k, value in row.items()} for key, row in sums.items()}
    per_question = {name: 1000 * seconds / len(questions) for name, seconds in elapsed.items()}
    kinds = {key: sum(values) / len(values) for key, values in by_kind.items()}
    return recall, per_question, counts[False], counts[True], kinds


def report(
    recall: dict[tuple[str, bool], dict[int, float]],
    per_question: dict[str, float],
    tuned: int,
    held: int,
    kinds: dict[tuple[str, str], float],
) -> str:
    """The `## Recall` section of docs/benchmarks.md."""
    lines = [
        "## Recall",
        "",
        "`.venv/bin/python bench/recall.py`: written multi-session group conversations (bench/recall_data: "
        "1,104 messages over 24 dated sessions in five channels, eight people; 157 questions, each naming the "
        "message ids that hold its answer: single facts, multi-hop, times and names) loaded as transcripts, "
        "archived and embedded with the local all-MiniLM-L6-v2, and asked three ways over the archive layer. "
        "Evidence recall@k: the share of a question's evidence messages among the first k returned. Every "
        "fourth question is held back: nothing was tuned on it.",
        "",
        f"- Machine: {machine()}",
        f"- Run: {timezone.now():%Y-%m-%d %H:%M} UTC; {tuned} tuned-on questions, {held} held back.",
        "",
        "| questions | retriever | recall@5 | recall@10 | recall@25 | ms per question |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for held_back, label in ((False, "tuned-on"), (True, "held back")):
        for name in RETRIEVERS:
            row = recall[(name, held_back)]
            lines.append(
                f"| {label} | {name} | {row[5]:.3f} | {row[10]:.3f} | {row[25]:.3f} | {per_question[name]:.1f} |"
            )
    lines += ["", "Recall@10 by kind of question (both parts):", "", "| kind | " + " | ".join(RETRIEVERS) + " |"]
    lines.append("|---|" + "---:|" * len(RETRIEVERS))
    for kind in ("single", "multi-hop", "time", "names"):
        # A smoke run (--questions) may ask no question of a kind: its row says so instead of a number.
        cells = (f"{kinds[(name, kind)]:.3f}" if (name, kind) in kinds else "none asked" for name in RETRIEVERS)
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    lines.append("")
    for held_back, label in ((False, "tuned-on"), (True, "held-back")):
        ours = recall[("memory_search", held_back)]
        beats = all(
            ours[k] > recall[(other, held_back)][k] for other in ("full-text alone", "vector alone") for k in KS
        )
        verdict = "met" if ours[10] >= TARGET else "not met"
        lines.append(
            f"- {label.capitalize()} part: memory_search {'beats' if beats else 'does not beat'} both single "
            f"retrievers at every k; recall@10 {ours[10]:.3f} (target {TARGET:.2f}: {verdict})."
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str]) -> int:
    """Create the throwaway database, run every question, print (and record) the table, drop the database."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    parser.add_argument("--docs", type=Path, default=DOCS, help="the benchmarks page to update")
    parser.add_argument("--questions", type=int, default=None, help="ask only this many per part (smoke runs)")
    args = parser.parse_args(argv)
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        section = report(*run(args.questions))
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    publish(section, docs=None if args.no_write else args.docs)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
