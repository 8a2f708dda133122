from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from dispositions.choices import LIVE_WINDOW_STRATEGIES
from dispositions.defaults import default_routing
from dispositions.router import aroute_turn, build_tiebreak_prompt, estimate_cost, route_turn, score_candidates
from dispositions.specs import (
    SILENT_LISTEN,
    DispositionSpec,
    FollowupHint,
    Moment,
    PersonaSpec,
    RouterConfig,
    RouterInputs,
    TieBreak,
)

PERSONA, SPECS = default_routing()
BY_SLUG = {spec.slug: spec for spec in SPECS}
CONFIG = RouterConfig()
SEEDS = range(1500)
# A regular the bot knows: teasing dispositions are candidates for them.
KNOWN: dict[str, Any] = {"sender_messages_seen": 50, "sender_first_seen_seconds": 30 * 86400.0}


def chosen_over_seeds(context, *, persona=PERSONA, specs=SPECS, config=CONFIG, seeds=SEEDS) -> Counter[str]:
    return Counter(route_turn(context, persona, specs, config, seed=seed).chosen.slug for seed in seeds)


def scores(context, *, persona=PERSONA, specs=SPECS, config=CONFIG):
    return {row.slug: row for row in score_candidates(context, persona, specs, config).scores}


def test_a_mention_removes_silent_listen_from_the_candidates():
    context = Moment(message_text="@dit hi", addressed=True, address_kind="mention")

    rows = scores(context)

    assert rows[SILENT_LISTEN].eliminated_by == "addressed: silence not allowed"
    assert rows[SILENT_LISTEN].score == 0
    assert SILENT_LISTEN not in chosen_over_seeds(context)


@pytest.mark.parametrize("kind", ["reply", "name"])
def test_a_reply_or_a_call_by_name_also_removes_silence(kind):
    context = Moment(message_text="dit?", addressed=True, address_kind=kind)

    assert scores(context)[SILENT_LISTEN].eliminated_by is not None


def test_a_direct_message_is_always_answered():
    context = Moment(message_text="hey", is_dm=True)

    assert scores(context)[SILENT_LISTEN].eliminated_by == "addressed: silence not allowed"


def test_an_unprompted_turn_into_a_busy_channel_is_mostly_listened_to():
    busy = Moment(trigger="speculative", lull_seconds=30, activity_per_minute=6)
    quiet = replace(busy, lull_seconds=3 * 3600, activity_per_minute=0)

    busy_silence = chosen_over_seeds(busy)[SILENT_LISTEN] / len(SEEDS)
    quiet_silence = chosen_over_seeds(quiet)[SILENT_LISTEN] / len(SEEDS)

    assert busy_silence > 0.5
    assert quiet_silence < busy_silence / 2


def test_a_message_in_the_bots_thread_may_still_be_listened_to():
    context = Moment(message_text="lol", addressed=True, address_kind="thread")

    row = scores(context)[SILENT_LISTEN]

    assert row.eliminated_by is None
    assert any("thread" in reason for reason in row.reasons)


def test_sleep_forces_silent_listen_on_anything_but_a_mention():
    for context in (
        Moment(message_text="anyone up?", question_detected=True, asleep=True),
        Moment(trigger="speculative", lull_seconds=4 * 3600, asleep=True),
    ):
        result = route_turn(context, PERSONA, SPECS, CONFIG, seed=3)

        assert result.chosen.slug == SILENT_LISTEN
        assert result.gates[0] == "asleep: only silent-listen"
        assert all(row.score == 0 for row in result.scores if row.slug != SILENT_LISTEN)


def test_a_mention_in_quiet_hours_gets_a_short_sleepy_line_or_silence():
    context = Moment(message_text="@dit wake up", addressed=True, address_kind="mention", asleep=True)

    chosen = chosen_over_seeds(context)

    assert chosen[SILENT_LISTEN] > 0
    assert {BY_SLUG[slug].output_shape for slug in chosen} <= {"silent", "single-line"}
    assert {BY_SLUG[slug].reasoning_depth for slug in chosen if slug != SILENT_LISTEN} == {"low"}
    assert "quiet hours: a short sleepy line or nothing" in route_turn(context, PERSONA, SPECS, CONFIG, seed=1).gates


