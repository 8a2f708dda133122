from __future__ import annotations

import random
from dataclasses import replace
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from dispositions.choices import AddressKind, FollowupBias, TriggerKind
from dispositions.models import DispositionDecision
from dispositions.services import (
    ReplayError,
    adecide_turn,
    decide_turn,
    record_subagent_run,
    record_turn_outcome,
    replay,
    what_if,
)
from dispositions.specs import Moment, RouterConfig
from dit_project.errors import ApplicationError

pytestmark = pytest.mark.django_db


def decide(persona, context: Moment, *, seed: int) -> DispositionDecision:
    """A decision for `persona` under the default router config, by bot 1 in guild g, channel c."""
    return decide_turn(
        moment=context, persona_id=persona.pk, config=RouterConfig(), seed=seed, guild_id="g", channel_id="c", bot_id=1
    )


def random_context(rng: random.Random) -> Moment:
    trigger = rng.choice(TriggerKind.values)
    kind = rng.choice(AddressKind.values)
    return Moment(
        trigger=trigger,
        message_text=None if trigger != TriggerKind.REACTIVE else rng.choice(["hm", "what year?", "dit!", "lol"]),
        addressed=kind != AddressKind.NONE,
        address_kind=kind,
        question_detected=rng.random() < 0.3,
        unanswered_questions=rng.randrange(0, 4),
        activity_per_minute=rng.uniform(0, 15),
        lull_seconds=rng.uniform(0, 7200),
        present_users=tuple(f"u{i}" for i in range(rng.randrange(0, 5))),
        seconds_since_bot_spoke=rng.choice([None, rng.uniform(0, 600)]),
        callback_material=rng.random() if rng.random() < 0.3 else 0.0,
        heated_disagreement=rng.random() < 0.2,
        sender_threat_score=rng.random() * 0.9,
        sender_is_bot=rng.random() < 0.1,
        bot_chain_allowed=rng.random() < 0.5,
        budget_remaining=rng.choice([0.0, 0.1, 0.5, 1.0]),
        asleep=rng.random() < 0.05,
        unprompted_muted=rng.random() < 0.1,
        is_dm=rng.random() < 0.1,
        followup_bias=rng.choice(FollowupBias.values) if trigger == TriggerKind.SELF_FOLLOWUP else None,
    )


def answering_tiebreaker(pick: float):
    """A classifier that names one of the options, or (one time in five) nothing usable."""

    async def tiebreaker(prompt, options):
        return options[int(pick * len(options))] if pick < 0.8 else None

    return tiebreaker


def random_config(rng: random.Random) -> RouterConfig:
    return RouterConfig(
        temperature=rng.choice([0.3, 1.0, 2.0]),
        off_axis_rate=rng.choice([0.0, 0.1, 0.5]),
        tiebreak_enabled=rng.random() < 0.3,
        tiebreak_margin=0.1,
    )


def test_decide_turn_records_the_choice_with_its_full_inputs(default_persona):
    context = Moment(message_text="dit what year?", addressed=True, address_kind="name", question_detected=True)

    decision = decide_turn(
        moment=context,
        persona_id=default_persona.pk,
        config=RouterConfig(off_axis_rate=0.0),
        seed=12345,
        guild_id="g-1",
        channel_id="c-1",
        bot_id=7,
        inbound_message_id="m-1",
    )

    decision.refresh_from_db()
    assert decision.trigger_kind == "reactive"
    assert (decision.guild_id, decision.channel_id, decision.bot_id, decision.inbound_message_id) == (
        "g-1",
        "c-1",
        7,
        "m-1",
    )
    assert decision.persona == default_persona
    assert decision.stochasticity_seed == 12345
    assert decision.chosen_disposition is not None
    assert decision.chosen_disposition.slug == decision.chosen_slug
    assert decision.output_shape == decision.chosen_disposition.output_shape
    assert decision.context_strategy_used == decision.chosen_disposition.context_strategy
    assert decision.context_strategy_off_axis is False
    assert decision.subagents_fired == []  # the plan is on the disposition; nothing has run yet
    assert decision.dimensions_used["voice"] == decision.chosen_disposition.voice
    assert {row["slug"] for row in decision.candidate_scores} == {
        "silent-listen",
        "vibing",
        "quick-react",
        "roast-back",
        "factual-recall",
        "callback-from-memory",
        "settle-debate",
        "contrarian-take",
        "late-night-musing",
        "observation-drop",
    }
    assert any(row["reasons"] for row in decision.candidate_scores)
    assert decision.gates == ["addressed (name): silent removed"]
    assert decision.router_inputs["context"]["message_text"] == "dit what year?"
    assert decision.router_inputs["persona"]["weights"]["roast-back"] == 0.6
    assert decision.router_latency_ms > 0


