"""Judging a run: what went wrong against the situation's label and checks, and each run's seed.

The router draws its choice, so a run can go against its label on a draw the router gave a very small
chance (a line of chatter answered at 1128:1 odds). Such a run is a long shot: it is counted as it went
(the report's TP/FN/TN/FP and failed runs include it, and name it), but the test does not fail on it,
since the judgement was right and the dice did what dice do. Only the label can be excused this way, only
when every decision against it was a long shot; the situation's own checks and the invariants never are.

Shared by the test suite (`test_situations`) and the benchmark (`bench/situations.py`), so both judge alike.
"""

from __future__ import annotations

import zlib

from bots.host.tests.situations.model import Expect, RunRecord, SeenDecision, Situation

# A choice the router gave less than this chance is variety, not judgement.
LONG_SHOT = 0.01


def run_seed(situation: Situation, index: int) -> int:
    """The seed of run `index` of a situation: stable across test runs, different per situation."""
    return zlib.crc32(f"{situation.id}:{index}".encode())


def label_failure(situation: Situation, run: RunRecord) -> str | None:
    """How the run went against its label, or None when it did not."""
    if situation.expect == Expect.MUST_SPEAK and not run.spoke:
        return "must speak, stayed silent"
    if situation.expect == Expect.MUST_STAY_SILENT and run.spoke:
        said = [m.content for m in run.ours()] + [r.emoji for r in run.our_reactions()]
        return f"must stay silent, said {said}"
    if situation.expect == Expect.NO_WORDS and run.said_words:
        return f"must say nothing in words, said {[m.content for m in run.ours()]}"
    return None


def judge(situation: Situation, run: RunRecord) -> list[str]:
    """What went wrong in one run: the label, the situation's own checks, problems playing it."""
    failures = list(run.problems)
    label = label_failure(situation, run)
    if label is not None:
        failures.append(label)
    if not run.problems:
        for check in situation.checks:
            failures.extend(check.failures(run))
    return failures


def long_shots(situation: Situation, run: RunRecord, failures: list[str]) -> list[SeenDecision]:
    """The decisions that explain a run failing only its label on draws under LONG_SHOT, or [] when none do.

    Empty unless the label is the run's one failure and every scripted decision against it (speaking where
    it must stay silent, silence where it must speak) was chosen at a chance under LONG_SHOT.
    """
    label = label_failure(situation, run)
    if label is None or failures != [label]:
        return []
    turns = run.scripted_turns()
    if situation.expect == Expect.MUST_SPEAK:
        against = [d for d in turns if d.output_shape == "silent"]
        return [d for d in against if d.probability < LONG_SHOT]
    against = [d for d in turns if d.output_shape != "silent"]
    if not against or any(d.probability >= LONG_SHOT for d in against):
        return []
    return against
