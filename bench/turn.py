"""What the host harness costs per turn, with 100 channels at once, beside the same number of bare model calls.

    .venv/bin/python bench/turn.py                 # print the results
    .venv/bin/python bench/turn.py --write-docs    # and put them in docs/benchmarks.md, section "## Turn"

A turn is the whole host path on the local adapter: ingest, preflight, the channel lane, routing and the
decision row, context assembly (the guild-wide live window), the synthesizer's model call through the
in-process gateway, the beat row, the send (echoed back and ingested), and the outcome row. The model is the
local OpenAI-compatible server, which answers at once, so what is measured is the framework. Each round posts
one addressed message in each of N channels at the same moment and waits for every turn to end; latency is
from the post to the end of its turn. The baseline is the same number of chat completions sent straight to
the local server with the openai client, N at a time. The bench uses a database of its own (created,
migrated and dropped here) and its own Redis prefixes.
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
# The bench creates and drops a database of this name (DIT_BENCH_DATABASE, default bench_turn).
os.environ["DIT_TEST_DATABASE"] = os.environ.get("DIT_BENCH_DATABASE", "bench_turn")

import django  # noqa: E402

django.setup()

import logging  # noqa: E402

import openai  # noqa: E402
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
from dispositions.choices import ContextStrategy, OutputShape, ReasoningDepth, RiskAppetite, SearchPosture  # noqa: E402
from dispositions.models import Disposition, Persona, PersonaDispositionWeight  # noqa: E402
from dispositions.synthesis import SynthesisRequest, SynthesisResult, synthesize  # noqa: E402
from tests.redis_keys import delete_keys  # noqa: E402
from tests.servers.openai_server import OpenAIServer, Reply  # noqa: E402

REPLY = json.dumps({"messages": [{"text": "on it", "isCorrection": False}]})


@dataclass(frozen=True)
class Result:
    """Latency percentiles, throughput and process time of one way of doing N things at once."""

    mode: str
    channels: int
    count: int
    p50_ms: float
    p99_ms: float
    per_second: float
    cpu_ms: float


def world() -> tuple[int, int]:
    """A bot and a persona whose one disposition answers in a single line (every turn calls the model)."""
    persona = Persona.objects.create(name="Dit", wake_words=["dit"])
    disposition = Disposition.objects.create(
        slug="quick-react",
        name="quick-react",
        reasoning_depth=ReasoningDepth.LOW,
        context_strategy=ContextStrategy.LIVE,
        voice="playful",
        output_shape=OutputShape.SINGLE_LINE,
        search_posture=SearchPosture.NONE,
        risk_appetite=RiskAppetite.SAFE,
    )
    PersonaDispositionWeight.objects.create(persona=persona, disposition=disposition, weight=1.0)
    bot = Bot.objects.create(slug="bench", name="Dit")
    return bot.pk, persona.pk


class Clock:
    """Turn end times by channel, and the synthesizer's share of each turn."""

    def __init__(self) -> None:
        self.ended: dict[str, float] = {}
        self.waiters: dict[str, asyncio.Future[float]] = {}

    def decision_made(self, event: DecisionMade) -> None:
        """Not timed."""

    def followup_scheduled(self, event: FollowupScheduled) -> None:
        """Not timed."""

    def turn_ended(self, event: Ended) -> None:
        """Resolve the channel's waiter with the moment its turn ended."""
        now = time.perf_counter()
        waiter = self.waiters.pop(event.channel_id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(now)


async def host_rounds(
    bot_id: int, persona_id: int, *, channels: int, rounds: int, warmup: int
) -> tuple[Result, Result]:
    """Post one addressed message in each channel at once, `rounds` times; time each turn."""
    prefix = f"dit:bench:host:{uuid.uuid4().hex[:8]}"
    client = Redis.from_url(settings.REDIS_URL)
    adapter = LocalAdapter(bot_name="dit")
    clock = Clock()
    model_time: dict[str, float] = {}

    async def timed_synthesize(request: SynthesisRequest) -> SynthesisResult:
        started = time.perf_counter()
        result = await synthesize(request)
        # The synthesizer's model call (through the gateway) is keyed by who asked: one asker per channel.
        model_time[request.answering[0].text] = time.perf_counter() - started
        return result

    host = Host(
        bot=HostBot(bot_id=bot_id, slug="bench", name="Dit", persona_id=persona_id),
        config=HostConfig.build(fragment_window_seconds=0, fragment_max_seconds=0, mute_classifier=False),
        adapter=adapter,
        redis=client,
        redis_prefix=prefix,
        observers=[clock],
        synthesizer=timed_synthesize,
    )
    await host.prepare()
    await adapter.start(host)
    names = [f"room-{n}" for n in range(channels)]
    samples: list[float] = []
    framework: list[float] = []
    busy = 0.0
    cpu = 0.0
    try:
        loop = asyncio.get_running_loop()
        for round_number in range(warmup + rounds):

            async def one(name: str, round_number: int = round_number) -> tuple[float, float]:
                channel = adapter.channel(name)
                waiter: asyncio.Future[float] = loop.create_future()
                clock.waiters[channel.id] = waiter
                text = f"@dit what's new in {name} (round {round_number})?"
                started = time.perf_counter()
                await adapter.post(channel, f"user{round_number}", text)
                took = (await waiter) - started
                return took, took - model_time.pop(text, 0.0)

            began, began_cpu = time.perf_counter(), time.process_time()
            latencies = await asyncio.gather(*(one(name) for name in names))
            took, took_cpu = time.perf_counter() - began, time.process_time() - began_cpu
            if round_number >= warmup:
                samples.extend(total for total, _ in latencies)
                framework.extend(rest for _, rest in latencies)
                busy += took
                cpu += took_cpu
        await host.idle()
    finally:
        await host.drain(5)
        await adapter.stop()
        await client.aclose()
    whole = Result("host turn, post to outcome", channels, len(samples), *_stats(samples, busy, cpu))
    without_model = Result(
        "host turn without its model call (framework only)", channels, len(framework), *_stats(framework, busy, cpu)
    )
    return whole, without_model


async def baseline_rounds(stub: OpenAIServer, *, channels: int, rounds: int, warmup: int) -> Result:
    """The same number of chat completions straight to the local server, `channels` at a time."""
    client = openai.AsyncOpenAI(base_url=stub.base_url, api_key="sk-bench", max_retries=0)
    samples: list[float] = []
    busy = 0.0
    cpu = 0.0
    try:
        for round_number in range(warmup + rounds):

            async def one() -> float:
                started = time.perf_counter()
                await client.chat.completions.create(
                    model="stub-model", messages=[{"role": "user", "content": "what's new?"}], max_tokens=200
                )
                return time.perf_counter() - started

            began, began_cpu = time.perf_counter(), time.process_time()
            latencies = await asyncio.gather(*(one() for _ in range(channels)))
            took, took_cpu = time.perf_counter() - began, time.process_time() - began_cpu
            if round_number >= warmup:
                samples.extend(latencies)
                busy += took
                cpu += took_cpu
    finally:
        await client.close()
    return Result("baseline: direct model call (openai client)", channels, len(samples), *_stats(samples, busy, cpu))


def _stats(samples: list[float], busy: float, cpu: float) -> tuple[float, float, float, float]:
    count = len(samples)
    return percentile(samples, 0.5) * 1000, percentile(samples, 0.99) * 1000, count / busy, cpu / count * 1000


async def measure(stub: OpenAIServer, args: argparse.Namespace) -> list[Result]:
    """For each channel count: the host rounds, then the baseline rounds (each after its own warm-up)."""
    bot_id, persona_id = await sync_to_async(world)()
    results: list[Result] = []
    for channels in args.channels:
        host, framework = await host_rounds(
            bot_id, persona_id, channels=channels, rounds=args.rounds, warmup=args.warmup
        )
        await sync_to_async(connections.close_all)()
        base = await baseline_rounds(stub, channels=channels, rounds=args.rounds, warmup=args.warmup)
        results += [base, host, framework]
    return results


TARGETS = {
    1: "framework p50 under 5 ms",
    100: "at least 150 turns/s per process, framework p50 under 300 ms",
}


def report(results: list[Result], args: argparse.Namespace) -> str:
    """The `## Turn` section of docs/benchmarks.md."""
    lines = [
        "## Turn",
        "",
        "What the host harness costs per turn, measured by `.venv/bin/python bench/turn.py`: each round posts one",
        "addressed message in each of N channels at the same moment (local adapter, real database and Redis, the",
        "in-process gateway in front of the local OpenAI-compatible server, which answers at once) and waits for",
        "every turn to end. A turn is ingest and claim, preflight, the channel lane, one read of the transcript,",
        "routing, context assembly, one synthesizer call, the decision with its beat, the send (echoed back and",
        "ingested) and the outcome. The baseline sends the same number of chat completions straight to the local",
        "server with the openai client, N at a time. Framework time is a turn's time minus its synthesizer call.",
        "Process time is the CPU time of the whole process per turn (the local model server runs in it too, for",
        "the host and the baseline alike).",
        "",
        f"- Machine: {machine()}; at the start, {LOAD_AT_START}; at the end, {load_average()}",
        f"- Run: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {args.rounds} rounds per channel count"
        f" after {args.warmup} warm-up round(s).",
        "",
        "| channels | mode | turns | p50 ms | p99 ms | turns/s | process ms/turn | p50 vs baseline |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for index in range(0, len(results), 3):
        base = results[index]
        for result in results[index : index + 3]:
            ratio = result.p50_ms / base.p50_ms if base.p50_ms else 0.0
            lines.append(
                f"| {result.channels} | {result.mode} | {result.count} | {result.p50_ms:,.1f} | {result.p99_ms:,.1f} | "
                f"{result.per_second:,.0f} | {result.cpu_ms:,.1f} | {ratio:.1f}x |"
            )
    lines.append("")
    for index in range(0, len(results), 3):
        base, host, framework = results[index : index + 3]
        target = TARGETS.get(host.channels, "")
        lines.append(
            f"- {host.channels} channel(s) at once: framework p50 {framework.p50_ms:,.1f} ms (p99"
            f" {framework.p99_ms:,.1f} ms), {host.per_second:,.0f} turns/s, {host.cpu_ms:.1f} ms of process time per"
            f" turn against {base.cpu_ms:.1f} ms per bare call" + (f"; target {target}." if target else ".")
        )
    return "\n".join(lines)


def main() -> int:
    """Measure, print and optionally write the results."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--channels",
        type=lambda text: [int(n) for n in text.split(",")],
        default=[1, 100],
        help="comma-separated channel counts, each with a turn in every channel at the same moment",
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--write-docs", action="store_true", help="write the results into docs/benchmarks.md")
    parser.add_argument("--docs", type=Path, default=ROOT / "docs" / "benchmarks.md", help="the document to write")
    args = parser.parse_args()

    logging.disable(logging.WARNING)
    prefix = f"dit:bench:gateway:{uuid.uuid4().hex[:8]}"
    settings.DIT_GATEWAY_REDIS_PREFIX = prefix
    settings.DIT_GATEWAY_URL = ""
    # Measured as it runs in production: no SQL kept per query for the debug toolbar and error pages.
    settings.DEBUG = False
    database = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        with OpenAIServer() as stub:
            stub.default_reply = Reply(text=REPLY, usage=(40, 8))
            settings.OPENAI_BASE_URL = stub.base_url
            settings.OPENAI_API_KEY = "sk-bench"
            results = asyncio.run(measure(stub, args))
    finally:
        connections.close_all()
        connection.creation.destroy_test_db(database, verbosity=0)
        delete_keys(f"{prefix}:*", "dit:bench:host:*")
    publish(report(results, args), docs=args.docs if args.write_docs else None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
