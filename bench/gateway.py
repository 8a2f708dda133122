"""What the model gateway adds to a chat completion: latency (p50, p99) and throughput, in one run.

    .venv/bin/python bench/gateway.py                 # print the results
    .venv/bin/python bench/gateway.py --write-docs    # and put them in docs/benchmarks.md, section "## Gateway"

The same request (one short user message, a short reply) goes to the local OpenAI-compatible server
(tests/servers/openai_server.py) four ways: straight there with the openai client; through the gateway
in-process (`gateway.client.complete`), without and with a guild budget; and through the gateway's HTTP
endpoint served by uvicorn in its own process, with the openai client. Latency is measured one request
at a time, in interleaved rounds so drift hits every mode alike; throughput with concurrent requests.
The gateway uses a database of its own (created, migrated and dropped here) and its own Redis prefix.
Targets are reported, not asserted: added p50 under 2 ms, in-process and over HTTP.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dit_project.settings")
# The bench creates and drops a database of this name (DIT_BENCH_DATABASE, default bench_gateway).
os.environ["DIT_TEST_DATABASE"] = os.environ.get("DIT_BENCH_DATABASE", "bench_gateway")

import django  # noqa: E402

django.setup()

import httpx  # noqa: E402
import openai  # noqa: E402
from asgiref.sync import sync_to_async  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.utils import timezone  # noqa: E402
from openai.types.chat import ChatCompletionMessageParam  # noqa: E402

from bench.report import load_average, machine, percentile, publish  # noqa: E402

LOAD_AT_START = load_average()
from gateway import client as gateway  # noqa: E402
from gateway.services import budget_envelope_create, gateway_token_create  # noqa: E402
from tests.redis_keys import delete_keys  # noqa: E402
from tests.servers.openai_server import OpenAIServer, Reply  # noqa: E402

MESSAGES: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Say hello to the channel."}]
TARGET_ADDED_P50_MS = 2.0
Call = Callable[[], Awaitable[object]]


@dataclass(frozen=True)
class Result:
    """Latency percentiles and throughput of one way of calling."""

    mode: str
    p50_ms: float
    p99_ms: float
    throughput: float


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_uvicorn(port: int, database_url: str, prefix: str, stub_url: str) -> subprocess.Popen[bytes]:
    """The project under uvicorn in its own process, on the bench database and Redis prefix."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": settings.REDIS_URL,
        "DIT_GATEWAY_REDIS_PREFIX": prefix,
        "OPENAI_BASE_URL": stub_url,
        "OPENAI_API_KEY": "sk-bench",
        "DIT_GATEWAY_URL": "",
        "LOG_LEVEL": "WARNING",
    }
    argv = [sys.executable, "-m", "uvicorn", "dit_project.asgi:application", "--host", "127.0.0.1"]
    argv += ["--port", str(port), "--log-level", "warning", "--no-access-log", "--ws", "none", "--lifespan", "off"]
    return subprocess.Popen(argv, cwd=ROOT, env=env)  # noqa: S603


