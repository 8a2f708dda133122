"""The self-followup rules, one at a time: each decides its case, and without it the follow-up would fire."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bots.followups import (
    RULES,
    FollowupFacts,
    Said,
    Verdict,
    bot_moved_on,
    doubtful_reaction,
    human_replied,
    judge_followup,
    mid_thought,
    moment_passed,
    moved_off_topic,
    not_yet,
    topic_terms,
)
from bots.turn_settings import FollowupConfig

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
CONFIG = FollowupConfig.build()
TOPIC = topic_terms("which pizza oven gets hottest for neapolitan dough")


def quiet(**changes) -> FollowupFacts:
    """Nothing has happened since the turn, and the follow-up is due now."""
    facts = FollowupFacts(now=NOW, scheduled_for=NOW, bias="go-deeper", defers=0, seed=7, topic=TOPIC)
    return replace(facts, **changes)


def said(text: str, seconds_ago: float, author: str = "u-alice") -> Said:
    return Said(author_id=author, text=text, at=NOW - timedelta(seconds=seconds_ago))


def without(rule):
    return tuple(r for r in RULES if r is not rule)


def test_nothing_happened_so_the_follow_up_fires_with_its_bias():
    judgement = judge_followup(quiet(), CONFIG)

    assert (judgement.verdict, judgement.bias, judgement.rule) == (Verdict.FIRE, "go-deeper", "fire")


def test_a_human_reply_to_the_bot_aborts():
    facts = quiet(human_replies=("m-reply",))

    judgement = judge_followup(facts, CONFIG)

    assert (judgement.verdict, judgement.rule) == (Verdict.ABORT, "human_replied")
    assert judgement.reason == "a human replied to the bot's message"
    assert judge_followup(facts, CONFIG, rules=without(human_replied)).verdict == Verdict.FIRE


def test_another_turn_of_the_bot_in_the_channel_aborts():
    facts = quiet(bot_turns_since=1)

    judgement = judge_followup(facts, CONFIG)

    assert (judgement.verdict, judgement.rule) == (Verdict.ABORT, "bot_moved_on")
    assert judge_followup(facts, CONFIG, rules=without(bot_moved_on)).verdict == Verdict.FIRE


def test_a_doubtful_reaction_turns_the_follow_up_into_a_self_correction():
    facts = quiet(doubt_reactions=("🤔",))

    judgement = judge_followup(facts, CONFIG)

    assert (judgement.verdict, judgement.bias) == (Verdict.FIRE, "self-correct")
    assert judge_followup(facts, CONFIG, rules=without(doubtful_reaction)).bias == "go-deeper"


def test_woken_early_it_waits_for_its_time():
    facts = quiet(scheduled_for=NOW + timedelta(seconds=40))

    judgement = judge_followup(facts, CONFIG)

    assert (judgement.verdict, judgement.at, judgement.rule) == (Verdict.WAIT, NOW + timedelta(seconds=40), "not_yet")
    assert judge_followup(facts, CONFIG, rules=without(not_yet)).verdict == Verdict.FIRE


def test_evaluated_long_after_its_time_it_is_let_go():
    late = CONFIG.turn_expiry_seconds + 60
    facts = quiet(due_at=NOW - timedelta(seconds=late), scheduled_for=NOW - timedelta(seconds=late + 30))

    judgement = judge_followup(facts, CONFIG)

    assert (judgement.verdict, judgement.rule) == (Verdict.ABORT, "moment_passed")
    assert judgement.reason == f"evaluated {late:.0f}s after its time; the moment has passed"
    assert judge_followup(facts, CONFIG, rules=without(moment_passed)).verdict == Verdict.FIRE


def test_a_little_late_or_deferred_past_its_schedule_it_still_fires():
    # Lateness counts from the trigger's time: a deferral moves it, so deferred follow-ups are not late.
    a_little = quiet(due_at=NOW - timedelta(seconds=CONFIG.turn_expiry_seconds - 5))
    deferred = quiet(scheduled_for=NOW - timedelta(seconds=CONFIG.turn_expiry_seconds * 3), due_at=NOW)

    assert judge_followup(a_little, CONFIG).verdict == Verdict.FIRE
    assert judge_followup(deferred, CONFIG).verdict == Verdict.FIRE


def test_a_conversation_that_moved_off_topic_downgrades_to_a_later_callback():
    moved_on = tuple(
        said(text, 200 - 30 * i)
        for i, text in enumerate(["anyone watching the match", "yes", "that goal though", "ref was awful"])
    )
    facts = quiet(human_messages=moved_on)

    judgement = judge_followup(facts, CONFIG)

    assert (judgement.verdict, judgement.bias, judgement.rule) == (
        Verdict.DOWNGRADE,
        "callback-later",
        "moved_off_topic",
    )
    assert judgement.at is not None
    delay = (judgement.at - NOW).total_seconds()
    assert CONFIG.callback_min_seconds <= delay <= CONFIG.callback_max_seconds
    assert judge_followup(facts, CONFIG, rules=without(moved_off_topic)).verdict == Verdict.FIRE


def test_a_callback_whose_conversation_moved_on_is_aborted():
    moved_on = tuple(said(f"football chat {i}", 300 - i) for i in range(5))

    judgement = judge_followup(quiet(bias="callback-later", human_messages=moved_on), CONFIG)

    assert (judgement.verdict, judgement.reason) == (Verdict.ABORT, "the conversation moved on")


def test_a_conversation_still_on_topic_is_not_off_topic():
    on_topic = tuple(
        said(text, 300 - 20 * i)
        for i, text in enumerate(
            ["my oven tops out at 500", "neapolitan needs more", "pizza steel helps", "dough hydration matters"]
        )
    )

    assert judge_followup(quiet(human_messages=on_topic), CONFIG).verdict == Verdict.FIRE


def test_someone_mid_thought_defers_the_follow_up_briefly():
    facts = quiet(human_messages=(said("so the thing about ovens is", 5),))

    judgement = judge_followup(facts, CONFIG)

    assert (judgement.verdict, judgement.rule) == (Verdict.DEFER, "mid_thought")
    assert judgement.at == NOW + timedelta(seconds=CONFIG.defer_seconds)
    assert judge_followup(facts, CONFIG, rules=without(mid_thought)).verdict == Verdict.FIRE


def test_a_channel_that_stays_busy_aborts_after_the_last_deferral():
    facts = quiet(defers=CONFIG.max_defers, human_messages=(said("and another thing", 2),))

    judgement = judge_followup(facts, CONFIG)

    assert (judgement.verdict, judgement.reason) == (Verdict.ABORT, "the channel stayed busy")


def test_an_old_message_is_not_mid_thought():
    assert judge_followup(quiet(human_messages=(said("pizza oven", 120),)), CONFIG).verdict == Verdict.FIRE


def test_topic_terms_keep_content_words_only():
    assert topic_terms("What do you THINK about the pizza oven's heat?") == {"pizza", "oven's", "heat"}
