"""Addressing: when a message is said to the bot, and how."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bots.adapters.base import ChannelKind, ChannelRef, GuildRef, InboundMessage, MemberRef, MessageRef, ReplyRef
from bots.host.addressing import BotIdentity, detect_address
from dispositions.choices import AddressKind

GUILD = GuildRef(id="g1", name="guild")
GENERAL = ChannelRef(id="c1", name="general", guild=GUILD)
SOL = BotIdentity.build(user_id="900", names=["Sol", "sunny"], role_ids=["r-sol"])
ALICE = MemberRef(id="1", display_name="alice")


def message(content: str, *, channel: ChannelRef = GENERAL, **extra) -> InboundMessage:
    return InboundMessage(
        platform="discord",
        message=MessageRef(channel=channel, id="m1"),
        guild=channel.guild,
        channel=channel,
        author=ALICE,
        content=content,
        created_at=datetime.now(UTC),
        **extra,
    )


def test_a_mention_of_the_bot_addresses_it():
    address = detect_address(message("<@900> hi", mentioned_user_ids=("900",)), bot=SOL)
    assert (address.addressed, address.kind) == (True, AddressKind.MENTION)


def test_a_reply_to_the_bots_message_addresses_it():
    reply = ReplyRef(message=MessageRef(channel=GENERAL, id="b1"), author_id="900")
    address = detect_address(message("ok", reply_to=reply, mentioned_user_ids=("900",)), bot=SOL)
    assert (address.addressed, address.kind) == (True, AddressKind.REPLY)


def test_a_reply_to_a_message_the_bot_sent_addresses_it_when_the_author_is_unknown():
    reply = ReplyRef(message=MessageRef(channel=GENERAL, id="b1"), author_id=None)
    address = detect_address(message("ok", reply_to=reply), bot=SOL, bot_message_ids={"b1"})
    assert address.kind == AddressKind.REPLY


@pytest.mark.parametrize("text", ["Sol, what's the capital of Peru?", "what do you think sol", "hey SUNNY!"])
def test_the_bots_name_or_nickname_as_a_whole_word_addresses_it(text):
    address = detect_address(message(text), bot=SOL)
    assert (address.addressed, address.kind) == (True, AddressKind.NAME)


@pytest.mark.parametrize("text", ["our solar panels are great", "console logs", "sunnyside up"])
def test_a_name_inside_another_word_does_not_address_the_bot(text):
    assert not detect_address(message(text), bot=SOL).addressed


def test_a_message_in_a_thread_the_bot_started_addresses_it():
    thread = ChannelRef(id="t1", name="t", guild=GUILD, kind=ChannelKind.THREAD, parent_id="c1", owner_id="900")
    address = detect_address(message("and another thing", channel=thread), bot=SOL)
    assert (address.addressed, address.kind) == (True, AddressKind.THREAD)


def test_a_thread_someone_else_started_does_not_address_the_bot():
    thread = ChannelRef(id="t1", name="t", guild=GUILD, kind=ChannelKind.THREAD, parent_id="c1", owner_id="1")
    assert not detect_address(message("and another thing", channel=thread), bot=SOL).addressed


@pytest.mark.parametrize("flag", ["mentions_everyone", "mentions_here"])
def test_everyone_and_here_do_not_address_the_bot_by_default(flag):
    extra: dict[str, Any] = {flag: True}
    assert not detect_address(message("@everyone look", **extra), bot=SOL).addressed


def test_everyone_addresses_the_bot_when_the_setting_says_so():
    address = detect_address(message("@everyone look", mentions_everyone=True), bot=SOL, address_on_everyone=True)
    assert address.addressed


def test_a_role_ping_addresses_the_bot_only_with_the_setting_and_only_for_its_role():
    pinged = message("<@&r-sol> thoughts?", mentioned_role_ids=("r-sol",))
    assert not detect_address(pinged, bot=SOL).addressed
    assert detect_address(pinged, bot=SOL, address_on_role_ping=True).addressed
    other_role = message("<@&r-mods> thoughts?", mentioned_role_ids=("r-mods",))
    assert not detect_address(other_role, bot=SOL, address_on_role_ping=True).addressed


def test_naming_the_bot_while_mentioning_someone_else_is_for_them():
    address = detect_address(message("<@2> did you see what Sol said?", mentioned_user_ids=("2",)), bot=SOL)
    assert not address.addressed
    assert address.others_targeted


def test_a_reply_to_someone_else_that_names_the_bot_is_for_them():
    reply = ReplyRef(message=MessageRef(channel=GENERAL, id="x"), author_id="2")
    address = detect_address(message("sol agrees with you", reply_to=reply, mentioned_user_ids=("2",)), bot=SOL)
    assert not address.addressed


def test_calling_the_bot_first_addresses_it_even_with_someone_else_mentioned():
    address = detect_address(message("Sol, what do you think <@2> meant?", mentioned_user_ids=("2",)), bot=SOL)
    assert address.addressed


def test_mentioning_the_bot_and_someone_else_addresses_the_bot():
    address = detect_address(message("<@2> <@900> settle this", mentioned_user_ids=("2", "900")), bot=SOL)
    assert (address.addressed, address.kind) == (True, AddressKind.MENTION)


def test_a_direct_message_is_always_for_the_bot():
    dm = ChannelRef(id="d1", name="", kind=ChannelKind.DM)
    assert detect_address(message("hello", channel=dm), bot=SOL).addressed
