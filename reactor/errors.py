"""Errors of the reactor app, part of the project's one ApplicationError hierarchy."""

from __future__ import annotations

from dit_project.errors import ApplicationError


class EventLogAppendOnly(ApplicationError):
    """An event row was about to be changed: the event log only grows."""

    code = "event_log_append_only"
    status = 409


class InvalidEvent(ApplicationError):
    """An event to emit is malformed; the message names what is wrong."""

    code = "invalid_event"
    status = 400
