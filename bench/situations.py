"""Speak or stay silent over the whole situation suite with many seeds: balanced accuracy by part and category, and
the rate of each failure class of the judgement issue.

    .venv/bin/python bench/situations.py                       # every situation, 20 seeds each
    .venv/bin/python bench/situations.py --part tuning         # only the tuning part (what may be tuned on)
    .venv/bin/python bench/situations.py --seeds 30 --write-docs

Every situation of the suite (`bots/host/tests/situations/catalog`) is played `--seeds` times through the same stack
the test suite uses: a fresh local Discord and guild per run, the real discord.py client, the host, the router, the
real database and Redis, the in-process gateway in front of the local model server that answers each prompt as a
cooperative model would. Each run is judged exactly as the suite judges it (`situations.judging`) and its
invariants checked. Run seeds continue the suite's: the first seeds of a situation are the ones the test suite
plays. The bench uses a database of its own (created, migrated and dropped here) and its own Redis prefixes.

Beside the runs, as the baseline, every decision the runs recorded is replayed from its decision row through the
pure router (`dispositions.services.replay`: no Discord, no host, no model): the bench prints how many replays
chose what the run chose, and the time of a whole run against the time of replaying its decisions.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dit_project.settings")
# The bench creates and drops a database of this name (DIT_BENCH_DATABASE, default bench_situations).
os.environ["DIT_TEST_DATABASE"] = os.environ.get("DIT_BENCH_DATABASE", "bench_situations")

import django  # noqa: E402

django.setup()

import logging  # noqa: E402

from asgiref.sync import sync_to_async  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402
from redis.asyncio import Redis  # noqa: E402

from bench.report import machine, publish  # noqa: E402
from bots.host.tests.situations.catalog import CATALOG  # noqa: E402
from bots.host.tests.situations.driver import play  # noqa: E402
from bots.host.tests.situations.invariants import check_invariants  # noqa: E402
from bots.host.tests.situations.judging import judge, run_seed  # noqa: E402
from bots.host.tests.situations.model import JUDGEMENT_CLASSES, Category, Situation  # noqa: E402
from bots.host.tests.situations.model_server import SituationModelServer  # noqa: E402
from bots.host.tests.situations.report import PARTS, CategoryTally, SuiteReport, merged  # noqa: E402
from dispositions.models import DispositionDecision, Persona, PersonaDispositionWeight  # noqa: E402
from dispositions.services import replay  # noqa: E402
from tests.redis_keys import delete_keys  # noqa: E402

SECTION = "## Situations"
TARGET_BALANCED = 0.95
TARGET_CATEGORY = 0.90
# What each of the judgement issue's classes is, as the failure its situations catch.
FAILURE_CLASSES: dict[Category, str] = {
    Category.QUESTIONS: "1. a question between people drew the bot, or one left to the room did not",
    Category.ANNOUNCEMENTS: "2. an announcement drew words",
    Category.CELEBRATIONS: "3. good news or a joke drew text; or a reaction landed elsewhere",
    Category.LATE_PINGS: "4. a late ping went unanswered, was answered twice, or with a reaction alone",
    Category.ANSWERED_FRAGMENTS: "5. fragments merged across someone else's answer, or drew the bot",
    Category.NEWCOMERS: "6. a newcomer was teased, or familiarity misread",
    Category.ARGUMENTS: "7. an argument drew the bot unasked, or heat was misread",
    Category.UNPROMPTED: "8. an unprompted turn answered nothing, or spoke on a nearly spent budget",
    Category.SHAPE: "9. a plain question got more than one line",
    Category.AMBIENT_BUDGET: "10. people chatting among themselves drew the bot",
    Category.MUTE_WORDING: "11. a request to be quiet in other words was answered, or muted the wrong channel",
    Category.REGISTER: "12. distress teased or answered with a lone reaction or a burst; thanks got something long",
    Category.SLEEP_AND_THREAT: "13. the bot spoke in quiet hours, or engaged a flood, mass mention or injection",
}


@dataclass
class Timing:
    """Wall time of the runs and of replaying their decisions through the pure router."""

    runs: int = 0
    run_seconds: float = 0.0
    decisions: int = 0
    replay_seconds: float = 0.0
    replay_matched: int = 0
    failing: Counter[tuple[str, bool]] = field(default_factory=Counter)
    runs_by_situation: Counter[tuple[str, bool]] = field(default_factory=Counter)


def load_persona(weights: dict[str, float]) -> int:
    """The shipped persona afresh (`loaddata default_persona`), with a situation's weight overrides."""
    call_command("loaddata", "default_persona", verbosity=0)
    persona = Persona.objects.get(name="Dit")
    for slug, weight in weights.items():
        PersonaDispositionWeight.objects.filter(persona=persona, disposition__slug=slug).update(weight=weight)
    return persona.pk


