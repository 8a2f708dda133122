"""Ingest: idempotent on the platform message id, edits as revisions, one event per new row after commit."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import connection, connections, transaction
from django.utils import timezone

from memory.errors import InvalidIngestMessage
from memory.ingest import aingest_message, ingest_message
from memory.models import Transcript, TranscriptRevision
from memory.tests.factories import IngestMessageFactory
from reactor.choices import EventKind
from reactor.models import ReactorEvent

pytestmark = pytest.mark.django_db

LOCK_WAIT_TIMEOUT = 30.0


def test_ingesting_a_new_message_stores_it_as_one_transcript_row():
    msg = IngestMessageFactory.build(content="hello there", mentions=("u-bob",), reply_to_author_id="u-bob")

    result = ingest_message(msg)

    assert result.created is True
    stored = Transcript.objects.get(platform="discord", message_id=msg.message_id)
    assert stored.pk == result.transcript.pk
    assert stored.content == "hello there"
    assert stored.mentions == ["u-bob"]
    assert stored.reply_to_author_id == "u-bob"
    assert stored.seq == result.transcript.seq
    assert stored.ingested_at is not None


def test_ingesting_the_same_message_twice_stores_it_once_and_reports_not_created():
    msg = IngestMessageFactory.build()

    first = ingest_message(msg)
    second = ingest_message(msg)

    assert first.created is True
    assert second.created is False
    assert second.transcript.pk == first.transcript.pk
    assert second.revision is None
    assert Transcript.objects.filter(message_id=msg.message_id).count() == 1


def test_the_same_message_id_on_another_platform_is_another_message():
    ingest_message(IngestMessageFactory.build(message_id="42", platform="discord"))

    result = ingest_message(IngestMessageFactory.build(message_id="42", platform="local"))

    assert result.created is True
    assert Transcript.objects.filter(message_id="42").count() == 2


def test_transcripts_get_increasing_seq_in_arrival_order():
    seqs = [ingest_message(IngestMessageFactory.build()).transcript.seq for _ in range(5)]

    assert seqs == sorted(seqs)
    assert len(set(seqs)) == 5


def test_a_new_message_appends_one_message_ingested_event_without_its_words(django_capture_on_commit_callbacks):
    msg = IngestMessageFactory.build(content="a secret-ish sentence", mentions=("u-bob",))

    with django_capture_on_commit_callbacks():
        result = ingest_message(msg)

    event = ReactorEvent.objects.get()
    assert event.kind == EventKind.MESSAGE_INGESTED
    assert event.guild_id == msg.guild_id
    assert event.channel_id == msg.channel_id
    assert event.idempotency_key == f"message.ingested:discord:{msg.message_id}"
    assert event.payload["transcript_id"] == result.transcript.pk
    assert event.payload["seq"] == result.transcript.seq
    assert event.payload["mentions"] == ["u-bob"]
    assert "a secret-ish sentence" not in str(event.payload)


def test_a_redelivered_message_emits_no_second_event(django_capture_on_commit_callbacks):
    msg = IngestMessageFactory.build()
    ingest_message(msg)

    with django_capture_on_commit_callbacks() as callbacks:
        ingest_message(msg)

    assert callbacks == []
    assert ReactorEvent.objects.count() == 1


def test_the_ingested_event_is_announced_only_after_commit(django_capture_on_commit_callbacks, announced_events):
    msg = IngestMessageFactory.build()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = ingest_message(msg)
    assert announced_events == []
    assert len(callbacks) == 1

    callbacks[0]()

    assert [event.kind for event in announced_events] == [EventKind.MESSAGE_INGESTED]
    assert announced_events[0].payload["transcript_id"] == result.transcript.pk


def test_a_rolled_back_ingest_leaves_neither_transcript_nor_event(django_capture_on_commit_callbacks, announced_events):
    msg = IngestMessageFactory.build()

    def ingest_then_fail() -> None:
        with transaction.atomic():
            ingest_message(msg)
            raise RuntimeError("the caller's work failed after ingest")

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        ingest_then_fail()

    assert callbacks == []
    assert announced_events == []
    assert not Transcript.objects.filter(message_id=msg.message_id).exists()
    assert not ReactorEvent.objects.exists()


def test_an_edit_is_stored_as_a_revision_and_the_original_is_untouched(django_capture_on_commit_callbacks):
    posted = timezone.now()
    original = IngestMessageFactory.build(content="teh plan", created_at=posted)
    ingest_message(original)
    edit = IngestMessageFactory.build(
        message_id=original.message_id, content="the plan", created_at=posted, edited_at=posted + timedelta(seconds=9)
    )

    with django_capture_on_commit_callbacks():
        result = ingest_message(edit)

    assert result.created is False
    assert result.revision is not None
    assert result.revision.content == "the plan"
    assert Transcript.objects.get(message_id=original.message_id).content == "teh plan"
    assert list(TranscriptRevision.objects.values_list("content", flat=True)) == ["the plan"]
    edited_event = ReactorEvent.objects.get(kind=EventKind.MESSAGE_EDITED)
    assert edited_event.payload["revision_id"] == result.revision.pk


def test_a_redelivered_edit_is_stored_once():
    original = IngestMessageFactory.build(content="v1")
    ingest_message(original)
    edit = IngestMessageFactory.build(message_id=original.message_id, content="v2", edited_at=timezone.now())

    ingest_message(edit)
    again = ingest_message(edit)

    assert again.revision is None
    assert TranscriptRevision.objects.count() == 1
    assert ReactorEvent.objects.filter(kind=EventKind.MESSAGE_EDITED).count() == 1


def test_a_redelivered_original_after_an_edit_adds_no_revision():
    original = IngestMessageFactory.build(content="v1")
    ingest_message(original)
    ingest_message(IngestMessageFactory.build(message_id=original.message_id, content="v2", edited_at=timezone.now()))

    result = ingest_message(original)

    assert result.revision is None
    assert list(TranscriptRevision.objects.values_list("content", flat=True)) == ["v2"]


def test_each_distinct_edit_adds_its_own_revision():
    original = IngestMessageFactory.build(content="v1")
    ingest_message(original)
    start = timezone.now()
    for n, words in enumerate(("v2", "v3"), start=1):
        edited_at = start + timedelta(seconds=n)
        ingest_message(IngestMessageFactory.build(message_id=original.message_id, content=words, edited_at=edited_at))

    assert list(TranscriptRevision.objects.order_by("edited_at").values_list("content", flat=True)) == ["v2", "v3"]


def test_an_edit_that_leaves_the_words_unchanged_adds_no_revision():
    original = IngestMessageFactory.build(content="same words")
    ingest_message(original)

    result = ingest_message(
        IngestMessageFactory.build(message_id=original.message_id, content="same words", edited_at=timezone.now())
    )

    assert result.revision is None
    assert not TranscriptRevision.objects.exists()


def test_an_edit_of_a_message_never_seen_is_stored_as_its_transcript():
    edit = IngestMessageFactory.build(content="edited before we saw it", edited_at=timezone.now())

    result = ingest_message(edit)

    assert result.created is True
    assert result.transcript.content == "edited before we saw it"
    assert not TranscriptRevision.objects.exists()


def test_a_direct_message_is_stored_without_a_guild():
    result = ingest_message(IngestMessageFactory.build(dm=True))

    assert result.transcript.is_dm is True
    assert result.transcript.guild_id == ""


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"message_id": ""}, "message_id"),
        ({"platform": ""}, "platform"),
        ({"channel_id": ""}, "channel_id"),
        ({"author_id": ""}, "author_id"),
        ({"is_dm": True}, "guild_id"),
        ({"guild_id": ""}, "guild_id"),
        ({"created_at": timezone.now().replace(tzinfo=None)}, "created_at"),
        ({"edited_at": timezone.now().replace(tzinfo=None)}, "edited_at"),
        ({"channel_name": "x" * 201}, "channel_name"),
        ({"content": "nul \x00 byte"}, "content"),
        ({"role": "narrator"}, "role"),
        ({"mentions": ["u-bob"]}, "mentions"),
        ({"mentions": ("",)}, "mentions"),
    ],
)
def test_a_malformed_message_is_refused_with_an_error_naming_the_field(overrides: dict[str, Any], field: str):
    with pytest.raises(InvalidIngestMessage) as caught:
        IngestMessageFactory.build(**overrides)

    assert caught.value.extra["field"] == field
    assert field in caught.value.message
    assert not Transcript.objects.exists()


def _collect(results: dict[str, Any], name: str, work: Any) -> None:
    try:
        results[name] = work()
    except BaseException as exc:  # noqa: BLE001 - re-raised in the test thread below
        results[name] = exc
    finally:
        connections.close_all()


def _wait_until_a_backend_waits_on_a_lock() -> bool:
    deadline = time.monotonic() + LOCK_WAIT_TIMEOUT
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0] > 0:
                return True
            time.sleep(0.01)
    return False


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicate_ingest_from_two_threads_stores_one_row():
    msg = IngestMessageFactory.build()
    results: dict[str, Any] = {}
    first_inserted = threading.Event()
    release_first = threading.Event()

    def first() -> Any:
        with transaction.atomic():
            outcome = ingest_message(msg)
            first_inserted.set()
            release_first.wait(LOCK_WAIT_TIMEOUT)
        return outcome

    first_thread = threading.Thread(target=_collect, args=(results, "first", first))
    first_thread.start()
    assert first_inserted.wait(LOCK_WAIT_TIMEOUT)
    second_thread = threading.Thread(target=_collect, args=(results, "second", lambda: ingest_message(msg)))
    second_thread.start()
    # The second insert must wait on the first's uncommitted row rather than store a second one.
    blocked = _wait_until_a_backend_waits_on_a_lock()
    release_first.set()
    first_thread.join(LOCK_WAIT_TIMEOUT)
    second_thread.join(LOCK_WAIT_TIMEOUT)

    assert blocked
    for outcome in results.values():
        if isinstance(outcome, BaseException):
            raise outcome
    assert results["first"].created is True
    assert results["second"].created is False
    assert results["second"].transcript.pk == results["first"].transcript.pk
    assert Transcript.objects.filter(message_id=msg.message_id).count() == 1
    assert ReactorEvent.objects.filter(kind=EventKind.MESSAGE_INGESTED).count() == 1


@pytest.mark.django_db(transaction=True)
def test_many_threads_racing_on_one_message_create_it_exactly_once():
    msg = IngestMessageFactory.build()
    start = threading.Barrier(6)
    results: dict[str, Any] = {}

    def racer() -> Any:
        start.wait(LOCK_WAIT_TIMEOUT)
        return ingest_message(msg)

    threads = [threading.Thread(target=_collect, args=(results, f"t{n}", racer)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(LOCK_WAIT_TIMEOUT)

    outcomes = list(results.values())
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
    assert sorted(outcome.created for outcome in outcomes) == [False] * 5 + [True]
    assert len({outcome.transcript.pk for outcome in outcomes}) == 1
    assert Transcript.objects.filter(message_id=msg.message_id).count() == 1
    assert ReactorEvent.objects.count() == 1


@pytest.mark.django_db(transaction=True)
async def test_aingest_message_stores_a_message_from_the_event_loop():
    msg = IngestMessageFactory.build()

    try:
        first = await aingest_message(msg)
        second = await aingest_message(msg)
        stored = await Transcript.objects.filter(message_id=msg.message_id).acount()
    finally:
        # The ORM's worker thread keeps its own connection; close it so the test database can be dropped.
        await sync_to_async(connections.close_all)()

    assert (first.created, second.created) == (True, False)
    assert stored == 1
