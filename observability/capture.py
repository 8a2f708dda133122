"""Capturing an exception: fingerprint it, scrub it, and hand it to one writer thread that upserts its row.

Every path shares this module: the logging handler (a turn's `logger.exception`, a reactor trigger that
failed, anything logged at ERROR with a traceback), the request receiver and Celery's `task_failure`.

Capturing never raises and never waits on the database: the caller only builds the `CapturedError` (in
memory) and queues it. The writer thread writes it on its own connection in autocommit, so an error
logged inside a transaction that later rolls back is still recorded, and a turn on the event loop is
never blocked by a write. When the database fails, or the queue is full during a storm, the event is
dropped with a warning (an upsert makes a storm of one error one row anyway).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import queue
import threading
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType

from django.conf import settings
from django.utils import timezone

from dit_project import logcontext
from dit_project.redaction import scrub
from observability.choices import ErrorSource

logger = logging.getLogger(__name__)

# Frames of project code that identify where an error comes from; line numbers are left out, since they
# move with every edit above them, and messages too, since they carry ids.
FINGERPRINT_FRAMES = 3
MAX_TRACEBACK = 8000
MAX_MESSAGE = 1000
MAX_PENDING = 200
_MARK = "_dit_captured"


@dataclass(frozen=True, slots=True)
class CapturedError:
    """One occurrence of an error, ready to be written."""

    fingerprint: str
    exception_type: str
    location: str
    message: str
    source: str
    logger_name: str
    traceback: str
    context: Mapping[str, str]
    seen_at: datetime


def _project_path(filename: str) -> str | None:
    """The file's path inside the project, or None for the standard library and installed packages."""
    path = Path(filename)
    try:
        relative = path.resolve().relative_to(Path(settings.BASE_DIR).resolve())
    except ValueError:
        return None
    if relative.parts and relative.parts[0].startswith(".") or "site-packages" in relative.parts:
        return None
    return relative.as_posix()


def _library_path(filename: str) -> str:
    parts = Path(filename).parts
    if "site-packages" in parts:
        return "/".join(parts[parts.index("site-packages") + 1 :])
    return Path(filename).name


def _frames(tb: TracebackType | None) -> list[tuple[str, str, bool]]:
    """(path, function, is project code) of each frame, outermost first; no source lines are read."""
    frames = []
    for frame, _line in traceback.walk_tb(tb):
        code = frame.f_code
        project = _project_path(code.co_filename)
        frames.append((project or _library_path(code.co_filename), code.co_name, project is not None))
    return frames


def fingerprint_of(error: BaseException) -> tuple[str, str]:
    """The error's fingerprint (type and innermost project frames, hashed) and its innermost project frame."""
    kind = f"{type(error).__module__}.{type(error).__qualname__}"
    frames = _frames(error.__traceback__)
    project = [frame for frame in frames if frame[2]] or frames
    innermost = [f"{path}:{function}" for path, function, _ in project[-FINGERPRINT_FRAMES:]]
    digest = hashlib.sha256("|".join([kind, *innermost]).encode()).hexdigest()
    return digest, innermost[-1] if innermost else ""


def source_of(context: Mapping[str, str]) -> str:
    """Where the error happened, from its context: a request, a task, a turn, or elsewhere."""
    if "request_path" in context:
        return ErrorSource.REQUEST
    if "task" in context:
        return ErrorSource.TASK
    if "decision_id" in context or "channel_id" in context:
        return ErrorSource.TURN
    return ErrorSource.TASK if "trigger_id" in context else ErrorSource.OTHER


def captured_error(
    error: BaseException, *, logger_name: str = "", context: Mapping[str, str] | None = None
) -> CapturedError:
    """The occurrence of `error` as it will be written: fingerprinted, scrubbed, with the bound log context."""
    bound = {**logcontext.current(), **{k: v for k, v in (context or {}).items() if v}}
    fingerprint, location = fingerprint_of(error)
    text = "".join(traceback.format_exception(error))
    return CapturedError(
        fingerprint=fingerprint,
        exception_type=f"{type(error).__module__}.{type(error).__qualname__}"[-255:],
        location=location[-500:],
        message=scrub(str(error))[:MAX_MESSAGE],
        source=source_of(bound),
        logger_name=logger_name[:200],
        traceback=scrub(text)[-MAX_TRACEBACK:],
        context={key: scrub(value) for key, value in bound.items()},
        seen_at=timezone.now(),
    )


def capture_exception(error: BaseException, *, logger_name: str = "", context: Mapping[str, str] | None = None) -> None:
    """Record one occurrence of `error` (once, however many paths report it); never raises, never blocks."""
    try:
        if getattr(error, _MARK, False) or _writer.is_current_thread():
            return
        # An exception type with __slots__ takes no mark: it may be captured twice, no worse.
        with contextlib.suppress(AttributeError):
            setattr(error, _MARK, True)
        _writer.submit(captured_error(error, logger_name=logger_name, context=context))
    except Exception as exc:  # noqa: BLE001 - capturing must never break the code that failed
        logger.warning("error capture failed (%s: %s); the error was not recorded", type(exc).__name__, exc)


def flush(timeout: float = 10.0) -> bool:
    """Wait until every queued error is written (or dropped); False when `timeout` ran out first."""
    return _writer.flush(timeout)


class _Writer:
    """One daemon thread per process writing queued errors; restarted in a forked child (Celery's pool)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid = 0
        self._queue: queue.Queue[CapturedError] = queue.Queue(maxsize=MAX_PENDING)
        self._thread: threading.Thread | None = None

    def is_current_thread(self) -> bool:
        return self._thread is not None and threading.current_thread() is self._thread

    def submit(self, captured: CapturedError) -> None:
        self._ensure_running()
        try:
            self._queue.put_nowait(captured)
        except queue.Full:
            logger.warning("error capture: %s errors waiting; dropped %s", MAX_PENDING, captured.exception_type)

    def flush(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def _ensure_running(self) -> None:
        with self._lock:
            if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
                return
            if self._pid != os.getpid():
                self._queue = queue.Queue(maxsize=MAX_PENDING)  # a forked child does not inherit the parent's
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._run, name="dit-error-capture", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        from django.db import connection

        from observability import services

        while True:
            captured = self._queue.get()
            try:
                services.error_event_record(captured=captured)
            except Exception as exc:  # noqa: BLE001 - a database failure drops the event, with a warning
                logger.warning(
                    "error capture: could not record %s (%s: %s); dropped",
                    captured.exception_type,
                    type(exc).__name__,
                    exc,
                )
            finally:
                # Errors are rare: a connection held between them would only keep a server slot busy.
                connection.close()
                self._queue.task_done()


_writer = _Writer()