def replay_all(decision_ids: list[int]) -> tuple[int, int, float]:
    """Replay decisions from their rows; (how many, how many chose the same, seconds spent routing)."""
    rows = list(DispositionDecision.objects.filter(pk__in=decision_ids))
    started = time.perf_counter()
    matched = sum(1 for row in rows if replay(row).matches)
    return len(rows), matched, time.perf_counter() - started


async def play_all(
    situations: list[Situation], *, seeds: int, server: SituationModelServer, verbose: bool = False
) -> tuple[SuiteReport, Timing]:
    """Play every situation `seeds` times; tally the runs as the suite does and time them beside their replays."""
    report = SuiteReport()
    timing = Timing()
    redis = Redis.from_url(settings.REDIS_URL)
    prefix = f"dit:bench:situations:{uuid.uuid4().hex[:8]}"
    try:
        for number, situation in enumerate(situations, start=1):
            persona_id = await sync_to_async(load_persona)(dict(situation.weights))
            key = (situation.id, situation.held_back)
            for index in range(seeds):
                started = time.perf_counter()
                run = await play(
                    situation,
                    seed=run_seed(situation, index),
                    persona_id=persona_id,
                    server=server,
                    redis=redis,
                    redis_prefix=f"{prefix}:{number}:{index}",
                )
                timing.run_seconds += time.perf_counter() - started
                timing.runs += 1
                failures = judge(situation, run)
                report.add(run, failures=failures, broken=check_invariants(run))
                if failures and verbose:
                    for decision in run.decisions:
                        print(f"    seed {run.seed}: {decision.chosen_slug} ({decision.end}) saw {decision.moment}")
                timing.runs_by_situation[key] += 1
                timing.failing[key] += bool(failures)
                count, matched, seconds = await sync_to_async(replay_all)([d.id for d in run.decisions])
                timing.decisions += count
                timing.replay_matched += matched
                timing.replay_seconds += seconds
            failed = timing.failing[key]
            print(f"[{number}/{len(situations)}] {situation.id}: {failed}/{seeds} failing", flush=True)
    finally:
        await redis.aclose()
        delete_keys(f"{prefix}:*")
        # The ORM's worker thread keeps a connection; close it so the bench database can be dropped.
        await sync_to_async(connections.close_all)()
    return report, timing


