"""The privacy boundary decides from provenance alone what a turn may see."""

from __future__ import annotations

import pytest

from memory.choices import ContextItemKind
from memory.context import Boundary, ContextItem, ContextScope, Provenance
from memory.errors import InvalidContextScope

GUILD_TURN = ContextScope(guild_id="g-1", channel_id="c-general", is_dm=False, requester_id="u-alice")
ALICE_DM_TURN = ContextScope(guild_id="", channel_id="dm-alice", is_dm=True, requester_id="u-alice")


def _provenance(*, guild_id="g-1", channel_id="c-general", is_dm=False, subjects=("u-alice",)) -> Provenance:
    return Provenance(guild_id=guild_id, channel_id=channel_id, is_dm=is_dm, subject_user_ids=frozenset(subjects))


def test_a_guild_turn_admits_its_own_guilds_material_from_any_channel():
    assert Boundary(GUILD_TURN).admits(_provenance(channel_id="c-random", subjects=("u-bob",)))


def test_a_guild_turn_refuses_dm_material():
    assert not Boundary(GUILD_TURN).admits(_provenance(guild_id="", channel_id="dm-alice", is_dm=True))


def test_a_guild_turn_refuses_material_drawn_from_dms_even_if_tagged_with_the_guild():
    assert not Boundary(GUILD_TURN).admits(_provenance(is_dm=True))


def test_a_guild_turn_refuses_another_guilds_material():
    assert not Boundary(GUILD_TURN).admits(_provenance(guild_id="g-2"))


def test_a_dm_turn_admits_its_own_dm_channel_including_the_bots_lines():
    assert Boundary(ALICE_DM_TURN).admits(_provenance(guild_id="", channel_id="dm-alice", is_dm=True, subjects=()))


def test_a_dm_turn_admits_dm_material_about_the_requester_alone():
    assert Boundary(ALICE_DM_TURN).admits(_provenance(guild_id="", channel_id="dm-elsewhere", is_dm=True))


def test_a_dm_turn_refuses_another_users_dm_material():
    bobs = _provenance(guild_id="", channel_id="dm-bob", is_dm=True, subjects=("u-bob",))

    assert not Boundary(ALICE_DM_TURN).admits(bobs)


def test_a_dm_turn_refuses_dm_material_that_is_also_about_someone_else():
    about_both = _provenance(guild_id="", channel_id="dm-bob", is_dm=True, subjects=("u-bob", "u-alice"))

    assert not Boundary(ALICE_DM_TURN).admits(about_both)


def test_a_dm_turn_refuses_unattributed_dm_material_from_another_channel():
    assert not Boundary(ALICE_DM_TURN).admits(_provenance(guild_id="", channel_id="dm-x", is_dm=True, subjects=()))


def test_a_dm_turn_refuses_guild_material():
    assert not Boundary(ALICE_DM_TURN).admits(_provenance())


def test_apply_keeps_admitted_items_in_order_and_counts_the_rest():
    def item(text: str, provenance: Provenance) -> ContextItem:
        return ContextItem(kind=ContextItemKind.MESSAGE, text=text, provenance=provenance, source=text)

    items = [
        item("a", _provenance()),
        item("b", _provenance(guild_id="", channel_id="dm-alice", is_dm=True)),
        item("c", _provenance(channel_id="c-random")),
    ]

    kept, dropped = Boundary(GUILD_TURN).apply(items)

    assert [i.text for i in kept] == ["a", "c"]
    assert dropped == 1


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"guild_id": "g-1", "is_dm": True}, "guild_id"),
        ({"guild_id": "", "is_dm": False}, "guild_id"),
        ({"guild_id": "g-1", "is_dm": False, "channel_id": ""}, "channel_id"),
        ({"guild_id": "g-1", "is_dm": False, "requester_id": ""}, "requester_id"),
    ],
)
def test_a_self_contradicting_turn_scope_is_refused(fields, field):
    values = {"channel_id": "c-general", "requester_id": "u-alice", **fields}

    with pytest.raises(InvalidContextScope) as caught:
        ContextScope(**values)

    assert caught.value.extra["field"] == field
