"""Preflight: the drops made before any model call."""

from __future__ import annotations

from bots.adapters.base import ChannelRef, MemberRef
from bots.host.addressing import NOT_ADDRESSED
from bots.host.config import HostConfig
from bots.host.preflight import preflight
from bots.host.tests.builders import ADDRESSED, GUILD, message


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