def test_a_message_said_to_someone_else_is_listened_to_over_every_seed():
    context = Moment(message_text="@bob did you see that?", question_detected=True, said_to_someone_else=True)

    chosen = chosen_over_seeds(context)

    assert chosen == {SILENT_LISTEN: len(SEEDS)}
    assert route_turn(context, PERSONA, SPECS, CONFIG, seed=1).gates[0] == "said to someone else: not the bot's turn"


def test_a_sender_over_the_threat_threshold_is_not_engaged():
    context = Moment(message_text="@dit you are trash", addressed=True, address_kind="mention", sender_threat_score=0.9)

    assert set(chosen_over_seeds(context, seeds=range(200))) == {SILENT_LISTEN}
    assert "not engaged" in route_turn(context, PERSONA, SPECS, CONFIG, seed=1).gates[0]


def test_a_sender_just_under_the_threshold_is_engaged():
    context = Moment(message_text="@dit hm", addressed=True, address_kind="mention", sender_threat_score=0.69)

    assert SILENT_LISTEN not in chosen_over_seeds(context, seeds=range(200))


def test_a_bot_message_starts_no_chain_unless_bot_chains_are_allowed():
    blocked = Moment(message_text="beep", addressed=True, address_kind="mention", sender_is_bot=True)
    allowed = replace(blocked, bot_chain_allowed=True)

    assert set(chosen_over_seeds(blocked, seeds=range(200))) == {SILENT_LISTEN}
    assert SILENT_LISTEN not in chosen_over_seeds(allowed, seeds=range(200))


@pytest.mark.parametrize("trigger", ["reactive", "self_followup"])
def test_speculative_only_dispositions_are_removed_outside_speculative_triggers(trigger):
    context = Moment(trigger=trigger, followup_bias="add-nuance" if trigger == "self_followup" else None)

    rows = scores(context)

    for slug in ("late-night-musing", "observation-drop"):
        assert rows[slug].eliminated_by == f"speculative-only on a {trigger} trigger"


def test_speculative_only_dispositions_stay_on_a_speculative_trigger():
    rows = scores(Moment(trigger="speculative", lull_seconds=3600))

    assert rows["late-night-musing"].eliminated_by is None
    assert rows["late-night-musing"].score > 0


@pytest.mark.parametrize("trigger", ["speculative", "self_followup"])
def test_a_muted_channel_forces_silence_on_unprompted_triggers(trigger):
    context = Moment(trigger=trigger, unprompted_muted=True, lull_seconds=3600, followup_bias="go-deeper")

    assert set(chosen_over_seeds(context, seeds=range(300))) == {SILENT_LISTEN}


def test_a_muted_channel_still_answers_a_mention():
    context = Moment(message_text="@dit", addressed=True, address_kind="mention", unprompted_muted=True)

    assert SILENT_LISTEN not in chosen_over_seeds(context, seeds=range(200))


def test_an_ineligible_voice_is_removed_but_silent_listen_never_is():
    persona = replace(PERSONA, eligible_voices=frozenset({"deadpan"}))

    rows = scores(Moment(message_text="hm"), persona=persona)

    assert rows["roast-back"].eliminated_by == "persona: voice sharp not eligible"
    assert rows["factual-recall"].eliminated_by is None
    assert rows[SILENT_LISTEN].eliminated_by is None


def test_persona_weight_multiplies_the_score_and_zero_removes_the_disposition():
    context = Moment(message_text="hm")
    base = scores(context, persona=PERSONA.with_weights({"quick-react": 1.0}))["quick-react"].score

    doubled = scores(context, persona=PERSONA.with_weights({"quick-react": 2.0}))["quick-react"]
    zero = scores(context, persona=PERSONA.with_weights({"quick-react": 0.0}))["quick-react"]

    assert doubled.score == pytest.approx(2 * base)
    assert "persona weight x2.00" in doubled.reasons
    assert zero.eliminated_by == "persona weight 0"