def test_every_recorded_decision_replays_to_the_same_choice(default_persona):
    rng = random.Random(2024)
    decisions = []
    for _ in range(150):
        config = random_config(rng)

        tiebreaker = answering_tiebreaker(rng.random())

        decisions.append(
            decide_turn(
                moment=random_context(rng),
                persona_id=default_persona.pk,
                config=config,
                seed=rng.getrandbits(63),
                tiebreaker=tiebreaker if config.tiebreak_enabled else None,
                guild_id="g-1",
                channel_id=f"c-{rng.randrange(3)}",
                bot_id=1,
            )
        )

    outcomes = [replay(DispositionDecision.objects.get(pk=d.pk)) for d in decisions]

    assert all(outcome.matches for outcome in outcomes)
    assert any(d.tiebreak_ran and d.tiebreak_answer for d in decisions)
    assert any(d.context_strategy_off_axis for d in decisions)
    assert len({d.chosen_slug for d in decisions}) >= 6


def test_replay_uses_the_logged_tiebreak_answer_instead_of_sampling(default_persona):
    context = Moment(message_text="@dit", addressed=True, address_kind="mention")
    config = RouterConfig(tiebreak_enabled=True, tiebreak_margin=0.05)

    async def pick_vibing_if_offered(prompt, options):
        return "factual-recall"

    decision = decide_turn(
        moment=context,
        persona_id=default_persona.pk,
        config=config,
        seed=5,
        tiebreaker=pick_vibing_if_offered,
        guild_id="g",
        channel_id="c",
        bot_id=1,
    )

    assert decision.tiebreak_ran is True
    assert decision.tiebreak_answer == "factual-recall"
    assert "factual-recall" in decision.tiebreak_options
    assert decision.chosen_slug == "factual-recall"
    outcome = replay(decision)
    assert outcome.matches
    assert outcome.result.tiebreak is not None
    assert outcome.result.tiebreak.applied is True


def test_replay_notices_when_the_logged_choice_differs(default_persona):
    decision = decide(default_persona, Moment(asleep=True), seed=1)
    DispositionDecision.objects.filter(pk=decision.pk).update(chosen_slug="roast-back")
    decision.refresh_from_db()

    outcome = replay(decision)

    assert outcome.matches is False
    assert outcome.result.chosen.slug == "silent-listen"


def test_replay_of_a_row_with_broken_inputs_names_the_problem(default_persona):
    decision = decide(default_persona, Moment(), seed=1)
    decision.router_inputs["context"]["mood"] = "grumpy"

    with pytest.raises(ReplayError, match="unknown Moment fields: mood"):
        replay(decision)


def test_what_if_shows_another_choice_under_other_weights_without_saving(default_persona):
    moment = Moment(
        message_text="@dit",
        addressed=True,
        address_kind="mention",
        sender_messages_seen=50,
        sender_first_seen_seconds=30 * 86400.0,
    )
    decision = decide(default_persona, moment, seed=77)
    others = {row["slug"]: 0.0 for row in decision.candidate_scores if row["slug"] != "roast-back"}

    result = what_if(decision, {**others, "roast-back": 5.0})

    assert result.chosen.slug == "roast-back"
    assert result.score_for("roast-back").probability == 1.0
    assert "persona weight x5.00" in result.score_for("roast-back").reasons
    assert DispositionDecision.objects.count() == 1
    decision.refresh_from_db()
    assert decision.router_inputs["persona"]["weights"]["roast-back"] == 0.6


