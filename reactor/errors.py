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


class InvalidDeclaration(ApplicationError):
    """A trigger declaration is malformed; raised at import, naming what to fix."""

    code = "invalid_trigger_declaration"
    status = 500


class InvalidTrigger(ApplicationError):
    """A trigger to schedule is malformed: unknown kind, naive time, a payload that is not JSON."""

    code = "invalid_trigger"
    status = 400


class TriggerNotFound(ApplicationError):
    """No trigger has that id."""

    code = "trigger_not_found"
    status = 404


class TriggerNotRequeueable(ApplicationError):
    """Only dead or cancelled triggers can be requeued."""

    code = "trigger_not_requeueable"
    status = 409


class TransientEffectError(ApplicationError):
    """Raised by an effect for a failure worth retrying (a service briefly unreachable)."""

    code = "transient_effect_error"
    status = 503
