"""Each context strategy on a seeded guild: what it shows, and what it must not."""

from __future__ import annotations

import pytest

from memory.choices import ContextStrategyId
from memory.context import ContextScope, assemble_context
from memory.tests.factories import GUILD
from memory.tests.seeding import DEV, GENERAL, NOW, seed_guild

pytestmark = pytest.mark.django_db

ALICE_IN_GENERAL = ContextScope(
    guild_id=GUILD,
    channel_id=GENERAL,
    is_dm=False,
    requester_id="u-alice",
    present_user_ids=frozenset({"u-alice", "u-bob"}),
    topic="baking sourdough bread",
    now=NOW,
)


@pytest.fixture
def guild():
    return seed_guild()


def assemble(strategy: ContextStrategyId, **changes) -> str:
    from dataclasses import replace

    context = assemble_context(strategy=strategy, turn=replace(ALICE_IN_GENERAL, **changes))
    assert context.strategy_used == strategy
    assert not any(item.provenance.is_dm for item in context.items)
    # The DM's words never reach a guild turn, whatever the lens.
    assert "hate sourdough" not in context.text
    return context.text


def test_live_dossiers_shows_the_people_here_and_the_live_lines_but_no_lore(guild):
    text = assemble(ContextStrategyId.LIVE_DOSSIERS)
    assert "[dossier] alice (u:u-alice)" in text
    assert "[dossier] bob (u:u-bob)" in text
    assert "Alice bakes sourdough bread." in text
    assert "i'm baking bread again this weekend" in text
    assert "[lore" not in text


def test_live_lore_shows_lore_and_pinned_blocks_but_no_dossiers(guild):
    text = assemble(ContextStrategyId.LIVE_LORE)
    assert "bob and carol argue about pizza toppings" in text
    assert "No spoilers for the book club." in text
    assert "your sourdough bread is legendary" in text
    assert "[dossier]" not in text


def test_live_lore_dossiers_has_both_and_no_archive_matches(guild):
    text = assemble(ContextStrategyId.LIVE_LORE_DOSSIERS)
    assert "[dossier] alice" in text
    assert "[lore rivalry]" in text
    assert "my sourdough starter finally bubbled" not in text


def test_archive_topic_deep_digs_up_old_talk_on_the_topic_not_unrelated_lines(guild):
    text = assemble(ContextStrategyId.ARCHIVE_TOPIC_DEEP)
    assert "my sourdough starter finally bubbled" in text
    assert "baking sourdough loaves with rye flour" in text
    assert text.index("From memory") < text.index("Recent messages")
    assert "flaky CI test" not in text.split("## Recent messages")[0].splitlines()[1]


def test_archive_person_deep_shows_only_the_focus_persons_own_words(guild):
    text = assemble(ContextStrategyId.ARCHIVE_PERSON_DEEP, focus_user_id="u-bob", topic="pizza toppings")
    lines = [line for line in text.splitlines() if line.startswith("[message")]
    assert "wrong again, carol" in text
    assert lines
    assert all("] bob: " in line for line in lines)
    assert "[dossier] bob" in text
    assert "pineapple belongs on pizza" not in text
    assert "edible architecture" not in text


def test_epochs_only_shows_summaries_and_no_raw_message(guild):
    text = assemble(ContextStrategyId.EPOCHS_ONLY)
    assert "Carol defended pineapple on pizza" in text
    assert "[#general]" not in text
    assert "no way" not in text


def test_time_shifted_shows_this_channel_at_this_time_of_day_weeks_ago_only(guild):
    text = assemble(ContextStrategyId.TIME_SHIFTED)
    assert "my sourdough starter finally bubbled" in text
    assert "3 week(s) ago" in text
    assert "pineapple" not in text


def test_cross_channel_similar_brings_other_channels_on_the_topic_and_nothing_of_this_one(guild):
    text = assemble(ContextStrategyId.CROSS_CHANNEL_SIMILAR)
    elsewhere = text.split("## Here")[0]
    assert "baking sourdough loaves with rye flour" in elsewhere
    assert "#general" not in elsewhere