def wait_for(url: str, token: str, process: subprocess.Popen[bytes]) -> None:
    """Poll until the gateway answers (or fail if its process died)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("uvicorn exited before it served")
        try:
            if httpx.get(f"{url}/v1/models", headers={"Authorization": f"Bearer {token}"}).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("uvicorn did not answer within 60 s")


async def latency(calls: dict[str, Call], *, rounds: int, per_round: int, warmup: int) -> dict[str, list[float]]:
    """Milliseconds per call for each mode, one call at a time, modes interleaved round by round."""
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for call in calls.values():
        for _ in range(warmup):
            await call()
    for _ in range(rounds):
        for name, call in calls.items():
            for _ in range(per_round):
                started = time.perf_counter()
                await call()
                samples[name].append((time.perf_counter() - started) * 1000)
    return samples


async def throughput(call: Call, *, total: int, concurrency: int) -> float:
    """Completed calls per second with `concurrency` calls in flight."""
    remaining = total

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await call()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return total / (time.perf_counter() - started)


async def measure(stub: OpenAIServer, gateway_url: str, token: str, args: argparse.Namespace) -> list[Result]:
    """Run every mode and return its results (direct first)."""
    direct = openai.AsyncOpenAI(base_url=stub.base_url, api_key="sk-bench", max_retries=0)
    over_http = openai.AsyncOpenAI(
        base_url=f"{gateway_url}/v1",
        api_key=token,
        max_retries=0,
        default_headers={"x-dit-purpose": "synth-mid"},
    )
    calls: dict[str, Call] = {
        "direct to the local server": lambda: direct.chat.completions.create(model="gpt-4.1-mini", messages=MESSAGES),
        "gateway in-process": lambda: gateway.complete(purpose="synth-mid", messages=MESSAGES),
        "gateway in-process, guild budget": lambda: gateway.complete(
            purpose="synth-mid", messages=MESSAGES, guild_id="bench", max_tokens=64
        ),
        "gateway over HTTP (uvicorn)": lambda: over_http.chat.completions.create(model="auto", messages=MESSAGES),
    }
    samples = await latency(calls, rounds=args.rounds, per_round=args.requests // args.rounds, warmup=args.warmup)
    results = []
    for name, call in calls.items():
        rate = await throughput(call, total=args.throughput_requests, concurrency=args.concurrency)
        results.append(Result(name, statistics.median(samples[name]), percentile(samples[name], 0.99), rate))
    await direct.close()
    await over_http.close()
    # The ORM's worker thread holds a connection to the bench database, which must go before it is dropped.
    await sync_to_async(connections.close_all)()
    return results


def report(results: list[Result], args: argparse.Namespace) -> str:
    """The results as the markdown section of docs/benchmarks.md."""
    base = results[0]
    lines = [
        "## Gateway",
        "",
        "What the model gateway adds to one chat completion against the local OpenAI-compatible server",
        "(`tests/servers/openai_server.py`), measured by `.venv/bin/python bench/gateway.py` in one run.",
        "",
        f"- Machine: {machine()}; at the start, {LOAD_AT_START}; at the end, {load_average()}",
        f"- Run: {timezone.now():%Y-%m-%d %H:%M} UTC; latency from {args.requests} sequential calls per mode "
        f"({args.rounds} interleaved rounds, {args.warmup} warm-up calls each); throughput from "
        f"{args.throughput_requests} calls with {args.concurrency} in flight.",
        "- Every gateway call checks its cached route plan and the providers' cooldowns (one Redis round trip)",
        "  and records a usage event (one INSERT); the guild mode also reserves and settles a budget envelope",
        "  (two conditional UPDATEs). The HTTP mode adds bearer-token authentication (one SELECT) and runs in a",
        "  separate uvicorn process with the project's default settings: database connections from psycopg's",
        "  pool (a request reuses an open one), static files answered by ServeStatic before Django; Django's",
        "  security, session, CSRF and clickjacking middlewares still run each hook on a thread under ASGI, the",
        "  common, authentication and message ones inline (`dit_project/middleware.py`). The openai client on",
        "  the calling side parses the gateway's reply as it parses the local server's.",
        "",
        "| mode | p50 ms | p99 ms | added p50 ms | p50 ratio | throughput req/s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        added = "" if result is base else f"{result.p50_ms - base.p50_ms:+.2f}"
        ratio = result.p50_ms / base.p50_ms
        lines.append(
            f"| {result.mode} | {result.p50_ms:.2f} | {result.p99_ms:.2f} | {added} | {ratio:.2f}x "
            f"| {result.throughput:.0f} |"
        )
    in_process = results[1].p50_ms - base.p50_ms
    over_http = results[3].p50_ms - base.p50_ms
    target = f"{TARGET_ADDED_P50_MS:g}"
    lines += [
        "",
        f"- Target: added p50 under {target} ms in-process: {_verdict(in_process)} ({in_process:.2f} ms).",
        f"- Target: added p50 under {target} ms over HTTP: {_verdict(over_http)} ({over_http:.2f} ms).",
        "",
    ]
    return "\n".join(lines)


def _verdict(added_ms: float) -> str:
    return "met" if added_ms < TARGET_ADDED_P50_MS else "not met"


def main() -> int:
    """Measure, print and optionally write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=600, help="sequential calls per mode for latency")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--throughput-requests", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--write-docs", action="store_true", help="write the results into docs/benchmarks.md")
    parser.add_argument("--docs", type=Path, default=ROOT / "docs" / "benchmarks.md", help="the document to write")
    args = parser.parse_args()

    prefix = f"dit:bench:{uuid.uuid4().hex[:8]}"
    settings.DIT_GATEWAY_REDIS_PREFIX = prefix
    settings.DIT_GATEWAY_URL = ""
    database = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    process: subprocess.Popen[bytes] | None = None
    try:
        with OpenAIServer() as stub:
            stub.default_reply = Reply(text="Hello, channel!", usage=(12, 4))
            settings.OPENAI_BASE_URL = stub.base_url
            settings.OPENAI_API_KEY = "sk-bench"
            now = timezone.now()
            budget_envelope_create(
                guild_id="bench", period_start=now, period_end=now + timedelta(days=1), allocated_usd=Decimal(10**6)
            )
            _, token = gateway_token_create(bot_id=1, label="bench")
            params = connection.get_connection_params()
            user, host, db_port = params.get("user", "postgres"), params["host"], params["port"]
            database_url = f"postgresql://{user}@/{database}?host={host}&port={db_port}"
            port = free_port()
            process = start_uvicorn(port, database_url, prefix, stub.base_url)
            gateway_url = f"http://127.0.0.1:{port}"
            wait_for(gateway_url, token, process)
            results = asyncio.run(measure(stub, gateway_url, token, args))
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=15)
        connection.close()
        connection.creation.destroy_test_db(database, verbosity=0)
        delete_keys(f"{prefix}:*")
    publish(report(results, args), docs=args.docs if args.write_docs else None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
