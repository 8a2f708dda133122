"""What fanning out to five research personas costs beside one, with every model call taking a fixed delay.

    .venv/bin/python bench/fanout.py                 # print the results
    .venv/bin/python bench/fanout.py --write-docs    # and put them in docs/benchmarks.md, section "## Fan-out"

Two hosts on the local adapter, one run: one speaks through a disposition whose fan-out plan names all five
research personas, the other through one naming the participant-profiler alone; otherwise the same (single
line, the live lens, the same messages). Every chat completion the local model server answers waits
`--delay` seconds first, like a real model, and answers with one JSON object that fits every persona's
schema and the synthesizer's. A turn is the whole host path: ingest, routing, the fan-out (each persona's
memory reads and its `subagent-research` call through the in-process gateway), context, the synthesizer's
call, the decision with its runs and beat, the send and the outcome. Latency is from the post to the end of
the turn, one turn at a time. With the personas in parallel, five should cost about what one does: two model
delays per turn either way. The bench uses a database of its own (created, migrated and dropped here) and
its own Redis prefixes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dit_project.settings")
# The bench creates and drops a database of this name (DIT_BENCH_DATABASE, default bench_fanout).
os.environ["DIT_TEST_DATABASE"] = os.environ.get("DIT_BENCH_DATABASE", "bench_fanout")

import django  # noqa: E402

django.setup()

import logging  # noqa: E402

from asgiref.sync import sync_to_async  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection, connections  # noqa: E402
from redis.asyncio import Redis  # noqa: E402

from bench.report import load_average, machine, percentile, publish  # noqa: E402

LOAD_AT_START = load_average()
from bots.adapters.local import LocalAdapter  # noqa: E402
from bots.host.config import HostConfig  # noqa: E402
from bots.host.host import Host, HostBot  # noqa: E402
from bots.host.observers import DecisionMade, Ended, FollowupScheduled  # noqa: E402
from bots.models import Bot  # noqa: E402
from dispositions.choices import (  # noqa: E402
    ContextStrategy,
    OutputShape,
    ReasoningDepth,
    ResearchPersona,
    RiskAppetite,
    SearchPosture,
)
from dispositions.models import Disposition, Persona, PersonaDispositionWeight, SubagentRun  # noqa: E402
from tests.redis_keys import delete_keys  # noqa: E402
from tests.servers.openai_server import OpenAIServer, Reply  # noqa: E402

# One reply every caller accepts: each persona's schema requires only its own key, the synthesizer its messages.
REPLY = json.dumps(
    {
        "messages": [{"text": "on it", "isCorrection": False}],
        "callbacks": [{"text": "said before", "quote": "on it"}],
        "people": [{"name": "someone", "notes": "likes the topic"}],
        "history": [{"text": "talked about it in march"}],
        "angles": [{"text": "angle one"}, {"text": "angle two"}],
        "case_against": "the obvious reply misses the point",
    }
)


@dataclass(frozen=True)
class Result:
    """Turn latency percentiles of one fan-out width."""

    mode: str
    personas: int
    turns: int
    runs: int
    p50_ms: float
    p99_ms: float
    errors: tuple[str, ...] = ()
    # Each persona's p50 run latency (its call through the gateway, retries included).
    calls: tuple[tuple[str, float], ...] = ()


def worlds(plans: list[tuple[list[str], str]]) -> list[tuple[int, int]]:
    """Per plan, a bot and a persona whose one disposition fans out to it, then speaks one line.

    Every enabled disposition is a candidate of every persona, so each persona weighs the others' at 0.
    """
    dispositions = [
        Disposition.objects.create(
            slug=slug,
            name=slug,
            reasoning_depth=ReasoningDepth.LOW,
            context_strategy=ContextStrategy.LIVE,
            voice="playful",
            output_shape=OutputShape.SINGLE_LINE,
            search_posture=SearchPosture.BROAD_SCAN,
            risk_appetite=RiskAppetite.SAFE,
            fanout_plan=plan,
        )
        for plan, slug in plans
    ]
    made = []
    for own in dispositions:
        persona = Persona.objects.create(name=f"Dit {own.slug}", wake_words=["dit"])
        for disposition in dispositions:
            weight = 1.0 if disposition is own else 0.0
            PersonaDispositionWeight.objects.create(persona=persona, disposition=disposition, weight=weight)
        bot = Bot.objects.create(slug=f"bench-{own.slug}", name="Dit")
        made.append((bot.pk, persona.pk))
    return made


class Clock:
    """The moment each channel's turn ended."""

    def __init__(self) -> None:
        self.waiters: dict[str, asyncio.Future[float]] = {}

    def decision_made(self, event: DecisionMade) -> None:
        """Not timed."""

    def followup_scheduled(self, event: FollowupScheduled) -> None:
        """Not timed."""

    def turn_ended(self, event: Ended) -> None:
        """Resolve the channel's waiter."""
        waiter = self.waiters.pop(event.channel_id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(time.perf_counter())


async def turns(bot_id: int, persona_id: int, *, rounds: int, warmup: int) -> list[float]:
    """One addressed message at a time, `warmup + rounds` times; the latency of each measured turn."""
    prefix = f"dit:bench:fanout:{uuid.uuid4().hex[:8]}"
    client = Redis.from_url(settings.REDIS_URL)
    adapter = LocalAdapter(bot_name="dit")
    clock = Clock()
    host = Host(
        bot=HostBot(bot_id=bot_id, slug="bench", name="Dit", persona_id=persona_id),
        config=HostConfig.build(
            fragment_window_seconds=0,
            fragment_max_seconds=0,
            mute_classifier=False,
            register_classifier=False,
            router_off_axis_rate=0.0,
            # Three members asking a question every half second is a flood to the threat gate and the
            # security engine; the bench measures the fan-out, so flood detection is off.
            flood_messages=0,
        ),
        adapter=adapter,
        redis=client,
        redis_prefix=prefix,
        observers=[clock],
    )
    await host.prepare()
    await adapter.start(host)
    samples: list[float] = []
    loop = asyncio.get_running_loop()
    try:
        channel = adapter.channel("general")
        for number in range(warmup + rounds):
            waiter: asyncio.Future[float] = loop.create_future()
            clock.waiters[channel.id] = waiter
            started = time.perf_counter()
            await adapter.post(channel, f"user{number % 3}", f"@dit what do we know about topic {number}?")
            took = (await waiter) - started
            if number >= warmup:
                samples.append(took)
        await host.idle()
    finally:
        await host.drain(5)
        await adapter.stop()
        await client.aclose()
    return samples


async def measure(args: argparse.Namespace) -> list[Result]:
    """Both widths, one after the other, in one run against the same delayed server."""
    widths: list[tuple[str, list[str], str]] = [
        ("fan-out of 1 (participant-profiler)", [ResearchPersona.PARTICIPANT_PROFILER], "one"),
        ("fan-out of 5 (every persona)", list(ResearchPersona.values), "five"),
    ]
    made = await sync_to_async(worlds)([(plan, slug) for _, plan, slug in widths])
    results = []
    for (mode, plan, _), (bot_id, persona_id) in zip(widths, made, strict=True):
        samples = await turns(bot_id, persona_id, rounds=args.rounds, warmup=args.warmup)
        rows = SubagentRun.objects.filter(decision__bot_id=bot_id)
        runs = await rows.exclude(output_payload={}).acount()
        latencies: dict[str, list[float]] = {}
        async for persona, latency in rows.exclude(latency_ms=None).values_list("persona", "latency_ms"):
            latencies.setdefault(persona, []).append(float(latency or 0.0))
        calls = tuple((persona, percentile(values, 0.5)) for persona, values in sorted(latencies.items()))
        errors = tuple(
            [f"{persona}: {error}" async for persona, error in rows.exclude(error="").values_list("persona", "error")]
        )
        await sync_to_async(connections.close_all)()
        p50, p99 = percentile(samples, 0.5) * 1000, percentile(samples, 0.99) * 1000
        results.append(Result(mode, len(plan), len(samples), runs, p50, p99, errors, calls))
    return results


def report(results: list[Result], args: argparse.Namespace) -> str:
    """The `## Fan-out` section of docs/benchmarks.md."""
    one, five = results
    ratio = five.p50_ms / one.p50_ms if one.p50_ms else 0.0
    lines = [
        "## Fan-out",
        "",
        "What five research personas cost beside one, measured by `.venv/bin/python bench/fanout.py`: two hosts on",
        "the local adapter (real database and Redis, the in-process gateway), one through a disposition that fans",
        "out to all five personas, one to the participant-profiler alone, one addressed turn at a time. Every",
        f"chat completion of the local model server waits {args.delay:g} s before it answers (a fixed model",
        "delay), so a turn is two delays (the fan-out, then the synthesizer) plus the framework. Runs with a",
        "payload counts the SubagentRun rows written with a validated payload.",
        "",
        f"- Machine: {machine()}; at the start, {LOAD_AT_START}; at the end, {load_average()}",
        f"- Run: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {args.rounds} turns per width after"
        f" {args.warmup} warm-up turn(s); model delay {args.delay:g} s per call.",
        "",
        "| mode | personas | turns | runs with a payload | p50 ms | p99 ms | p50 vs fan-out of 1 |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        lines.append(
            f"| {result.mode} | {result.personas} | {result.turns} | {result.runs} | {result.p50_ms:,.1f} |"
            f" {result.p99_ms:,.1f} | {result.p50_ms / one.p50_ms if one.p50_ms else 0.0:.2f}x |"
        )
    lines.append("")
    for result in results:
        each = ", ".join(f"{persona} {latency:,.0f} ms" for persona, latency in result.calls)
        lines.append(f"- {result.mode}: p50 latency of each persona's run (memory read excluded): {each}.")
        for error in sorted(set(result.errors)):
            lines.append(f"- {result.mode}: {result.errors.count(error)} run(s) dropped: {error[:160]}")
    verdict = "met" if ratio <= 1.2 else "not met"
    lines += [f"- Fan-out of 5 against 1: {ratio:.2f}x the p50 latency; target at most 1.2x, {verdict}."]
    return "\n".join(lines)


def main() -> int:
    """Measure, print and optionally write the results."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--delay", type=float, default=0.2, help="seconds every chat completion waits")
    parser.add_argument("--write-docs", action="store_true", help="write the results into docs/benchmarks.md")
    parser.add_argument("--docs", type=Path, default=ROOT / "docs" / "benchmarks.md", help="the document to write")
    args = parser.parse_args()

    logging.disable(logging.WARNING)
    prefix = f"dit:bench:gateway:{uuid.uuid4().hex[:8]}"
    settings.DIT_GATEWAY_REDIS_PREFIX = prefix
    settings.DIT_GATEWAY_URL = ""
    settings.DEBUG = False
    database = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        with OpenAIServer() as stub:
            stub.default_reply = Reply(text=REPLY, usage=(40, 8), delay=args.delay)
            settings.OPENAI_BASE_URL = stub.base_url
            settings.OPENAI_API_KEY = "sk-bench"
            results = asyncio.run(measure(args))
    finally:
        connections.close_all()
        connection.creation.destroy_test_db(database, verbosity=0)
        delete_keys(f"{prefix}:*", "dit:bench:fanout:*")
    publish(report(results, args), docs=args.docs if args.write_docs else None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