def _rate(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _row(part: str, name: str, tally: CategoryTally) -> str:
    failed = f"{tally.failed_checks}/{tally.runs} ({tally.failed_checks / tally.runs:.1%})" if tally.runs else "-"
    return (
        f"| {part} | {name} | {len(tally.situations)} | {tally.runs} | {tally.tp} | {tally.fn} | {tally.tn} | "
        f"{tally.fp} | {_rate(tally.balanced_accuracy)} | {failed} | {len(tally.broken)} |"
    )


def section(report: SuiteReport, timing: Timing, args: argparse.Namespace, elapsed: float) -> str:
    """The `## Situations` section of docs/benchmarks.md."""
    lines = [
        SECTION,
        "",
        "`.venv/bin/python bench/situations.py`: every situation of the suite played with many seeds through the",
        "same stack as the test suite (a fresh local Discord per run, the real discord.py client, the host, the",
        "router, the real database and Redis, the in-process gateway in front of the local model server), each run",
        "judged as the suite judges it. Balanced accuracy is the mean of spoke-when-it-should (TP/(TP+FN)) and",
        "kept-quiet-when-it-should (TN/(TN+FP); for no-words situations a reaction counts as quiet) over labelled",
        "runs. The held-back part (`catalog/held_back`) was written before any tuning and never tuned on. The",
        "baseline replays every decision the runs recorded through the pure router from its decision row.",
        "",
        f"- Machine: {machine()}",
        f"- Run: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {args.seeds} seeds per situation, "
        f"{timing.runs} runs in {elapsed / 60:.1f} min.",
        "",
        "| part | category | situations | runs | TP | FN | TN | FP | balanced accuracy | failed runs | broken |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    totals: dict[str, CategoryTally] = {}
    for part in PARTS:
        tallies = report.part(part)
        if not tallies:
            continue
        for category in Category:
            if category in tallies:
                lines.append(_row(part, category.value, tallies[category]))
        totals[part] = merged(tallies.values())
        lines.append(_row(part, "**all**", totals[part]))
    lines.append("")
    for part, tally in totals.items():
        worst = min(
            (t.balanced_accuracy, c.value) for c, t in report.part(part).items() if t.balanced_accuracy is not None
        )
        met = (tally.balanced_accuracy or 0) >= TARGET_BALANCED and worst[0] >= TARGET_CATEGORY
        lines.append(
            f"- {part} part: balanced accuracy {_rate(tally.balanced_accuracy)} over {tally.runs} runs; lowest category"
            f" {worst[1]} at {worst[0]:.3f}; {len(tally.broken)} broken invariants (targets: 0.95 or more, no"
            f" category under 0.90, none broken: {'met' if met and not tally.broken else 'not met'})."
        )
    lines += [
        "",
        "Rate of each failure class (runs of the class's situations, both parts, failing their label or their checks):",
        "",
        "| class | tuning | held-back |",
        "|---|---:|---:|",
    ]
    for category in JUDGEMENT_CLASSES:
        cells = []
        for part in PARTS:
            found = report.part(part).get(category)
            cells.append(
                f"{found.failed_checks}/{found.runs} ({found.failed_checks / found.runs:.1%})" if found else "-"
            )
        lines.append(f"| {FAILURE_CLASSES[category]} | {cells[0]} | {cells[1]} |")
    failing = sorted((key for key, n in timing.failing.items() if n), key=lambda k: (k[1], k[0]))
    if failing:
        lines += ["", "Situations with failing runs:", ""]
        for situation_id, held_back in failing:
            runs = timing.runs_by_situation[(situation_id, held_back)]
            part = PARTS[1] if held_back else PARTS[0]
            lines.append(f"- `{situation_id}` ({part}): {timing.failing[(situation_id, held_back)]}/{runs}")
    per_run = timing.run_seconds / timing.runs * 1000 if timing.runs else 0.0
    per_replay = timing.replay_seconds / timing.decisions * 1000 if timing.decisions else 0.0
    ratio = per_run / (per_replay * timing.decisions / timing.runs) if timing.decisions else 0.0
    lines += [
        "",
        f"- Replays: {timing.replay_matched} of {timing.decisions} recorded decisions chose the same disposition and"
        " context strategy again from their logged inputs.",
        f"- Time: {per_run:,.0f} ms per run through the whole stack against {per_replay:.3f} ms per decision"
        f" replayed through the router alone ({timing.decisions / max(1, timing.runs):.1f} decisions per run):"
        f" a run costs {ratio:,.0f}x the routing of its decisions.",
    ]
    return "\n".join(lines)


def main() -> int:
    """Play, print and optionally write the results."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20, help="runs per situation (at least 20 for the figure)")
    parser.add_argument("--part", choices=("all", *PARTS), default="all")
    parser.add_argument("--only", default="", help="only situations whose id contains this")
    parser.add_argument("--verbose", action="store_true", help="print what the router saw in each failing run")
    parser.add_argument("--write-docs", action="store_true", help="write the results into docs/benchmarks.md")
    parser.add_argument("--docs", type=Path, default=ROOT / "docs" / "benchmarks.md", help="the document to write")
    args = parser.parse_args()

    situations = [
        s for s in CATALOG if args.only in s.id and (args.part == "all" or (s.held_back == (args.part == PARTS[1])))
    ]
    logging.disable(logging.CRITICAL)
    prefix = f"dit:bench:gateway:{uuid.uuid4().hex[:8]}"
    database = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    started = time.perf_counter()
    try:
        server = SituationModelServer()
        server.start()
        try:
            settings.OPENAI_BASE_URL = server.base_url
            settings.OPENAI_API_KEY = "sk-local-bench"
            settings.DIT_GATEWAY_URL = ""
            settings.DIT_GATEWAY_REDIS_PREFIX = prefix
            report, timing = asyncio.run(play_all(situations, seeds=args.seeds, server=server, verbose=args.verbose))
        finally:
            server.stop()
    finally:
        connections.close_all()
        connection.creation.destroy_test_db(database, verbosity=0)
        delete_keys(f"{prefix}:*")
    text = section(report, timing, args, time.perf_counter() - started)
    print("\n".join(report.lines()))
    publish(text, docs=args.docs if args.write_docs else None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