def test_what_if_with_the_logged_weights_gives_the_logged_choice(default_persona):
    decision = decide(default_persona, Moment(message_text="hm"), seed=4)

    result = what_if(decision, decision.router_inputs["persona"]["weights"])

    assert result.chosen.slug == decision.chosen_slug


def test_what_if_refuses_unknown_dispositions_and_negative_weights(default_persona):
    decision = decide(default_persona, Moment(), seed=4)

    with pytest.raises(ApplicationError, match="not candidates: dance-off"):
        what_if(decision, {"dance-off": 1.0})
    with pytest.raises(ApplicationError, match="must be >= 0"):
        what_if(decision, {"vibing": -2})


async def test_the_async_decision_matches_the_sync_one_for_the_same_seed(async_db_connections, default_persona):
    context = Moment(message_text="dit?", addressed=True, address_kind="name", question_detected=True)
    config = RouterConfig(off_axis_rate=0.3)

    decision = await adecide_turn(
        moment=context,
        persona_id=default_persona.pk,
        config=config,
        seed=31337,
        guild_id="g",
        channel_id="c",
        bot_id=3,
        inbound_message_id="m-9",
    )

    from asgiref.sync import sync_to_async

    outcome = await sync_to_async(replay)(decision)
    assert outcome.matches
    assert decision.pk is not None
    assert decision.inbound_message_id == "m-9"


def test_the_host_records_what_happened_after_the_decision(default_persona):
    decision = decide(default_persona, Moment(message_text="@dit", addressed=True, address_kind="mention"), seed=4)

    record_turn_outcome(
        decision=decision,
        beat_count=3,
        latency_ms=1840.5,
        cost_usd=Decimal("0.0042"),
        model_used="mid-model",
        interruption="folded",
        scheduled_followup_id=55,
        outcome={"reactions": {"😂": 2}},
    )
    decision.refresh_from_db()

    assert (decision.beat_count, decision.latency_ms, decision.cost_usd) == (3, 1840.5, Decimal("0.004200"))
    assert (decision.model_used, decision.interruption, decision.scheduled_followup_id) == ("mid-model", "folded", 55)
    assert decision.outcome == {"reactions": {"😂": 2}}


def test_an_unknown_interruption_handling_is_refused(default_persona):
    decision = decide(default_persona, Moment(), seed=4)

    with pytest.raises(ValidationError) as error:
        record_turn_outcome(decision=decision, interruption="exploded")

    assert "interruption" in error.value.message_dict
    decision.refresh_from_db()
    assert decision.interruption == ""


def test_subagent_runs_are_logged_against_their_decision(default_persona):
    decision = decide(default_persona, Moment(), seed=4)

    run = record_subagent_run(
        decision=decision,
        persona="comedian",
        input_payload={"q": "x"},
        output_payload={"angles": []},
        latency_ms=120.0,
        cost_usd=Decimal("0.0001"),
        model_used="low",
    )

    assert list(decision.subagent_runs.all()) == [run]
    with pytest.raises(ValidationError):
        record_subagent_run(decision=decision, persona="astrologer", input_payload={})


def test_decide_turn_without_a_seed_draws_one(default_persona):
    config = replace(RouterConfig(), off_axis_rate=0.0)
    first = decide_turn(
        moment=Moment(), persona_id=default_persona.pk, config=config, guild_id="g", channel_id="c", bot_id=1
    )
    second = decide_turn(
        moment=Moment(), persona_id=default_persona.pk, config=config, guild_id="g", channel_id="c", bot_id=1
    )

    assert first.stochasticity_seed != second.stochasticity_seed
    assert replay(first).matches
    assert replay(second).matches


def test_a_seed_too_large_for_the_log_is_refused_before_anything_is_written(default_persona):
    with pytest.raises(ApplicationError, match="does not fit the decision log"):
        decide(default_persona, Moment(), seed=2**64)

    assert DispositionDecision.objects.count() == 0
