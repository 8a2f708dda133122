"""The host's small rules, each on its own: cues, preflight, fragments, signals, interruptions, config."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bots.adapters.base import ChannelRef, GuildRef, InboundMessage, MemberRef, MessageRef
from bots.bot_settings import BotSettings
from bots.choices import FieldType
from bots.host.addressing import NOT_ADDRESSED, Address
from bots.host.config import HostConfig
from bots.host.cues import (
    ends_sentence,
    has_new_content,
    is_question,
    is_silence_text,
    match_mute_phrase,
    strip_address,
)
from bots.host.errors import HostConfigurationError
from bots.host.fragments import FragmentBuffer
from bots.host.interruption import route_interruption
from bots.host.ledger import Arrival, ChannelLedger
from bots.host.preflight import preflight
from bots.host.readings import channel_signals, find_late_question
from bots.setting_types import SettingField
from dispositions.choices import AddressKind, InterruptionHandling
from memory.live import LiveItem

GUILD = GuildRef(id="g1", name="guild")
GENERAL = ChannelRef(id="c1", name="general", guild=GUILD)
ADDRESSED = Address(True, AddressKind.MENTION, "mentioned")
NOW = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)


def message(
    content: str = "hi", *, author: MemberRef | None = None, channel: ChannelRef = GENERAL, mid: str = "m1", **extra
) -> InboundMessage:
    return InboundMessage(
        platform="discord",
        message=MessageRef(channel=channel, id=mid),
        guild=channel.guild,
        channel=channel,
        author=author or MemberRef(id="1", display_name="alice"),
        content=content,
        created_at=NOW,
        **extra,
    )


# Cues.


@pytest.mark.parametrize(
    ("text", "expected"),
    [("what's the capital of Peru?", True), ("how do I do this", True), ("nice", False), ("is it", False)],
)
def test_questions_are_detected_by_question_mark_or_question_word(text, expected):
    assert is_question(text) is expected


@pytest.mark.parametrize(
    "text",
    ["(staying silent)", "*stays silent*", "[silence]", "...", "<silence>", "_remains quiet_", "(no response)", ""],
)
def test_text_that_only_performs_silence_is_recognised(text):
    assert is_silence_text(text)


@pytest.mark.parametrize("text", ["silence is golden, honestly", "I stayed quiet at the meeting", "pass the salt"])
def test_real_sentences_about_silence_are_not_silence_text(text):
    assert not is_silence_text(text)


@pytest.mark.parametrize(("text", "phrase"), [("stop", "stop"), ("please shut up", "shut up"), ("stfu", "stfu")])
def test_mute_phrases_match_as_whole_words(text, phrase):
    assert match_mute_phrase(text, ["stop", "shut up", "stfu"]) == phrase


@pytest.mark.parametrize("text", ["don't stop", "never stop posting", "unstoppable", "nonstop"])
def test_negated_or_embedded_mute_phrases_do_not_match(text):
    assert match_mute_phrase(text, ["stop"]) is None


def test_a_nudge_has_no_new_content_once_the_address_is_stripped():
    assert not has_new_content(strip_address("<@9> ^^", names=["dit"], bot_user_id="9"))
    assert not has_new_content(strip_address("dit?", names=["dit"]))
    assert has_new_content(strip_address("dit what about lunch", names=["dit"]))


def test_a_sentence_end_is_a_full_stop_question_or_exclamation():
    assert ends_sentence("ok so here it is.")
    assert ends_sentence("right?")
    assert not ends_sentence("and then")


# Preflight.


def test_preflight_drops_messages_of_any_of_our_bots():
    ours = MemberRef(id="77", display_name="dit-2", is_bot=True)
    verdict = preflight(message(author=ours), address=NOT_ADDRESSED, own_user_ids={"77"}, config=HostConfig.build())
    assert (verdict.accepted, verdict.reason) == (False, "own bot's message")


def test_preflight_drops_other_bots_unless_allowed():
    other = MemberRef(id="55", display_name="otherbot", is_bot=True)
    dropped = preflight(message(author=other), address=ADDRESSED, own_user_ids=(), config=HostConfig.build())
    allowed = preflight(
        message(author=other),
        address=ADDRESSED,
        own_user_ids=(),
        config=HostConfig.build(allowed_bots=frozenset({"55"})),
    )
    assert not dropped.accepted
    assert allowed.accepted


def test_preflight_applies_the_channel_lists_to_a_thread_through_its_parent():
    thread = ChannelRef(id="t1", name="t", guild=GUILD, parent_id="c1")
    denied = HostConfig.build(denied_channels=frozenset({"c1"}))
    allowed_elsewhere = HostConfig.build(allowed_channels=frozenset({"c9"}))
    assert not preflight(message(channel=thread), address=ADDRESSED, own_user_ids=(), config=denied).accepted
    assert not preflight(message(), address=ADDRESSED, own_user_ids=(), config=allowed_elsewhere).accepted
    assert preflight(
        message(), address=ADDRESSED, own_user_ids=(), config=HostConfig.build(allowed_channels=frozenset({"c1"}))
    ).accepted


def test_preflight_with_mention_gating_drops_unaddressed_messages_only():
    gated = HostConfig.build(require_mention=True)
    assert not preflight(message(), address=NOT_ADDRESSED, own_user_ids=(), config=gated).accepted
    assert preflight(message(), address=ADDRESSED, own_user_ids=(), config=gated).accepted


def test_preflight_drops_edits():
    assert not preflight(message(is_edit=True), address=ADDRESSED, own_user_ids=(), config=HostConfig.build()).accepted


# Fragments.


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_back_to_back_fragments_from_one_author_merge_into_one_group():
    clock = FakeClock()
    buffer = FragmentBuffer(window=3, max_seconds=15, clock=clock)
    assert buffer.add(message("so", mid="1"), address=NOT_ADDRESSED, seq=1) is None
    clock.now += 1
    assert buffer.add(message("about rust", mid="2"), address=NOT_ADDRESSED, seq=2) is None
    clock.now += 2.5
    assert buffer.due() == []
    clock.now += 1
    [group] = buffer.due()
    assert [m.message.id for m in group.messages] == ["1", "2"]


def test_typing_keeps_a_group_open_but_never_past_the_cap():
    clock = FakeClock()
    buffer = FragmentBuffer(window=3, max_seconds=5, clock=clock)
    buffer.add(message("so"), address=NOT_ADDRESSED, seq=1)
    clock.now += 2.5
    assert buffer.typing("c1", "1")
    clock.now += 1
    assert buffer.due() == []
    clock.now += 1
    assert buffer.typing("c1", "1")
    clock.now += 0.6
    assert len(buffer.due()) == 1


def test_a_group_closes_at_once_when_it_addresses_the_bot_and_ends_a_sentence():
    clock = FakeClock()
    buffer = FragmentBuffer(window=3, max_seconds=15, clock=clock)
    assert buffer.add(message("hey dit", mid="1"), address=ADDRESSED, seq=1) is None
    group = buffer.add(message("what did bob say?", mid="2"), address=NOT_ADDRESSED, seq=2)
    assert group is not None
    assert group.address.addressed
    assert len(buffer) == 0


def test_different_authors_never_share_a_group():
    clock = FakeClock()
    buffer = FragmentBuffer(window=3, max_seconds=15, clock=clock)
    buffer.add(message("a", mid="1"), address=NOT_ADDRESSED, seq=1)
    buffer.add(message("b", mid="2", author=MemberRef(id="2", display_name="bob")), address=NOT_ADDRESSED, seq=2)
    clock.now += 3
    assert len(buffer.due()) == 2


# Signals and late addressing.


def item(mid: str, author: str, content: str, *, minutes_ago: float, is_bot: bool = False, **extra) -> LiveItem:
    values: dict[str, Any] = {
        "transcript_id": int(mid.strip("m")) if mid.strip("m").isdigit() else 0,
        "seq": int(mid.strip("m")) if mid.strip("m").isdigit() else 0,
        "platform": "discord",
        "message_id": mid,
        "guild_id": "g1",
        "channel_id": "c1",
        "channel_name": "general",
        "is_dm": False,
        "author_id": author,
        "author_display_name": author,
        "author_is_bot": is_bot,
        "role": "bot" if is_bot else "user",
        "content": content,
        "edited": False,
        "reply_to_author_id": "",
        "mentions": (),
        "created_at": NOW - timedelta(minutes=minutes_ago),
    }
    values.update(extra)
    return LiveItem(**values)


def test_channel_signals_read_activity_lull_presence_and_the_bots_last_word():
    items = [
        item("m1", "alice", "morning", minutes_ago=30),
        item("m2", "dit", "hey", minutes_ago=20, is_bot=True),
        item("m3", "bob", "anyone seen the game?", minutes_ago=4),
        item("m4", "alice", "@dit thoughts?", minutes_ago=0),
    ]
    signals = channel_signals(items, turn_message_ids={"m4"}, own_user_ids={"dit"}, now=NOW)
    assert signals.lull_seconds == pytest.approx(240)
    assert signals.present_users == ("alice", "bob")
    assert signals.seconds_since_bot_spoke == pytest.approx(1200)
    assert signals.unanswered_questions == 1
    assert signals.activity_per_minute == pytest.approx(2 / 5)


def test_a_bare_nudge_points_back_at_the_authors_unanswered_question():
    items = [
        item("m1", "alice", "what's the capital of Peru?", minutes_ago=3),
        item("m2", "bob", "lol", minutes_ago=2),
        item("m3", "alice", "<@9> ^^", minutes_ago=0),
    ]
    found = find_late_question(
        items, author_id="alice", nudge_message_ids={"m3"}, own_user_ids={"9"}, now=NOW, window_seconds=600
    )
    assert found is not None
    assert found.message_id == "m1"


def test_a_question_the_bot_already_answered_is_not_picked_up_again():
    items = [
        item("m1", "alice", "what's the capital of Peru?", minutes_ago=3),
        item("m2", "9", "Lima", minutes_ago=2, is_bot=True),
        item("m3", "alice", "<@9> ^^", minutes_ago=0),
    ]
    assert (
        find_late_question(
            items, author_id="alice", nudge_message_ids={"m3"}, own_user_ids={"9"}, now=NOW, window_seconds=600
        )
        is None
    )


def test_an_old_question_is_not_picked_up():
    items = [
        item("m1", "alice", "what's the capital of Peru?", minutes_ago=30),
        item("m3", "alice", "dit?", minutes_ago=0),
    ]
    assert (
        find_late_question(
            items,
            author_id="alice",
            nudge_message_ids={"m3"},
            own_user_ids=(),
            now=NOW,
            window_seconds=600,
            names=["dit"],
        )
        is None
    )


# Interruptions.


def arrival(content: str) -> Arrival:
    return Arrival(
        seq=1, message_id="x", author_id="2", author_name="bob", is_human=True, is_own=False, content=content
    )


def test_an_interruption_aborts_the_rest_of_a_burst_by_default():
    handling = route_interruption(interrupting=[arrival("wait that's wrong")], addresses=[NOT_ADDRESSED], remaining=3)
    assert handling == InterruptionHandling.ABORTED


def test_an_interruption_that_addresses_the_bot_is_folded_in():
    handling = route_interruption(interrupting=[arrival("dit, go on")], addresses=[ADDRESSED], remaining=3)
    assert handling == InterruptionHandling.FOLDED


def test_a_backchannel_lets_a_short_remainder_continue():
    assert route_interruption(interrupting=[arrival("lol")], addresses=[NOT_ADDRESSED], remaining=1) == (
        InterruptionHandling.CONTINUED
    )
    assert route_interruption(interrupting=[arrival("lol")], addresses=[NOT_ADDRESSED], remaining=4) == (
        InterruptionHandling.ABORTED
    )


def test_the_ledger_records_each_message_once_and_lists_later_arrivals():
    ledger = ChannelLedger()
    first = ledger.record(message(mid="1"), is_own=False)
    assert ledger.record(message(mid="1"), is_own=False) is None
    ledger.record(message(mid="2"), is_own=False)
    assert first is not None
    assert [a.message_id for a in ledger.since("c1", first.seq)] == ["2"]


# Config.


def test_host_config_reads_declared_settings_then_the_environment_then_defaults():
    fields = [SettingField(key="FRAGMENT_WINDOW_SECONDS", type=FieldType.NUMBER, label="w", group="g", default=1)]
    config = HostConfig.from_settings(
        BotSettings(fields, environ={}), environ={"ALLOWED_BOTS": "5, 6", "MUTE_MINUTES": "15"}
    )
    assert config.fragment_window_seconds == 1.0
    assert config.allowed_bots == frozenset({"5", "6"})
    assert config.mute_minutes == 15.0
    assert config.bot_reply_chain_max == 3


def test_host_config_names_the_key_of_a_bad_value():
    with pytest.raises(HostConfigurationError, match="REQUIRE_MENTION"):
        HostConfig.from_settings(BotSettings((), environ={}), environ={"REQUIRE_MENTION": "maybe"})


@pytest.mark.parametrize(
    ("environ", "key"),
    [({"ROUTER_OFF_AXIS_RATE": "5"}, "ROUTER_OFF_AXIS_RATE"), ({"ROUTER_TEMPERATURE": "-1"}, "ROUTER_TEMPERATURE")],
)
def test_a_bad_router_setting_is_reported_under_its_own_key(environ, key):
    with pytest.raises(HostConfigurationError) as caught:
        HostConfig.from_settings(BotSettings((), environ={}), environ=environ)

    assert caught.value.extra["key"] == key
