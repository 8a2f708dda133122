"""The group-chat situation suite: every labelled situation, played through the real host and the real discord.py
client against the local Discord and the local model server, once per seed.

Each situation must behave as labelled in every run (must speak, must stay silent, say no words, or either) and
pass its own checks; every run must keep the invariants. A run that went against its label only on router draws
under 1% (a long shot, see `situations/judging.py`) is counted and named in the report, and does not fail.
The per-category report (balanced accuracy of each part, broken invariants) is printed at the end of the test
run (see `bots.host.tests.situations.report`). With DIT_SITUATION_MOMENTS=1 a failing run also prints what the
router saw for each of its decisions.

The test suite plays each situation with a few seeds (`Situation.seeds`) to stay fast; `bench/situations.py`
plays every situation with twenty or more through the same stack.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.core.management import call_command

from bots.host.tests.situations.catalog import CATALOG, COUNTS
from bots.host.tests.situations.driver import play
from bots.host.tests.situations.invariants import check_invariants
from bots.host.tests.situations.judging import judge, long_shots, run_seed
from bots.host.tests.situations.model import (
    JUDGEMENT_CLASSES,
    Category,
    Expect,
    RunRecord,
    SeenDecision,
    SeenMessage,
    Situation,
)
from bots.host.tests.situations.model_server import SituationModelServer
from bots.host.tests.situations.report import suite_report
from dispositions.models import Persona, PersonaDispositionWeight
from tests.servers.openai_server import gateway_on

pytestmark = pytest.mark.integration

HELD_BACK_DIR = Path(__file__).parent / "situations" / "catalog" / "held_back"
# The held-back part as it was written, before any tuning: a change to it fails the suite.
HELD_BACK_DIGEST = "6b80266db729cd324eaa55287380b64b06cf22bdce1d8cd1539a7bd866f39530"


@pytest.fixture(scope="module")
def situation_model() -> Iterator[SituationModelServer]:
    """One local model server for the whole suite; each run configures it afresh."""
    server = SituationModelServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def model_gateway(situation_model: SituationModelServer, settings: Any) -> Iterator[SituationModelServer]:
    """The suite's model server as the gateway's provider, with gateway Redis keys of this test's own."""
    with gateway_on(situation_model.base_url, settings):
        yield situation_model


@pytest.fixture
def shipped_persona(host_db) -> Callable[[dict[str, float]], Awaitable[int]]:
    """The persona the project ships (`loaddata default_persona`); a situation may override its weights."""

    def load(weights: dict[str, float]) -> int:
        call_command("loaddata", "default_persona", verbosity=0)
        persona = Persona.objects.get(name="Dit")
        for slug, weight in weights.items():
            updated = PersonaDispositionWeight.objects.filter(persona=persona, disposition__slug=slug).update(
                weight=weight
            )
            assert updated == 1, f"the shipped persona has no disposition {slug!r}"
        return persona.pk

    async def build(weights: dict[str, float]) -> int:
        return await sync_to_async(load)(weights)

    return build


def test_the_catalog_holds_eight_situations_or_more_for_every_class_covering_every_point_of_both_issues():
    assert sum(COUNTS.values()) >= 60
    assert all(COUNTS[category] >= 8 for category in JUDGEMENT_CLASSES)
    assert set(COUNTS) == set(Category)
    labelled = {(s.category, s.expect) for s in CATALOG}
    for category in Category:
        assert {
            (category, Expect.MUST_SPEAK),
            (category, Expect.MUST_STAY_SILENT),
            (category, Expect.NO_WORDS),
        } & labelled


