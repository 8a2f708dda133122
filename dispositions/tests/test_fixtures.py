from __future__ import annotations

from dataclasses import replace

import pytest
from django.core.management import call_command

from dispositions.defaults import default_routing
from dispositions.models import Disposition, Persona, PersonaDispositionWeight
from dispositions.selectors import load_routing_candidates

# Seed 002, "Canonical seeded dispositions": reasoning / strategy / voice / shape / posture / risk,
# then follow-up (probability, bias) and speculative-only. callback-from-memory's "single-line or
# multi-line" is stored as multi-line.
CANONICAL = {
    "silent-listen": ("low", "none", "indifferent", "silent", "none", "safe", None, False),
    "vibing": ("low", "narrow-live", "present-reaction", "react-only", "none", "safe", (0.05, "go-deeper"), False),
    "quick-react": ("low", "live", "playful", "single-line", "none", "safe", (0.10, "go-deeper"), False),
    "roast-back": ("medium", "archive-person-deep", "sharp", "single-line", "person-deep", "spicy", None, False),
    "factual-recall": ("low", "live+lore", "deadpan", "single-line", "none", "safe", None, False),
    "callback-from-memory": (
        "high",
        "callback-primed",
        "nostalgic",
        "multi-line",
        "callback-hunt",
        "safe",
        None,
        False,
    ),
    "settle-debate": (
        "high",
        "contrasting",
        "sincere",
        "burst",
        "contradiction-hunt",
        "safe",
        (0.30, "add-nuance"),
        False,
    ),
    "contrarian-take": (
        "high",
        "cross-channel-similar",
        "contrarian",
        "multi-line",
        "contradiction-hunt",
        "spicy",
        None,
        False,
    ),
    "late-night-musing": (
        "high",
        "serendipity",
        "observational",
        "burst",
        "broad-scan",
        "safe",
        (0.40, "add-nuance"),
        True,
    ),
    "observation-drop": ("medium", "bot-history", "observational", "single-line", "broad-scan", "safe", None, True),
}

# Seed 002, "Research personas": roast-back fires comedian + profiler, callback-from-memory fires
# archeologist + profiler, vibing fires nothing; low/live dispositions do not fan out.
FANOUT = {
    "silent-listen": [],
    "vibing": [],
    "quick-react": [],
    "factual-recall": [],
    "roast-back": ["comedian", "participant-profiler"],
    "callback-from-memory": ["memory-archeologist", "participant-profiler"],
}


@pytest.fixture
def loaded(db):
    call_command("loaddata", "default_persona", verbosity=0)


def test_loaddata_gives_the_ten_canonical_dispositions_with_seed_dimensions(loaded):
    rows = {d.slug: d for d in Disposition.objects.all()}

    assert set(rows) == set(CANONICAL)
    for slug, (depth, strategy, voice, shape, posture, risk, followup, speculative) in CANONICAL.items():
        row = rows[slug]
        assert (
            row.reasoning_depth,
            row.context_strategy,
            row.voice,
            row.output_shape,
            row.search_posture,
            row.risk_appetite,
            row.speculative_only,
            row.enabled,
        ) == (depth, strategy, voice, shape, posture, risk, speculative, True), slug
        if followup is None:
            assert (row.followup_bias, row.followup_probability) == ("", 0.0), slug
        else:
            assert (row.followup_probability, row.followup_bias) == followup, slug
            low, high = row.followup_window_min_seconds, row.followup_window_max_seconds
            assert low is not None, slug
            assert high is not None, slug
            assert 0 < low <= high, slug
        row.full_clean()


def test_loaddata_gives_fanout_plans_from_the_research_personas(loaded):
    plans = dict(Disposition.objects.values_list("slug", "fanout_plan"))

    for slug, plan in FANOUT.items():
        assert plans[slug] == plan, slug
    assert all(plans[slug] for slug in ("settle-debate", "contrarian-take", "late-night-musing", "observation-drop"))
    assert "contrarian" in plans["contrarian-take"]


def test_go_deeper_windows_are_minutes_and_add_nuance_windows_are_longer(loaded):
    windows = {
        d.slug: (d.followup_window_min_seconds, d.followup_window_max_seconds)
        for d in Disposition.objects.exclude(followup_bias="")
    }

    assert windows["vibing"] == windows["quick-react"] == (30, 120)
    assert windows["settle-debate"] == windows["late-night-musing"] == (60, 300)


def test_loaddata_gives_the_dit_persona_with_a_weight_for_every_disposition(loaded):
    persona = Persona.objects.get()

    assert persona.name == "Dit"
    assert persona.wake_words == ["dit"]
    assert persona.soul_text
    assert persona.banned_phrases
    assert persona.never_do
    weights = dict(PersonaDispositionWeight.objects.filter(persona=persona).values_list("disposition__slug", "weight"))
    assert set(weights) == set(CANONICAL)
    assert all(weight > 0 for weight in weights.values())
    persona.full_clean()


def test_loading_the_fixture_twice_updates_in_place(loaded):
    call_command("loaddata", "default_persona", verbosity=0)

    assert Persona.objects.count() == 1
    assert Disposition.objects.count() == 10
    assert PersonaDispositionWeight.objects.count() == 10


def test_the_database_free_default_specs_match_what_loaddata_installs(loaded):
    persona, specs = load_routing_candidates(Persona.objects.get().pk)
    pure_persona, pure_specs = default_routing()

    assert [replace(spec, id=None) for spec in specs] == [replace(spec, id=None) for spec in pure_specs]
    assert dict(persona.weights) == dict(pure_persona.weights)
    assert (persona.eligible_voices, persona.wake_words) == (pure_persona.eligible_voices, pure_persona.wake_words)
