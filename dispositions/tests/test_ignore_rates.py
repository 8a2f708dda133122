"""Each research persona's ignore rate, from its runs: in admin above the run list, and in the API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from dispositions.choices import ResearchPersona
from dispositions.models import SubagentRun
from dispositions.selectors import subagent_ignore_rates
from dispositions.tests.factories import SubagentRunFactory, make_decision

pytestmark = pytest.mark.django_db

RUNS = reverse("admin:dispositions_subagentrun_changelist")
RATES = reverse("subagent-run-ignore-rates")


@pytest.fixture
def runs(default_persona):
    """Comedian: 3 measured, 2 ignored, 1 failed; profiler: 1 measured, used; archeologist: not measured."""
    decision = make_decision(persona=default_persona, seed=1, guild_id="g-1")
    other = make_decision(persona=default_persona, seed=2, guild_id="g-2")
    comedian = ResearchPersona.COMEDIAN
    SubagentRunFactory.create(decision=decision, persona=comedian, uptake=0.0, ignored=True)
    SubagentRunFactory.create(decision=decision, persona=comedian, uptake=0.1, ignored=True)
    SubagentRunFactory.create(decision=decision, persona=comedian, uptake=0.8, ignored=False)
    SubagentRunFactory.create(decision=decision, persona=comedian, output_payload={}, error="timed out after 8 s")
    SubagentRunFactory.create(decision=other, persona=ResearchPersona.PARTICIPANT_PROFILER, uptake=0.5, ignored=False)
    SubagentRunFactory.create(decision=other, persona=ResearchPersona.MEMORY_ARCHEOLOGIST)


def window():
    now = timezone.now()
    return {"since": now - timedelta(days=1), "until": now + timedelta(seconds=1)}


def test_the_ignore_rate_is_the_share_of_measured_runs_the_reply_left_unused(runs):
    rates = {rate.persona: rate for rate in subagent_ignore_rates(**window())}

    comedian = rates[ResearchPersona.COMEDIAN]
    assert (comedian.runs, comedian.failed, comedian.measured, comedian.ignored) == (4, 1, 3, 2)
    assert comedian.ignore_rate == pytest.approx(2 / 3)
    assert comedian.mean_uptake == pytest.approx(0.3)
    assert rates[ResearchPersona.PARTICIPANT_PROFILER].ignore_rate == 0.0
    assert rates[ResearchPersona.MEMORY_ARCHEOLOGIST].ignore_rate is None


def test_the_ignore_rates_are_read_per_guild(runs):
    rates = subagent_ignore_rates(**window(), guild_id="g-2")
    assert sorted(rate.persona for rate in rates) == [
        ResearchPersona.MEMORY_ARCHEOLOGIST,
        ResearchPersona.PARTICIPANT_PROFILER,
    ]


def test_the_api_gives_each_personas_ignore_rate(member_client, runs):
    response = member_client.get(RATES)

    assert response.status_code == 200
    rows = {row["persona"]: row for row in response.json()["personas"]}
    assert rows[ResearchPersona.COMEDIAN]["ignore_rate"] == pytest.approx(2 / 3)
    assert rows[ResearchPersona.COMEDIAN]["failed"] == 1
    assert rows[ResearchPersona.MEMORY_ARCHEOLOGIST]["ignore_rate"] is None


def test_the_api_refuses_a_window_that_ends_before_it_starts(member_client, runs):
    response = member_client.get(RATES, {"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"})

    assert response.status_code == 400
    assert "since" in response.json()["error"]["fields"]


def test_the_run_list_shows_uptake_and_filters_on_ignored(member_client, runs):
    response = member_client.get(reverse("subagent-run-list"), {"ignored": "true"})

    assert response.status_code == 200
    assert {row["uptake"] for row in response.json()["results"]} == {0.0, 0.1}


def test_the_admin_run_list_shows_each_personas_ignore_rate_above_it(admin_client, runs):
    response = admin_client.get(RUNS)

    assert response.status_code == 200
    rates = {rate.persona: rate for rate in response.context["ignore_rates"]}
    assert rates[ResearchPersona.COMEDIAN].ignored == 2
    assert "Ignore rate per persona" in response.content.decode()
    assert "67%" in response.content.decode()


def test_the_admin_run_list_query_count_does_not_grow_with_runs(
    admin_client, default_persona, django_assert_num_queries
):
    decision = make_decision(persona=default_persona, seed=3)
    for _ in range(3):
        SubagentRunFactory.create(decision=decision, uptake=0.2, ignored=True)
    admin_client.get(RUNS)  # warm the session and content types
    with django_assert_num_queries(8):  # the same count for 3 runs and for 23
        admin_client.get(RUNS)
    for _ in range(20):
        SubagentRunFactory.create(decision=decision, uptake=0.2, ignored=True)
    with django_assert_num_queries(8):  # the same count for 3 runs and for 23
        response = admin_client.get(RUNS)
    assert len(response.context["cl"].result_list) == 23


def test_a_run_cannot_be_changed_in_admin(admin_client, runs):
    run = SubagentRun.objects.first()
    assert run is not None
    response = admin_client.post(reverse("admin:dispositions_subagentrun_change", args=[run.pk]), {"persona": "x"})
    assert response.status_code == 403


def test_a_window_with_an_offset_postgresql_refuses_is_read_in_utc(member_client, runs):
    response = member_client.get(RATES, {"since": "2026-01-01T00:00:00-22:52"})

    assert response.status_code == 200
    assert response.json()["since"].endswith("Z") or response.json()["since"].endswith("+00:00")
