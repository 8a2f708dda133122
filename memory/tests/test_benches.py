"""Each memory bench runs end to end at a tiny size and writes only its own section of the benchmarks page."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.integration

BENCHES = [
    (
        "vector",
        ["--rows", "3000", "--queries", "4", "--build-minutes", "5"],
        "## Vector search",
        r"1% guild filter returns 10 of 10 rows: (met|not met)",
    ),
    (
        "context",
        ["--messages", "2000", "--turns", "1"],
        "## Context assembly",
        r"Target p50 under 30 ms for every strategy: (met|not met)",
    ),
    ("embedding", ["--texts", "24"], "## Embedding", r"\| encode, batch 32 \| [\d,]+ \|"),
    ("recall", ["--questions", "3"], "## Recall", r"\| held back \| memory_search \| [\d.]+ \|"),
]


# A bench migrates a database of its own and loads the model: more than the default per-test limit on a busy box.
@pytest.mark.timeout(900)
@pytest.mark.parametrize(("name", "argv", "heading", "pattern"), BENCHES, ids=[b[0] for b in BENCHES])
def test_the_bench_runs_and_writes_only_its_section(tmp_path, name, argv, heading, pattern):
    document = tmp_path / "benchmarks.md"
    document.write_text("# Benchmarks\n\n## Ingest\n\ningest table\n\n## Router\n\nrouter table\n")
    env = {**os.environ, "DIT_BENCH_DATABASE": f"test_bench_{name}"}
    finished = subprocess.run(
        [sys.executable, f"bench/{name}.py", *argv, "--docs", str(document)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert re.search(pattern, finished.stdout), finished.stdout[-2000:]
    written = document.read_text()
    assert heading in written
    assert "ingest table" in written
    assert "router table" in written
    assert re.search(r"Machine: \d+ CPUs \(.+\), Python 3\.\d+", written)