def test_cost_grows_with_reasoning_fanout_and_shape_and_silence_is_free():
    assert estimate_cost(BY_SLUG[SILENT_LISTEN]) == 0
    assert estimate_cost(BY_SLUG["vibing"]) < estimate_cost(BY_SLUG["quick-react"])
    assert estimate_cost(BY_SLUG["quick-react"]) < estimate_cost(BY_SLUG["roast-back"])
    assert estimate_cost(BY_SLUG["roast-back"]) < estimate_cost(BY_SLUG["settle-debate"])


def test_an_exhausted_budget_leaves_only_cheap_or_silent_dispositions():
    context = Moment(message_text="@dit explain", addressed=True, address_kind="mention", budget_remaining=0.0)

    rows = scores(context)
    chosen = chosen_over_seeds(context, seeds=range(500))

    live = {slug for slug, row in rows.items() if row.eliminated_by is None}
    assert live == {"vibing", "quick-react", "factual-recall"}
    assert set(chosen) <= live
    assert rows["callback-from-memory"].eliminated_by.startswith("budget exhausted")


def test_a_low_budget_clamps_expensive_dispositions_harder_than_cheap_ones():
    context = Moment(message_text="@dit", addressed=True, address_kind="mention", **KNOWN)
    full = scores(context)
    low = scores(replace(context, budget_remaining=0.1))

    assert low["quick-react"].score == full["quick-react"].score
    roast = low["roast-back"].score / full["roast-back"].score
    debate = low["settle-debate"].score / full["settle-debate"].score
    assert 0 < debate < roast < 1
    assert any("clamped" in reason for reason in low["settle-debate"].reasons)


def test_a_question_to_the_bot_boosts_factual_recall_and_one_left_to_the_room_boosts_it_more():
    addressed: dict[str, Any] = {"addressed": True, "address_kind": "mention"}
    plain = scores(Moment(message_text="nice", **addressed))["factual-recall"].score
    asked = scores(Moment(message_text="when?", question_detected=True, **addressed))["factual-recall"].score
    repeated = scores(Moment(message_text="when?", question_detected=True, unanswered_questions=1, **addressed))

    assert plain < asked < repeated["factual-recall"].score
    assert any("a question left to the room" in reason for reason in repeated["factual-recall"].reasons)
    assert repeated["factual-recall"].score > repeated["quick-react"].score


def test_callback_material_boosts_callback_from_memory_above_the_rest():
    context = Moment(message_text="remember the boat", addressed=True, address_kind="name", callback_material=0.9)

    rows = scores(context)

    best = max(rows.values(), key=lambda row: row.score)
    assert best.slug == "callback-from-memory"
    assert any("callback material" in reason for reason in best.reasons)


def test_a_heated_disagreement_boosts_settle_debate_and_cools_spicy_takes():
    calm = scores(Moment(message_text="no", addressed=True, address_kind="name", **KNOWN))
    heated = scores(Moment(message_text="no", addressed=True, address_kind="name", heated_disagreement=True, **KNOWN))

    assert heated["settle-debate"].score > 3 * calm["settle-debate"].score
    assert max(heated.values(), key=lambda row: row.score).slug == "settle-debate"
    assert "heated: spicy cooled x0.50" in heated["roast-back"].reasons


@pytest.mark.parametrize(
    ("bias", "favoured"),
    [
        ("go-deeper", {"callback-from-memory", "settle-debate", "contrarian-take"}),
        ("contrarian-self", {"contrarian-take"}),
        ("self-correct", {"factual-recall"}),
        ("add-nuance", {"settle-debate"}),
        ("callback-later", {"callback-from-memory"}),
    ],
)
def test_a_self_followup_bias_tilts_towards_its_dispositions(bias, favoured):
    context = Moment(trigger="self_followup", followup_bias=bias)
    neutral = chosen_over_seeds(Moment(trigger="self_followup"), seeds=range(1000))

    biased = chosen_over_seeds(context, seeds=range(1000))

    assert sum(biased[slug] for slug in favoured) > sum(neutral[slug] for slug in favoured)
    speaking = [slug for slug, _ in biased.most_common() if slug != SILENT_LISTEN]
    assert speaking[0] in favoured