def test_the_held_back_part_is_unchanged_since_it_was_written():
    digest = hashlib.sha256()
    for path in sorted(HELD_BACK_DIR.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    assert digest.hexdigest() == HELD_BACK_DIGEST


def test_the_two_parts_are_apart_and_both_cover_every_class_of_the_judgement_issue():
    tuning = {s.id for s in CATALOG if not s.held_back}
    held_back = {s.id for s in CATALOG if s.held_back}
    assert tuning
    assert held_back
    assert not tuning & held_back
    for part in (False, True):
        covered = {s.category for s in CATALOG if s.held_back is part}
        assert set(JUDGEMENT_CLASSES) <= covered


def _quiet_run(*choices: tuple[str, float], check_failed: bool = False) -> tuple[Situation, RunRecord, list[str]]:
    """A must-stay-silent run whose scripted decisions chose (shape, probability); the bot said one line."""
    situation = Situation(
        id="chatter", category=Category.AMBIENT, description="", expect=Expect.MUST_STAY_SILENT, script=()
    )
    run = RunRecord(
        situation="chatter", category=Category.AMBIENT, seed=1, expect=Expect.MUST_STAY_SILENT, bot_ids=(1,)
    )
    run.messages.append(SeenMessage("m1", "general", "sol", "u-sol", True, "my take", None, True, False, True))
    for index, (shape, probability) in enumerate(choices):
        run.decisions.append(
            SeenDecision(
                index,
                1,
                f"in-{index}",
                "reactive",
                shape,
                shape,
                7,
                "",
                (),
                False,
                "none",
                "",
                "",
                True,
                probability=probability,
            )
        )
    failures = judge(situation, run) + (["a check failed"] if check_failed else [])
    return situation, run, failures


def test_a_run_against_its_label_is_excused_only_when_every_decision_against_it_was_a_long_shot():
    assert long_shots(*_quiet_run(("silent", 0.99), ("single-line", 0.003)))
    # A likely choice against the label is judgement, not dice; a failed check or an unlabelled run is never excused.
    assert not long_shots(*_quiet_run(("silent", 0.99), ("single-line", 0.3)))
    assert not long_shots(*_quiet_run(("single-line", 0.003), ("single-line", 0.2)))
    assert not long_shots(*_quiet_run(("silent", 0.99), ("single-line", 0.003), check_failed=True))
    assert not long_shots(*_quiet_run(("silent", 0.99)))  # the bot's line came from no decision: not excused


@pytest.mark.parametrize("situation", CATALOG, ids=[s.id for s in CATALOG])
async def test_each_situation_behaves_as_labelled_and_keeps_every_invariant(
    situation: Situation, shipped_persona, model_gateway, host_redis, host_redis_prefix, request
):
    persona_id = await shipped_persona(dict(situation.weights))
    report = suite_report(request.config)
    problems: list[str] = []
    for index in range(situation.seeds):
        seed = run_seed(situation, index)
        run = await play(
            situation,
            seed=seed,
            persona_id=persona_id,
            server=model_gateway,
            redis=host_redis,
            redis_prefix=f"{host_redis_prefix}:{index}",
        )
        failures = judge(situation, run)
        broken = check_invariants(run)
        shots = [] if broken else long_shots(situation, run, failures)
        if shots:
            # Counted and named in the report as it went; the router's judgement was right (see judging.py).
            odds = ", ".join(f"decision {d.id} chose {d.chosen_slug} at {d.probability:.2%}" for d in shots)
            report.add(run, failures=[f"{failures[0]} (a long shot: {odds})"], broken=broken)
            continue
        report.add(run, failures=failures, broken=broken)
        if failures or broken:
            # The router seeds of the run's decisions: each one replays from its decision row.
            seeds = [d.seed for d in run.decisions]
            problems.append(f"seed {seed}: decisions {[d.chosen_slug for d in run.decisions]}, router seeds {seeds}")
            if os.environ.get("DIT_SITUATION_MOMENTS"):
                problems.extend(f"  {d.chosen_slug} saw {d.moment}" for d in run.decisions)
        problems.extend(f"seed {seed}: {failure}" for failure in failures)
        problems.extend(f"seed {seed}: invariant {b.invariant}: {b.detail}" for b in broken)
    assert not problems, f"{situation.id} ({situation.description}):\n" + "\n".join(problems)
