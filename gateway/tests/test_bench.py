"""bench/gateway.py runs end to end and reports the gateway's added latency."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.integration


def test_the_bench_reports_added_p50_for_each_mode_and_writes_only_its_section(tmp_path):
    document = tmp_path / "benchmarks.md"
    document.write_text(
        "# Benchmarks\n\n## Ingest\n\ningest table\n\n## Gateway\n\nold numbers\n\n## Router\n\nrouter table\n"
    )
    env = {**os.environ, "DIT_BENCH_DATABASE": "test_gateway_bench"}
    argv = [sys.executable, "bench/gateway.py", "--requests", "8", "--rounds", "2", "--warmup", "1"]
    argv += ["--throughput-requests", "8", "--concurrency", "2", "--write-docs", "--docs", str(document)]

    finished = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240, check=False)

    assert finished.returncode == 0, finished.stderr[-2000:]
    rows = re.findall(r"^\| (gateway[^|]+) \| [\d.]+ \| [\d.]+ \| ([+-][\d.]+) \|", finished.stdout, re.MULTILINE)
    assert [mode.strip() for mode, _ in rows] == [
        "gateway in-process",
        "gateway in-process, guild budget",
        "gateway over HTTP (uvicorn)",
    ]
    assert re.search(r"Target: added p50 under 2 ms in-process: (met|not met) \([\d.-]+ ms\)", finished.stdout)
    written = document.read_text()
    assert "old numbers" not in written
    assert "ingest table" in written
    assert "router table" in written
    assert written.index("## Ingest") < written.index("## Gateway") < written.index("## Router")
    assert re.search(r"Machine: \d+ CPUs \(.+\), Python 3\.\d+", written)