def test_the_same_seed_replays_the_same_choice_and_seeds_vary_the_choice():
    context = Moment(message_text="hm", addressed=True, address_kind="mention")

    first = [route_turn(context, PERSONA, SPECS, CONFIG, seed=seed).chosen.slug for seed in range(200)]
    again = [route_turn(context, PERSONA, SPECS, CONFIG, seed=seed).chosen.slug for seed in range(200)]

    assert first == again
    assert len(set(first)) > 3


def test_a_low_temperature_concentrates_choices_on_the_top_score():
    context = Moment(message_text="when?", question_detected=True, unanswered_questions=2)
    cold = replace(CONFIG, temperature=0.1)

    warm_share = chosen_over_seeds(context)["factual-recall"] / len(SEEDS)
    cold_share = chosen_over_seeds(context, config=cold)["factual-recall"] / len(SEEDS)

    assert cold_share > 0.95
    assert warm_share < cold_share


def test_a_very_cold_temperature_picks_the_top_score_without_overflowing():
    context = Moment(message_text="remember?", addressed=True, address_kind="name", callback_material=1.0)
    persona = PERSONA.with_weights({"callback-from-memory": 500.0})

    result = route_turn(context, persona, SPECS, replace(CONFIG, temperature=0.001), seed=5)

    assert result.chosen.slug == "callback-from-memory"
    assert result.score_for("callback-from-memory").probability == 1.0


def test_probabilities_sum_to_one_and_match_observed_frequencies():
    context = Moment(message_text="hm")
    result = route_turn(context, PERSONA, SPECS, CONFIG, seed=0)
    counts = chosen_over_seeds(context, seeds=range(4000))

    assert sum(row.probability for row in result.scores) == pytest.approx(1.0)
    for row in result.scores:
        assert counts[row.slug] / 4000 == pytest.approx(row.probability, abs=0.03)


def test_when_every_candidate_is_gated_out_the_router_listens():
    speakers = [spec for spec in SPECS if spec.slug != SILENT_LISTEN]

    result = route_turn(Moment(asleep=True), PERSONA, speakers, CONFIG, seed=1)

    assert result.fallback is True
    assert result.chosen.slug == SILENT_LISTEN
    assert result.chosen.id is None


def test_silent_listen_holds_the_configured_odds_on_an_unremarkable_message():
    context = Moment(message_text="lol", activity_per_minute=2)
    result = route_turn(context, PERSONA, SPECS, CONFIG, seed=0)

    # Nobody has addressed the bot in a while: the base odds and the "people among themselves" share.
    odds = CONFIG.lurk_odds * CONFIG.unaddressed_listen_odds
    silent = result.score_for(SILENT_LISTEN)
    assert silent.probability == pytest.approx(odds / (odds + 1), abs=0.01)


async def test_the_tiebreak_is_off_by_default_and_never_consulted():
    asked = []

    async def tiebreaker(prompt, options):
        asked.append(options)
        return options[0]

    context = Moment(message_text="@dit", addressed=True, address_kind="mention")
    result = await aroute_turn(context, PERSONA, SPECS, CONFIG, seed=1, tiebreaker=tiebreaker)

    assert asked == []
    assert result.tiebreak_ran is False


async def test_the_tiebreak_answer_decides_a_tight_top_cluster():
    asked = []

    async def tiebreaker(prompt, options):
        asked.append((prompt, options))
        return "factual-recall"

    # Mentioned with no other signal: the neutral-weight speakers tie at the top.
    context = Moment(message_text="@dit thoughts?", addressed=True, address_kind="mention")
    config = replace(CONFIG, tiebreak_enabled=True, tiebreak_margin=0.05)

    results = [
        await aroute_turn(context, PERSONA, SPECS, config, seed=seed, tiebreaker=tiebreaker) for seed in range(50)
    ]

    options = asked[0][1]
    assert {"quick-react", "factual-recall"} <= set(options)
    assert "Answer with exactly one option name." in asked[0][0]
    assert {result.chosen.slug for result in results} == {"factual-recall"}
    assert all(result.tiebreak == TieBreak(tuple(options), "factual-recall", True) for result in results)