def test_contrasting_shows_where_present_people_disagreed(guild):
    text = assemble(
        ContextStrategyId.CONTRASTING, present_user_ids=frozenset({"u-bob", "u-carol"}), topic="pizza toppings"
    )
    assert "no way, that's wrong" in text
    assert "bob and carol argue about pizza toppings" in text
    assert "my sourdough starter" not in text


def test_contrasting_with_nobody_who_ever_disagreed_says_it_has_nothing(guild):
    context = assemble_context(
        strategy=ContextStrategyId.CONTRASTING,
        turn=ContextScope(guild_id=GUILD, channel_id="c-empty", is_dm=False, requester_id="u-dave", now=NOW),
    )
    # Nothing of its own to show: the gap is recorded, and the live lines still come (no other lens stands in).
    assert context.gaps == ("the people here have no recorded disagreement",)
    assert "no way" not in context.text
    assert "your sourdough bread is legendary" in context.text
    assert not context.empty


def test_serendipity_samples_old_material_reproducibly_from_the_seed(guild):
    first = assemble(ContextStrategyId.SERENDIPITY, seed=7)
    again = assemble(ContextStrategyId.SERENDIPITY, seed=7)
    assert first == again
    sampled = first.split("## Now")[0]
    assert "[message" in sampled or "[highlight" in sampled
    # Nothing of the last two days is "from before".
    assert "i'm baking bread again" not in sampled
    assert "flaky CI" not in sampled


def test_unanswered_lists_the_open_question_and_not_the_answered_one(guild):
    text = assemble(ContextStrategyId.UNANSWERED)
    assert "anyone know how to fix the flaky CI test?" in text.split("## Recent messages")[0]
    assert "pineapple belongs on pizza" not in text


def test_bot_history_shows_the_bots_turns_and_how_they_landed(guild):
    text = assemble(ContextStrategyId.BOT_HISTORY)
    section = text.split("## Recent messages")[0]
    assert "hot take: tabs are better than spaces forever" in section
    assert "-> 1 replies; quoted later: yes" in section
    assert "(u:u-carol)" not in section


def test_callback_primed_leads_with_the_primed_highlight(guild):
    text = assemble(ContextStrategyId.CALLBACK_PRIMED, topic="is bread basically architecture you can eat")
    lines = text.splitlines()
    assert lines[0].startswith("## Callback ready")
    assert '"bread is just edible architecture"' in lines[1]


def test_callback_primed_with_nothing_ripe_records_the_gap_and_keeps_the_live_lines(guild):
    context = assemble_context(
        strategy=ContextStrategyId.CALLBACK_PRIMED,
        turn=ContextScope(
            guild_id=GUILD, channel_id=DEV, is_dm=False, requester_id="u-carol", topic="kernel scheduler", now=NOW
        ),
    )
    assert context.gaps == ("no highlight or fact from before matches the live topic",)
    assert "Callback ready" not in context.text
    assert "your sourdough bread is legendary" in context.text


def test_full_rich_has_every_section(guild):
    text = assemble(ContextStrategyId.FULL_RICH)
    for marker in ("No spoilers", "[dossier] alice", "[lore rivalry]", "my sourdough starter", "Carol defended"):
        assert marker in text
    assert text.rstrip().endswith("your sourdough bread is legendary")


@pytest.mark.parametrize("strategy", list(ContextStrategyId))
def test_every_strategy_stays_within_its_token_budget(guild, strategy):
    from memory.context.strategies import default_registry

    context = assemble_context(strategy=strategy, turn=ALICE_IN_GENERAL)
    budget = getattr(default_registry.get(strategy), "budget", None)
    if budget is not None:
        assert context.tokens <= budget
    assert context.empty == (context.text == "" and strategy != ContextStrategyId.NONE)
    assert "\n".join(context.gaps) not in context.text or not context.gaps


def test_the_strategies_assemble_distinct_blocks(guild):
    texts = {
        strategy: assemble_context(strategy=strategy, turn=ALICE_IN_GENERAL).text for strategy in ContextStrategyId
    }
    non_empty = [text for strategy, text in texts.items() if strategy != ContextStrategyId.NONE]
    assert len(set(non_empty)) == len(non_empty)
