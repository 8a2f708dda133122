"""The trigger language refuses malformed declarations at import, naming what to fix."""

from __future__ import annotations

from datetime import timedelta

import pytest

from reactor.choices import EventKind
from reactor.declare import Declaration, Registry, after, all_of, any_of, describe, on, per_channel, when
from reactor.errors import InvalidDeclaration


def _effect(run):
    return None


def test_after_takes_exactly_one_of_delay_or_silence():
    with pytest.raises(InvalidDeclaration, match="exactly one of delay or silence"):
        after(on=EventKind.MESSAGE_INGESTED)
    with pytest.raises(InvalidDeclaration, match="exactly one"):
        after(timedelta(1), silence=timedelta(1), on=EventKind.MESSAGE_INGESTED)


def test_an_unknown_event_kind_is_refused():
    with pytest.raises(InvalidDeclaration, match="unknown event kind 'message.exploded'"):
        on("message.exploded")


def test_composite_parts_are_keyed_by_the_composite_not_by_themselves():
    with pytest.raises(InvalidDeclaration, match="key the composite"):
        all_of(on(EventKind.MESSAGE_INGESTED, key=per_channel))


def test_a_composite_has_at_most_one_timer_part():
    quiet = after(silence=timedelta(minutes=1), on=EventKind.MESSAGE_INGESTED)
    with pytest.raises(InvalidDeclaration, match="at most one after"):
        any_of(quiet, quiet)


def test_one_kind_declared_twice_with_different_effects_is_an_error():
    registry = Registry()
    registry.add(Declaration(kind="x.one", effect=_effect))

    def other(run):
        return None

    with pytest.raises(InvalidDeclaration, match="declared twice"):
        registry.add(Declaration(kind="x.one", effect=other))
    assert registry.add(Declaration(kind="x.one", effect=_effect)).effect is _effect


def test_a_condition_is_stored_as_data():
    def quiet_enough(run):
        return True

    condition = all_of(
        on(EventKind.REACTION_ADDED),
        after(silence=timedelta(seconds=90), on=EventKind.MESSAGE_INGESTED),
        when(quiet_enough),
        within=timedelta(hours=1),
    )

    assert describe(condition) == {
        "all_of": [
            {"on": ["reaction.added"]},
            {"silence": 90.0, "on": ["message.ingested"]},
            {"when": "quiet_enough", "on": []},
        ],
        "within_seconds": 3600.0,
    }


def test_the_registry_lists_declarations_by_the_events_they_listen_to():
    registry = Registry()
    declaration = Declaration(
        kind="x.quiet",
        effect=_effect,
        condition=after(silence=timedelta(1), on=EventKind.MESSAGE_INGESTED, cancel_on=[EventKind.MUTE_EXPIRED]),
    )
    registry.add(declaration)

    assert registry.for_event(EventKind.MESSAGE_INGESTED) == [declaration]
    assert registry.for_event(EventKind.MUTE_EXPIRED) == [declaration]
    assert registry.for_event(EventKind.BOT_SPOKE) == ()