async def test_a_tiebreak_answer_outside_the_options_falls_back_to_sampling():
    offered: list[list[str]] = []

    async def tiebreaker(prompt, options):
        offered.append(options)
        return "roast-everyone"

    context = Moment(message_text="@dit", addressed=True, address_kind="mention")
    config = replace(CONFIG, tiebreak_enabled=True, tiebreak_margin=0.05)

    with_bad_answer = [
        (await aroute_turn(context, PERSONA, SPECS, config, seed=seed, tiebreaker=tiebreaker)) for seed in range(100)
    ]
    sampled = [route_turn(context, PERSONA, SPECS, config, seed=seed) for seed in range(100)]

    assert [r.chosen.slug for r in with_bad_answer] == [r.chosen.slug for r in sampled]
    assert {r.tiebreak for r in with_bad_answer} == {TieBreak(tuple(offered[0]), "roast-everyone", False)}


async def test_no_tiebreak_when_the_top_score_stands_clear():
    asked = []

    async def tiebreaker(prompt, options):
        asked.append(options)
        return options[0]

    context = Moment(message_text="when??", addressed=True, address_kind="name", unanswered_questions=3)
    config = replace(CONFIG, tiebreak_enabled=True, tiebreak_margin=0.05)

    result = await aroute_turn(context, PERSONA, SPECS, config, seed=1, tiebreaker=tiebreaker)

    assert asked == []
    assert result.tiebreak is None


def test_a_logged_tiebreak_answer_replays_without_a_classifier():
    context = Moment(message_text="@dit", addressed=True, address_kind="mention")
    config = replace(CONFIG, tiebreak_enabled=True, tiebreak_margin=0.05)

    result = route_turn(context, PERSONA, SPECS, config, seed=9, tiebreak_answer="quick-react", tiebreak_consulted=True)

    assert result.chosen.slug == "quick-react"
    assert result.tiebreak is not None
    assert result.tiebreak.applied is True


def test_the_tiebreak_prompt_describes_the_moment_and_each_option():
    context = Moment(message_text="is it 1998 or 1999?", question_detected=True, heated_disagreement=True)
    scored = score_candidates(context, PERSONA, SPECS, CONFIG)

    prompt = build_tiebreak_prompt(context, scored, ["factual-recall", "settle-debate"])

    assert "is it 1998 or 1999?" in prompt
    assert "- factual-recall: low reasoning, deadpan voice, single-line, live+lore context, safe" in prompt
    assert "heated" in prompt


def test_off_axis_variety_follows_the_configured_rate_and_says_so():
    context = Moment(message_text="@dit", addressed=True, address_kind="mention")
    config = replace(CONFIG, off_axis_rate=0.2)

    results = [route_turn(context, PERSONA, SPECS, config, seed=seed) for seed in range(3000)]

    off = [r for r in results if r.off_axis]
    assert 0.17 < len(off) / len(results) < 0.23
    assert all(r.context_strategy not in (r.chosen.context_strategy, "none") for r in off)
    assert all(r.context_strategy == r.chosen.context_strategy for r in results if not r.off_axis)
    # Addressed, the bot explores only lenses that still show the conversation it answers.
    assert {r.context_strategy for r in off} <= set(LIVE_WINDOW_STRATEGIES)
    assert len({r.context_strategy for r in off}) >= 4


def test_off_axis_variety_on_an_unaddressed_turn_ranges_over_every_lens():
    context = Moment(message_text="the lighthouse again", activity_per_minute=1.0, present_users=("u-a", "u-b", "u-c"))
    config = replace(CONFIG, off_axis_rate=0.5)

    results = [route_turn(context, PERSONA, SPECS, config, seed=seed) for seed in range(3000)]

    off = [r for r in results if r.off_axis]
    assert off
    assert len({r.context_strategy for r in off}) > 8
    assert {r.context_strategy for r in off} - set(LIVE_WINDOW_STRATEGIES)


def test_off_axis_never_applies_to_silence_or_at_rate_zero():
    never = replace(CONFIG, off_axis_rate=0.0)
    always = replace(CONFIG, off_axis_rate=1.0)
    mention = Moment(message_text="@dit", addressed=True, address_kind="mention")

    assert not any(route_turn(mention, PERSONA, SPECS, never, seed=s).off_axis for s in range(300))
    assert all(route_turn(mention, PERSONA, SPECS, always, seed=s).off_axis for s in range(300))
    assert not route_turn(Moment(asleep=True), PERSONA, SPECS, always, seed=1).off_axis


