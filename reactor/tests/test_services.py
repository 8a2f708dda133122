"""emit_event: an append in the caller's transaction, idempotent on its key, announced after commit."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import transaction

from reactor.choices import EventKind
from reactor.errors import InvalidEvent
from reactor.models import ReactorEvent
from reactor.services import emit_event
from reactor.signals import event_committed

pytestmark = pytest.mark.django_db


def _emit(**overrides: Any) -> ReactorEvent | None:
    arguments: dict[str, Any] = {
        "kind": EventKind.MESSAGE_INGESTED,
        "payload": {"transcript_id": 7, "at": datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)},
        "guild_id": "g-1",
        "channel_id": "c-1",
        **overrides,
    }
    kind = arguments.pop("kind")
    payload = arguments.pop("payload")
    return emit_event(kind, payload, **arguments)


def test_emitting_appends_one_event_row():
    event = _emit(idempotency_key="k-1")

    stored = ReactorEvent.objects.get()
    assert event is not None
    assert stored.pk == event.pk
    assert (stored.kind, stored.guild_id, stored.channel_id) == ("message.ingested", "g-1", "c-1")
    assert stored.payload == {"transcript_id": 7, "at": "2025-01-02T03:04:05Z"}
    assert stored.idempotency_key == "k-1"
    assert stored.created_at == event.created_at


def test_the_event_is_written_in_the_callers_transaction():
    def emit_then_fail() -> None:
        with transaction.atomic():
            _emit()
            raise RuntimeError("the caller failed")

    with pytest.raises(RuntimeError):
        emit_then_fail()

    assert not ReactorEvent.objects.exists()


def test_one_idempotency_key_records_one_event(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        first = _emit(idempotency_key="message.ingested:discord:1")
        second = _emit(idempotency_key="message.ingested:discord:1")

    assert first is not None
    assert second is None
    assert ReactorEvent.objects.count() == 1
    assert len(callbacks) == 1


def test_events_without_a_key_are_all_recorded():
    _emit()
    _emit()

    assert ReactorEvent.objects.count() == 2


def test_listeners_hear_of_an_event_only_after_commit(django_capture_on_commit_callbacks, announced_events):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        event = _emit()
    assert announced_events == []

    for callback in callbacks:
        callback()

    assert announced_events == [event]


def test_a_failing_listener_is_logged_and_does_not_stop_the_others(
    django_capture_on_commit_callbacks, announced_events, caplog
):
    def broken(sender: Any, **kwargs: Any) -> None:
        raise ValueError("listener bug")

    event_committed.connect(broken, weak=False)
    try:
        with (
            caplog.at_level(logging.ERROR, logger="reactor.services"),
            django_capture_on_commit_callbacks(execute=True),
        ):
            event = _emit()
    finally:
        event_committed.disconnect(broken)

    assert announced_events == [event]
    assert "failed on reactor event" in caplog.text


def test_an_unknown_kind_is_refused():
    with pytest.raises(InvalidEvent, match="unknown event kind 'message.exploded'"):
        _emit(kind="message.exploded")

    assert not ReactorEvent.objects.exists()


def test_a_payload_that_is_not_json_is_refused_naming_the_kind():
    with pytest.raises(InvalidEvent, match="payload of message.ingested event is not JSON-serializable"):
        _emit(payload={"what": object()})

    assert not ReactorEvent.objects.exists()


def test_an_empty_idempotency_key_is_refused():
    with pytest.raises(InvalidEvent, match="idempotency_key"):
        _emit(idempotency_key="")
