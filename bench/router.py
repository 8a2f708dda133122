"""Router benchmark: decisions per second and p50/p99 latency with 10 and 50 candidate dispositions.

    .venv/bin/python bench/router.py [--decisions N] [--no-write]

Runs the pure router (no Django settings, no database) over the shipped default dispositions, padded
to 50 with synthetic ones, across a spread of seeded turn contexts; beside it a baseline that only
sorts the same candidates by a precomputed score. Results, with the machine's description, replace
the `## Router` section of docs/benchmarks.md (other sections are kept).
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import cpu_model, percentile, write_section  # noqa: E402
from dispositions.choices import (  # noqa: E402
    AddressKind,
    ContextStrategy,
    FollowupBias,
    OutputShape,
    ReasoningDepth,
    ResearchPersona,
    SearchPosture,
    TriggerKind,
    Voice,
)
from dispositions.defaults import default_routing  # noqa: E402
from dispositions.router import route_turn  # noqa: E402
from dispositions.specs import DispositionSpec, Moment, PersonaSpec, RouterConfig  # noqa: E402

DOC = ROOT / "docs" / "benchmarks.md"
SECTION = "## Router"
TARGET_P50_MS = 0.5


def padded_candidates(base: Sequence[DispositionSpec], count: int) -> list[DispositionSpec]:
    """The shipped dispositions plus synthetic ones cycling through the dimensions, `count` in all."""
    specs = list(base)
    combos = itertools.product(
        ReasoningDepth.values, Voice.values, ContextStrategy.values, OutputShape.values[1:], SearchPosture.values
    )
    rng = random.Random(7)
    for number, (depth, voice, strategy, shape, posture) in enumerate(combos):
        if len(specs) >= count:
            break
        if number % 97:
            continue  # spread the synthetic ones across the space instead of the first corner
        fanout = tuple(rng.sample(ResearchPersona.values, k=rng.randrange(0, 3)))
        specs.append(
            DispositionSpec(
                slug=f"synthetic-{number}",
                reasoning_depth=depth,
                context_strategy=strategy,
                voice=voice,
                output_shape=shape,
                search_posture=posture,
                risk_appetite="spicy" if number % 2 else "safe",
                fanout_plan=fanout,
                speculative_only=number % 5 == 0,
            )
        )
    return specs[:count]


def turn_contexts(count: int) -> list[Moment]:
    """A seeded spread of moments: reactive, speculative and self-followup, addressed or not."""
    rng = random.Random(2024)
    contexts = []
    for _ in range(count):
        trigger = rng.choice(TriggerKind.values)
        kind = rng.choice(AddressKind.values)
        contexts.append(
            Moment(
                trigger=trigger,
                message_text="what year was that?" if trigger == TriggerKind.REACTIVE else None,
                addressed=kind != AddressKind.NONE,
                address_kind=kind,
                question_detected=rng.random() < 0.3,
                unanswered_questions=rng.randrange(0, 3),
                activity_per_minute=rng.uniform(0, 12),
                lull_seconds=rng.uniform(0, 7200),
                present_users=tuple(f"u{i}" for i in range(rng.randrange(1, 6))),
                seconds_since_bot_spoke=rng.uniform(0, 900),
                callback_material=rng.random() if rng.random() < 0.3 else 0.0,
                heated_disagreement=rng.random() < 0.15,
                budget_remaining=rng.choice([0.05, 0.2, 0.6, 1.0]),
                followup_bias=rng.choice(FollowupBias.values) if trigger == TriggerKind.SELF_FOLLOWUP else None,
            )
        )
    return contexts


@dataclass(frozen=True)
class Timing:
    decisions: int
    per_second: float
    p50_ms: float
    p99_ms: float


def measure(decide: Callable[[int], object], decisions: int) -> Timing:
    """Time `decide(i)` for i in range(decisions), one clock reading per decision."""
    for i in range(min(500, decisions)):
        decide(i)  # warm up caches and the allocator
    samples = []
    clock = time.perf_counter_ns
    started = clock()
    for i in range(decisions):
        before = clock()
        decide(i)
        samples.append(clock() - before)
    elapsed = (clock() - started) / 1e9
    return Timing(
        decisions=decisions,
        per_second=decisions / elapsed,
        p50_ms=statistics.median(samples) / 1e6,
        p99_ms=percentile(samples, 0.99) / 1e6,
    )


def run(count: int, decisions: int, persona: PersonaSpec, base: Sequence[DispositionSpec]) -> tuple[Timing, Timing]:
    """Router and baseline timings for `count` candidates."""
    candidates = padded_candidates(base, count)
    contexts = turn_contexts(256)
    config = RouterConfig(off_axis_rate=0.05)
    rng = random.Random(1)
    precomputed = {spec.slug: rng.random() for spec in candidates}

    def router(i: int) -> object:
        return route_turn(contexts[i % len(contexts)], persona, candidates, config, seed=i).chosen

    def baseline(i: int) -> object:
        return sorted(candidates, key=lambda spec: precomputed[spec.slug], reverse=True)[0]

    return measure(router, decisions), measure(baseline, decisions)


def machine() -> str:
    """nproc, CPU model, Python version and the load (other work on the machine widens p99)."""
    nproc = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = f", load average {os.getloadavg()[0]:.2f} at start" if hasattr(os, "getloadavg") else ""
    return (
        f"nproc {nproc}, CPU {cpu_model()}, Python {platform.python_version()} ({platform.python_implementation()})"
        f"{load}"
    )


def report(results: dict[int, tuple[Timing, Timing]], decisions: int) -> str:
    """The `## Router` section."""
    lines = [
        SECTION,
        "",
        "`.venv/bin/python bench/router.py`: the pure router (`dispositions.router.route_turn`, no database) over the",
        "shipped dispositions padded with synthetic ones, across 256 seeded turn contexts (reactive, speculative,",
        "self-followup; addressed or not; budgets from 5% to full), one seed per decision. The baseline only sorts",
        "the same candidates by a precomputed score and takes the first.",
        "",
        f"Machine: {machine()}. {decisions} decisions per row after a warm-up.",
        "",
        "| candidates | router decisions/s | router p50 ms | router p99 ms | baseline decisions/s | baseline p50 ms "
        "| router / baseline (p50) |",
        "|---|---|---|---|---|---|---|",
    ]
    for count, (router, baseline) in results.items():
        lines.append(
            f"| {count} | {router.per_second:,.0f} | {router.p50_ms:.3f} | {router.p99_ms:.3f} "
            f"| {baseline.per_second:,.0f} | {baseline.p50_ms:.4f} | {router.p50_ms / baseline.p50_ms:.1f}x |"
        )
    p50_50 = results[max(results)][0].p50_ms
    verdict = "met" if p50_50 < TARGET_P50_MS else "missed"
    lines += [
        "",
        f"Target: router p50 under {TARGET_P50_MS} ms with 50 candidates: {verdict} ({p50_50:.3f} ms). The",
        "router's cost grows linearly with candidates (every one is gated, scored and given a reason list).",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=20_000, help="decisions timed per row")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args()

    persona, base = default_routing()
    results = {count: run(count, args.decisions, persona, base) for count in (10, 50)}
    section = report(results, args.decisions)
    print(section)
    if not args.no_write:
        write_section(section, DOC)
        print(f"written to {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
