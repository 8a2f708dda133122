"""The suite's report: per category, how often the bot spoke when it should have and kept quiet when it should have
(balanced accuracy over the labelled runs), and every invariant broken, printed at the end of the test run.

The tuning part and the held-back part (`catalog/held_back`, never tuned on) are tallied and printed apart, each
with its own balanced accuracy; a NO_WORDS situation counts as one where the bot must keep quiet in words.

Results are kept on the pytest config (`SUITE`); `pytest_terminal_summary` (wired in `bots/tests/conftest.py`)
prints the table whenever any situation ran, so it shows in the normal test command's output.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from bots.host.tests.situations.invariants import Broken
from bots.host.tests.situations.model import Category, Expect, RunRecord


@dataclass
class CategoryTally:
    """Counts of one category: confusion counts over labelled runs, runs either way, what broke."""

    situations: set[str] = field(default_factory=set)
    runs: int = 0
    tp: int = 0
    fn: int = 0
    tn: int = 0
    fp: int = 0
    either_spoke: int = 0
    either_runs: int = 0
    failed_checks: int = 0
    failures: list[str] = field(default_factory=list)
    broken: list[Broken] = field(default_factory=list)

    def add(self, run: RunRecord, *, failures: Sequence[str], broken: Iterable[Broken]) -> None:
        """Count one run."""
        self.situations.add(run.situation)
        self.runs += 1
        spoke = run.spoke_as_judged
        if run.expect == Expect.MUST_SPEAK:
            self.tp += spoke
            self.fn += not spoke
        elif run.expect in (Expect.MUST_STAY_SILENT, Expect.NO_WORDS):
            self.fp += spoke
            self.tn += not spoke
        else:
            self.either_runs += 1
            self.either_spoke += spoke
        self.failed_checks += bool(failures)
        self.failures.extend(f"{run.situation} (seed {run.seed}): {failure}" for failure in failures)
        self.broken.extend(broken)

    @property
    def speak_rate(self) -> float | None:
        """Spoke when it should have (true positive rate)."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def quiet_rate(self) -> float | None:
        """Kept quiet when it should have (true negative rate)."""
        return self.tn / (self.tn + self.fp) if self.tn + self.fp else None

    @property
    def balanced_accuracy(self) -> float | None:
        """The mean of the two rates that have labelled runs."""
        rates = [rate for rate in (self.speak_rate, self.quiet_rate) if rate is not None]
        return sum(rates) / len(rates) if rates else None


def merged(tallies: Iterable[CategoryTally]) -> CategoryTally:
    """One tally adding up several."""
    total = CategoryTally()
    for tally in tallies:
        total.situations |= tally.situations
        for name in ("runs", "tp", "fn", "tn", "fp", "either_spoke", "either_runs", "failed_checks"):
            setattr(total, name, getattr(total, name) + getattr(tally, name))
        total.failures.extend(tally.failures)
        total.broken.extend(tally.broken)
    return total


PARTS = ("tuning", "held-back")


def part_of(run: RunRecord) -> str:
    """The part of the suite a run belongs to."""
    return PARTS[1] if run.held_back else PARTS[0]


@dataclass
class SuiteReport:
    """Every run of the suite, tallied per part (tuning, held-back) and category."""

    tallies: dict[tuple[str, Category], CategoryTally] = field(default_factory=dict)

    def add(self, run: RunRecord, *, failures: Sequence[str], broken: Iterable[Broken]) -> None:
        """Count one run of a situation with what went wrong in it."""
        key = (part_of(run), run.category)
        self.tallies.setdefault(key, CategoryTally()).add(run, failures=failures, broken=broken)

    def part(self, part: str) -> dict[Category, CategoryTally]:
        """The tallies of one part, by category."""
        return {category: tally for (name, category), tally in self.tallies.items() if name == part}

    def lines(self) -> list[str]:
        """The report as text lines: one table per part, then both parts' totals."""
        header = (
            f"{'category':<26}{'situations':>11}{'runs':>6}{'TP':>5}{'FN':>5}{'TN':>5}{'FP':>5}"
            f"{'spoke ok':>10}{'quiet ok':>10}{'bal.acc':>9}{'either':>9}{'failed':>8}{'broken':>8}"
        )
        lines: list[str] = []
        totals: dict[str, CategoryTally] = {}
        for part in PARTS:
            tallies = self.part(part)
            if not tallies:
                continue
            lines += [f"{part} part", header, "-" * len(header)]
            for category in Category:
                if category in tallies:
                    lines.append(_row(category.value, tallies[category]))
            totals[part] = merged(tallies.values())
            lines += ["-" * len(header), _row("all", totals[part]), ""]
        total = merged(totals.values())
        for part, tally in totals.items():
            lines.append(f"balanced accuracy, {part} part: {_percent(tally.balanced_accuracy)} ({tally.runs} runs)")
        lines.append("")
        lines.append(
            "spoke ok = TP/(TP+FN) over must-speak runs; quiet ok = TN/(TN+FP) over must-stay-silent runs (and "
            "no-words runs, where only words count as speaking); either = runs that spoke / may-either runs; "
            "failed = runs failing their label or their own checks."
        )
        if total.failures:
            lines.append(f"Runs not behaving as labelled or failing their checks ({total.failed_checks}):")
            lines.extend(f"  - {failure}" for failure in total.failures)
        if total.broken:
            lines.append(f"Broken invariants ({len(total.broken)}):")
            lines.extend(f"  - {broken}" for broken in total.broken)
        else:
            lines.append(
                "Broken invariants: none (no visible silence text, no DM leak, no double reply, "
                "no bot loop past the cap)."
            )
        return lines


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def _row(name: str, tally: CategoryTally) -> str:
    either = f"{tally.either_spoke}/{tally.either_runs}" if tally.either_runs else "-"
    return (
        f"{name:<26}{len(tally.situations):>11}{tally.runs:>6}{tally.tp:>5}{tally.fn:>5}{tally.tn:>5}{tally.fp:>5}"
        f"{_percent(tally.speak_rate):>10}{_percent(tally.quiet_rate):>10}{_percent(tally.balanced_accuracy):>9}"
        f"{either:>9}{tally.failed_checks:>8}{len(tally.broken):>8}"
    )


SUITE = pytest.StashKey[SuiteReport]()


def suite_report(config: pytest.Config) -> SuiteReport:
    """The report of this test run, created on first use."""
    return config.stash.setdefault(SUITE, SuiteReport())


def print_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Print the situation report at the end of the test run, when any situation ran."""
    report = config.stash.get(SUITE, None)
    if report is None or not report.tallies:
        return
    terminalreporter.write_sep("=", "group-chat situations")
    for line in report.lines():
        terminalreporter.write_line(line)
