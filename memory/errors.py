"""Errors of the memory app, part of the project's one ApplicationError hierarchy."""

from __future__ import annotations

from dit_project.errors import ApplicationError


class TranscriptImmutable(ApplicationError):
    """A transcript or revision row was about to be changed or deleted outside the retention service."""

    code = "transcript_immutable"
    status = 409


class InvalidIngestMessage(ApplicationError):
    """An inbound message handed to ingest is malformed; the message names the field."""

    code = "invalid_ingest_message"
    status = 400


class InvalidContextScope(ApplicationError):
    """A context scope contradicts itself (a DM with a guild id, a guild turn without one)."""

    code = "invalid_context_scope"
    status = 400


class UnknownContextStrategy(ApplicationError):
    """A context strategy id that is not one of the declared ids."""

    code = "unknown_context_strategy"
    status = 400


class MemoryWriteRefused(ApplicationError):
    """A derived memory row was asked for without what every row needs (sources in one scope, a subject)."""

    code = "memory_write_refused"
    status = 400


class EpochError(ApplicationError):
    """An epoch cannot be closed or summarized as asked; the message says why."""

    code = "epoch_error"
    status = 400


class ForgetError(ApplicationError):
    """A forget-me request cannot be carried out as given."""

    code = "forget_error"
    status = 400