def test_router_inputs_round_trip_through_json_and_route_identically():
    hint = FollowupHint(0.5, "go-deeper", 10, 20)
    specs = (*SPECS, replace(BY_SLUG["quick-react"], slug="quick-react-2", followup_hint=hint, id=None))
    context = Moment(
        message_text="dit when is it",
        addressed=True,
        address_kind="name",
        question_detected=True,
        present_users=("u1", "u2"),
        seconds_since_bot_spoke=12.5,
        callback_material=0.33,
    )
    inputs = RouterInputs(context, PERSONA, specs, replace(CONFIG, off_axis_rate=0.3))

    rebuilt = RouterInputs.from_dict(json.loads(json.dumps(inputs.as_dict())))

    assert rebuilt.moment == inputs.moment
    assert rebuilt.candidates == inputs.candidates
    assert rebuilt.config == inputs.config
    assert dict(rebuilt.persona.weights) == dict(PERSONA.weights)
    for seed in range(100):
        a = route_turn(inputs.moment, inputs.persona, inputs.candidates, inputs.config, seed=seed)
        b = route_turn(rebuilt.moment, rebuilt.persona, rebuilt.candidates, rebuilt.config, seed=seed)
        assert (a.chosen.slug, a.context_strategy, a.scores) == (b.chosen.slug, b.context_strategy, b.scores)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"trigger": "whenever"}, "trigger must be one of"),
        ({"address_kind": "shout"}, "address_kind must be one of"),
        ({"sender_threat_score": 1.5}, "sender_threat_score must be between 0 and 1"),
        ({"budget_remaining": -0.1}, "budget_remaining must be >= 0"),
        ({"followup_bias": "sideways"}, "followup_bias must be one of"),
        ({"seconds_since_bot_spoke": float("inf")}, "seconds_since_bot_spoke must be a finite number"),
        ({"lull_seconds": float("nan")}, "lull_seconds must be a finite number"),
    ],
)
def test_a_turn_context_with_a_bad_value_names_the_field(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Moment(**kwargs)


def test_a_disposition_spec_with_an_unknown_dimension_value_names_it():
    with pytest.raises(ValueError, match="voice must be one of"):
        replace(BY_SLUG["vibing"], voice="sarcastic")
    with pytest.raises(ValueError, match="followup window"):
        FollowupHint(0.5, "go-deeper", 100, 10)


def test_router_config_from_settings_rejects_unknown_keys_and_bad_values():
    assert RouterConfig.from_dict({"temperature": 0.5}).temperature == 0.5
    with pytest.raises(ValueError, match="unknown RouterConfig fields: temprature"):
        RouterConfig.from_dict({"temprature": 0.5})
    with pytest.raises(ValueError, match="temperature must be > 0"):
        RouterConfig(temperature=0)
    with pytest.raises(ValueError, match="off_axis_rate must be between 0 and 1"):
        RouterConfig(off_axis_rate=2)


def test_negative_what_if_weights_are_refused():
    with pytest.raises(ValueError, match="weight for vibing must be >= 0"):
        PERSONA.with_weights({"vibing": -1})


def test_the_router_runs_without_django_settings_or_a_database():
    root = Path(__file__).resolve().parents[2]
    code = (
        "import django.conf\n"
        "from dispositions.router import route_turn\n"
        "from dispositions.specs import Moment, RouterConfig\n"
        "from dispositions.defaults import default_routing\n"
        "persona, specs = default_routing()\n"
        "r = route_turn(Moment(asleep=True), persona, specs, RouterConfig(), seed=1)\n"
        "print(r.chosen.slug, django.conf.settings.configured)\n"
    )
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}

    out = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, check=True)

    assert out.stdout.split() == ["silent-listen", "False"]


def test_disposition_spec_knows_silence():
    assert BY_SLUG[SILENT_LISTEN].is_silent
    assert not BY_SLUG["vibing"].is_silent
    assert isinstance(BY_SLUG["vibing"], DispositionSpec)
    assert isinstance(PERSONA, PersonaSpec)
