"""Fragments: back-to-back messages from one author in one channel read as one turn."""

from __future__ import annotations

from bots.adapters.base import MemberRef
from bots.host.addressing import NOT_ADDRESSED
from bots.host.fragments import FragmentBuffer
from bots.host.tests.builders import ADDRESSED, FakeClock, message


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


def test_someone_else_speaking_closes_the_open_group_before_their_message():
    clock = FakeClock()
    buffer = FragmentBuffer(window=3, max_seconds=15, clock=clock)
    bob = MemberRef(id="2", display_name="bob")
    buffer.add(message("has anyone seen my keys?", mid="1"), address=NOT_ADDRESSED, seq=1)

    [closed] = buffer.someone_spoke("c1", bob.id)
    buffer.add(message("on the hook", mid="2", author=bob), address=NOT_ADDRESSED, seq=2)
    [bobs] = buffer.someone_spoke("c1", "1")
    buffer.add(message("thanks", mid="3"), address=NOT_ADDRESSED, seq=3)

    assert [m.message.id for m in closed.messages] == ["1"]
    assert [m.message.id for m in bobs.messages] == ["2"]
    assert [[m.message.id for m in g.messages] for g in buffer.flush()] == [["3"]]


def test_the_author_adding_more_keeps_their_group_open():
    clock = FakeClock()
    buffer = FragmentBuffer(window=3, max_seconds=15, clock=clock)
    buffer.add(message("so", mid="1"), address=NOT_ADDRESSED, seq=1)

    assert buffer.someone_spoke("c1", "1") == []
    assert buffer.someone_spoke("other-channel", "2") == []
    buffer.add(message("about rust", mid="2"), address=NOT_ADDRESSED, seq=2)
    [group] = buffer.flush()
    assert [m.message.id for m in group.messages] == ["1", "2"]
