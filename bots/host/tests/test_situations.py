"""The group-chat situation suite: every labelled situation, played through the real host and the real discord.py
client against the local Discord and the local model server, once per seed.

Each situation must behave as labelled in every run (must speak, must stay silent, or either) and pass its own
checks; every run must keep the invariants. The per-category report (balanced accuracy, broken invariants) is
printed at the end of the test run (see `bots.host.tests.situations.report`).
"""

from __future__ import annotations

import zlib
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.core.management import call_command

from bots.host.tests.situations.catalog import CATALOG, COUNTS
from bots.host.tests.situations.driver import play
from bots.host.tests.situations.invariants import check_invariants
from bots.host.tests.situations.model import Category, Expect, RunRecord, Situation
from bots.host.tests.situations.model_server import SituationModelServer
from bots.host.tests.situations.report import suite_report
from dispositions.models import Persona, PersonaDispositionWeight
from tests.servers.openai_server import gateway_on

pytestmark = pytest.mark.integration


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


def run_seed(situation: Situation, index: int) -> int:
    """The seed of run `index` of a situation: stable across test runs, different per situation."""
    return zlib.crc32(f"{situation.id}:{index}".encode())


def test_the_catalog_holds_sixty_situations_or_more_covering_every_point_of_the_issue():
    assert sum(COUNTS.values()) >= 60
    assert set(COUNTS) == set(Category)
    labelled = {(s.category, s.expect) for s in CATALOG}
    for category in Category:
        assert (category, Expect.MUST_SPEAK) in labelled or (category, Expect.MUST_STAY_SILENT) in labelled


def judge(situation: Situation, run: RunRecord) -> list[str]:
    """What went wrong in one run: the label, the situation's own checks, problems playing it."""
    failures = list(run.problems)
    if situation.expect == Expect.MUST_SPEAK and not run.spoke:
        failures.append("must speak, stayed silent")
    if situation.expect == Expect.MUST_STAY_SILENT and run.spoke:
        said = [m.content for m in run.ours()] + [r.emoji for r in run.our_reactions()]
        failures.append(f"must stay silent, said {said}")
    if not run.problems:
        for check in situation.checks:
            failures.extend(check.failures(run))
    return failures


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
        report.add(run, failures=failures, broken=broken)
        if failures or broken:
            # The router seeds of the run's decisions: each one replays from its decision row.
            seeds = [d.seed for d in run.decisions]
            problems.append(f"seed {seed}: decisions {[d.chosen_slug for d in run.decisions]}, router seeds {seeds}")
        problems.extend(f"seed {seed}: {failure}" for failure in failures)
        problems.extend(f"seed {seed}: invariant {b.invariant}: {b.detail}" for b in broken)
    assert not problems, f"{situation.id} ({situation.description}):\n" + "\n".join(problems)
