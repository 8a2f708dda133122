"""bench/reactor.py runs end to end and reports its paths, the ratios, timer lateness and the targets."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.integration


def test_the_bench_reports_the_reactor_beside_a_bare_task_and_writes_only_its_section(tmp_path):
    document = tmp_path / "benchmarks.md"
    document.write_text(
        "# Benchmarks\n\n## Ingest\n\ningest table\n\n## Reactor\n\nold numbers\n\n## Router\n\nrouter\n"
    )
    env = {**os.environ, "DIT_BENCH_DATABASE": "test_reactor_bench"}
    argv = [sys.executable, "bench/reactor.py", "--events", "6", "--rounds", "2", "--warmup", "1"]
    argv += ["--burst", "10", "--timers", "5", "--write-docs", "--docs", str(document)]

    finished = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)

    assert finished.returncode == 0, (finished.stdout + finished.stderr)[-3000:]
    rows = re.findall(
        r"^\| (bare Celery task|reactor: event to handler) \| [\d.]+ \| [\d.]+ \| ([\d.]+)x \|", finished.stdout, re.M
    )
    assert [name for name, _ in rows] == ["bare Celery task", "reactor: event to handler"]
    assert rows[0][1] == "1.00"
    assert re.search(r"^\| committed, then bare task \| [\d.]+ \| [\d.]+ \| [\d.]+x \|", finished.stdout, re.M)
    assert re.search(r"the reactor path is [\d.]+x that floor", finished.stdout)
    assert re.search(r"Timer lateness \(handler start after due time, 5 timers", finished.stdout)
    assert re.search(r"Target: event-to-handler p50 within 1.5x a bare task: (met|not met)", finished.stdout)
    assert re.search(r"Target: timer lateness p99 under 1 s: (met|not met)", finished.stdout)
    written = document.read_text()
    assert "old numbers" not in written
    assert written.index("## Ingest") < written.index("## Reactor") < written.index("## Router")
    assert "router" in written
