"""Receivers that capture failures no log line reports with a traceback, and name the task being run.

- `got_request_exception`: a request that raised (Django answers 500); the path is kept, not the query.
- Celery's `task_prerun`/`task_postrun`: the task's name is in the log context while it runs.
- Celery's `task_failure`: a task that raised. (The reactor's triggers never raise out of their task:
  `reactor.execution` logs the failure with its traceback, which the logging handler captures.)
"""

from __future__ import annotations

import contextvars
import sys
from collections.abc import Mapping
from typing import Any

from celery import signals as celery_signals
from django.core import signals as django_signals
from django.http import HttpRequest

from dit_project import logcontext
from observability.capture import capture_exception

# The token of the running task's context, by task id: postrun resets what prerun pushed.
_task_tokens: dict[str, contextvars.Token[Mapping[str, str]]] = {}


def request_failed(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    """Capture the exception a request raised."""
    error = sys.exc_info()[1]
    if error is not None:
        path = request.path if request is not None else None
        capture_exception(error, logger_name="django.request", context={"request_path": path} if path else None)


def task_started(sender: Any = None, task_id: str | None = None, **kwargs: Any) -> None:
    """Put the task's name in the log context."""
    if task_id is not None:
        _task_tokens[task_id] = logcontext.push(task=getattr(sender, "name", None))


def task_ended(sender: Any = None, task_id: str | None = None, **kwargs: Any) -> None:
    """Take the task's name out of the log context."""
    token = _task_tokens.pop(task_id, None) if task_id is not None else None
    if token is not None:
        logcontext.pop(token)


def task_failed(sender: Any = None, exception: BaseException | None = None, **kwargs: Any) -> None:
    """Capture the exception a task raised."""
    if exception is not None:
        capture_exception(exception, logger_name="celery.task", context={"task": getattr(sender, "name", "")})


def connect() -> None:
    """Connect every receiver (from the app's `ready`)."""
    django_signals.got_request_exception.connect(request_failed, dispatch_uid="observability.request_failed")
    celery_signals.task_prerun.connect(task_started, dispatch_uid="observability.task_started")
    celery_signals.task_postrun.connect(task_ended, dispatch_uid="observability.task_ended")
    celery_signals.task_failure.connect(task_failed, dispatch_uid="observability.task_failed")
