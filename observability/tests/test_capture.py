"""Capturing an error: one row per fingerprint, counted; secrets masked; a database failure drops it quietly."""

from __future__ import annotations

import logging

import pytest
from django.conf import settings
from django.db import connection

from dit_project import logcontext
from observability import capture
from observability.choices import ErrorSource
from observability.models import ErrorEvent

pytestmark = pytest.mark.django_db(transaction=True)


def _raise(message: str) -> None:
    raise RuntimeError(message)


def _raise_elsewhere(message: str) -> None:
    raise RuntimeError(message)


def _caught(function, message: str) -> BaseException:
    try:
        function(message)
    except RuntimeError as exc:
        return exc
    raise AssertionError("nothing was raised")


def test_one_error_from_one_place_has_one_fingerprint_whatever_its_message():
    first, _ = capture.fingerprint_of(_caught(_raise, "guild 1 failed"))
    second, location = capture.fingerprint_of(_caught(_raise, "guild 2 failed"))
    elsewhere, _ = capture.fingerprint_of(_caught(_raise_elsewhere, "guild 1 failed"))

    assert first == second
    assert first != elsewhere
    assert location == "observability/tests/test_capture.py:_raise"


def test_a_storm_of_one_error_is_one_row_counting_every_occurrence():
    for n in range(25):
        capture.capture_exception(_caught(_raise, f"attempt {n}"), logger_name="storm")
    assert capture.flush()

    event = ErrorEvent.objects.get()
    assert event.count == 25
    assert event.exception_type == "builtins.RuntimeError"
    assert event.message == "attempt 24"
    assert event.first_seen <= event.last_seen
    assert "raise RuntimeError(message)" in event.last_traceback


def test_an_error_logged_twice_on_its_way_up_is_counted_once(caplog):
    error = _caught(_raise, "once")
    logger = logging.getLogger("observability.tests")

    logger.error("first report", exc_info=error)
    logger.error("second report", exc_info=error)
    assert capture.flush()

    assert ErrorEvent.objects.get().count == 1


def test_the_log_context_is_kept_and_names_the_source():
    with logcontext.bind(guild_id="g-1", channel_id="c-1", decision_id=42):
        capture.capture_exception(_caught(_raise, "in a turn"))
    with logcontext.bind(task="reactor:probe.timer", trigger_id="t-1"):
        capture.capture_exception(_caught(_raise_elsewhere, "in a task"))
    assert capture.flush()

    turn = ErrorEvent.objects.get(location__endswith=":_raise")
    task = ErrorEvent.objects.get(location__endswith=":_raise_elsewhere")
    assert turn.source == ErrorSource.TURN
    assert turn.context == {"guild_id": "g-1", "channel_id": "c-1", "decision_id": "42"}
    assert task.source == ErrorSource.TASK
    assert task.context == {"task": "reactor:probe.timer", "trigger_id": "t-1"}


def test_secrets_are_masked_in_the_stored_message_and_traceback(settings):
    settings.OPENAI_API_KEY = "sk-live-abcdefghijklmnop"
    capture.capture_exception(
        _caught(_raise, f"provider refused key {settings.OPENAI_API_KEY} with Authorization: Bearer tok-123456789")
    )
    assert capture.flush()

    event = ErrorEvent.objects.get()
    for text in (event.message, event.last_traceback):
        assert "sk-live-abcdefghijklmnop" not in text
        assert "tok-123456789" not in text
        assert "Authorization: Bearer ••••" in text
        assert settings.SECRET_KEY not in text


def test_a_database_failure_while_capturing_logs_a_warning_and_drops_the_event(caplog):
    table = ErrorEvent._meta.db_table
    # The table is gone for a moment: the writer's upsert fails in the database itself.
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} RENAME TO {table}_away")
    try:
        capture.capture_exception(_caught(_raise, "lost"))  # returns; raises nothing
        assert capture.flush()
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {table}_away RENAME TO {table}")

    assert not ErrorEvent.objects.exists()
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("could not record builtins.RuntimeError (ProgrammingError" in w for w in warnings)
    capture.capture_exception(_caught(_raise, "recorded again"))
    assert capture.flush()
    assert ErrorEvent.objects.get().message == "recorded again"


def test_no_sentry_client_is_started_without_a_dsn():
    import sentry_sdk

    assert settings.SENTRY_DSN == ""
    assert not sentry_sdk.is_initialized()
