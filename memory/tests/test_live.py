"""The live window: guild-wide, channel-tagged, current channel weighted, DMs kept apart."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from dit_project.errors import ApplicationError
from memory.live import live_window, narrow_live
from memory.tests.factories import GENERAL, GUILD, RANDOM, TranscriptFactory, TranscriptRevisionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def now() -> datetime:
    return timezone.now()


def _say(now: datetime, seconds_ago: float, **fields: object):
    return TranscriptFactory.create(created_at=now - timedelta(seconds=seconds_ago), **fields)


def _in_random(now: datetime, seconds_ago: float, **fields: object):
    return _say(now, seconds_ago, channel_id=RANDOM, channel_name="random", **fields)


def test_a_message_said_in_random_30_seconds_ago_is_visible_from_general(now):
    _say(now, 120, content="morning all")
    _in_random(now, 30, content="did anyone see the launch?")

    window = live_window(GUILD, current_channel_id=GENERAL)

    assert [item.content for item in window] == ["morning all", "did anyone see the launch?"]
    assert window[-1].channel_id == RANDOM


def test_live_items_carry_their_channel_and_author(now):
    _in_random(now, 5, author_id="u-bob", author_display_name="bob", content="hi")

    (item,) = live_window(GUILD, current_channel_id=GENERAL)

    assert (item.guild_id, item.channel_id, item.channel_name) == (GUILD, RANDOM, "random")
    assert (item.author_id, item.author_display_name, item.is_dm) == ("u-bob", "bob", False)


def test_the_live_window_is_ordered_oldest_first_across_channels(now):
    for seconds_ago in (50, 40, 30, 20, 10):
        channel = GENERAL if seconds_ago % 20 else RANDOM
        _say(now, seconds_ago, channel_id=channel, content=f"{seconds_ago}s ago")

    window = live_window(GUILD, current_channel_id=GENERAL)

    assert [item.content for item in window] == ["50s ago", "40s ago", "30s ago", "20s ago", "10s ago"]


def test_the_current_channel_gets_its_share_of_a_busy_guild(now):
    for n in range(60):
        _say(now, 2 * n, content=f"general {n}")
        _in_random(now, 2 * n + 1, content=f"random {n}")

    from_general = live_window(GUILD, current_channel_id=GENERAL, size=40, current_channel_share=0.6)
    from_random = live_window(GUILD, current_channel_id=RANDOM, size=40, current_channel_share=0.6)

    assert len(from_general) == 40
    assert sum(item.channel_id == GENERAL for item in from_general) == 24
    assert sum(item.channel_id == RANDOM for item in from_random) == 24
    # Each side's share is its most recent messages.
    assert {item.content for item in from_general if item.channel_id == GENERAL} == {f"general {n}" for n in range(24)}
    assert {item.content for item in from_general if item.channel_id == RANDOM} == {f"random {n}" for n in range(16)}


def test_a_quiet_current_channel_leaves_its_slack_to_the_other_channels(now):
    for n in range(3):
        _say(now, 1000 + n)
    for n in range(60):
        _in_random(now, n)

    window = live_window(GUILD, current_channel_id=GENERAL, size=40)

    assert len(window) == 40
    assert sum(item.channel_id == GENERAL for item in window) == 3


def test_quiet_other_channels_leave_their_slack_to_the_current_channel(now):
    for n in range(60):
        _say(now, n)
    for n in range(5):
        _in_random(now, 1000 + n)

    window = live_window(GUILD, current_channel_id=GENERAL, size=40)

    assert len(window) == 40
    assert sum(item.channel_id == RANDOM for item in window) == 5


def test_a_guild_live_window_never_holds_direct_messages_even_the_newest(now):
    _say(now, 60, content="guild chatter")
    _say(now, 1, dm=True, content="my DM secret")

    window = live_window(GUILD, current_channel_id=GENERAL)

    assert [item.content for item in window] == ["guild chatter"]


def test_a_guild_live_window_holds_no_other_guilds_messages(now):
    _say(now, 60, content="ours")
    _say(now, 1, guild_id="g-other", channel_id="c-other", content="theirs")

    window = live_window(GUILD, current_channel_id=GENERAL)

    assert [item.content for item in window] == ["ours"]


def test_a_dm_live_window_sees_only_that_dm_channel(now):
    _say(now, 50, dm=True, content="alice to the bot")
    _say(now, 40, dm=True, bot=True, content="the bot to alice")
    _say(now, 30, dm=True, channel_id="dm-bob", author_id="u-bob", content="bob to the bot")
    _say(now, 20, content="guild chatter")

    window = live_window("", current_channel_id="dm-alice")

    assert [item.content for item in window] == ["alice to the bot", "the bot to alice"]
    assert all(item.is_dm for item in window)


def test_an_edited_message_shows_its_latest_wording(now):
    message = _say(now, 30, content="teh plan")
    for seconds_ago, words in ((20, "the plan"), (10, "the final plan")):
        edited_at = now - timedelta(seconds=seconds_ago)
        TranscriptRevisionFactory.create(transcript=message, content=words, edited_at=edited_at)
    _say(now, 5, content="untouched")

    window = live_window(GUILD, current_channel_id=GENERAL)

    assert [(item.content, item.edited) for item in window] == [("the final plan", True), ("untouched", False)]


def test_before_cuts_off_messages_at_and_after_the_moment(now):
    _say(now, 30, content="earlier")
    _say(now, 10, content="at the cut")
    _say(now, 5, content="later")

    window = live_window(GUILD, current_channel_id=GENERAL, before=now - timedelta(seconds=10))

    assert [item.content for item in window] == ["earlier"]


def test_the_guild_live_window_takes_one_query(now, django_assert_num_queries):
    for n in range(10):
        _say(now, n)
        _in_random(now, n)

    with django_assert_num_queries(1):
        live_window(GUILD, current_channel_id=GENERAL)


def test_the_dm_live_window_takes_one_query(now, django_assert_num_queries):
    _say(now, 1, dm=True)

    with django_assert_num_queries(1):
        live_window("", current_channel_id="dm-alice")


def test_narrow_live_is_the_last_few_messages_of_one_channel_oldest_first(now, django_assert_num_queries):
    for n in range(8):
        _say(now, 100 - n, content=f"general {n}")
    _in_random(now, 1, content="elsewhere")

    with django_assert_num_queries(1):
        window = narrow_live(GENERAL, n=5)

    assert [item.content for item in window] == [f"general {n}" for n in range(3, 8)]


@pytest.mark.parametrize(("size", "share"), [(0, 0.6), (40, 1.5), (40, -0.1)])
def test_the_live_window_refuses_a_nonsensical_shape(size, share):
    with pytest.raises(ApplicationError):
        live_window(GUILD, current_channel_id=GENERAL, size=size, current_channel_share=share)
