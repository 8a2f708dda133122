"""Judging a run: what went wrong against the situation's label and checks, and each run's seed.

Shared by the test suite (`test_situations`) and the benchmark (`bench/situations.py`), so both judge alike.
"""

from __future__ import annotations

import zlib

from bots.host.tests.situations.model import Expect, RunRecord, Situation


def run_seed(situation: Situation, index: int) -> int:
    """The seed of run `index` of a situation: stable across test runs, different per situation."""
    return zlib.crc32(f"{situation.id}:{index}".encode())


def judge(situation: Situation, run: RunRecord) -> list[str]:
    """What went wrong in one run: the label, the situation's own checks, problems playing it."""
    failures = list(run.problems)
    if situation.expect == Expect.MUST_SPEAK and not run.spoke:
        failures.append("must speak, stayed silent")
    if situation.expect == Expect.MUST_STAY_SILENT and run.spoke:
        said = [m.content for m in run.ours()] + [r.emoji for r in run.our_reactions()]
        failures.append(f"must stay silent, said {said}")
    if situation.expect == Expect.NO_WORDS and run.said_words:
        failures.append(f"must say nothing in words, said {[m.content for m in run.ours()]}")
    if not run.problems:
        for check in situation.checks:
            failures.extend(check.failures(run))
    return failures
