"""Errors raised by platform adapters: each says whether the caller may retry it."""

from __future__ import annotations

from typing import Any

from dit_project.errors import ApplicationError


class AdapterError(ApplicationError):
    """A platform call failed; `retryable` tells the caller whether trying again later can help."""

    code = "adapter_error"
    status = 502
    retryable = False

    def __init__(self, message: str, *, retryable: bool | None = None, **extra: Any) -> None:
        super().__init__(message, **extra)
        if retryable is not None:
            self.retryable = retryable


class AdapterAuthError(AdapterError):
    """The platform refused the bot's credentials: retrying cannot help until the token is fixed."""

    code = "adapter_auth_failed"
    status = 401
    retryable = False


class AdapterConnectionError(AdapterError):
    """The platform could not be reached or dropped the connection: back off and try again."""

    code = "adapter_connection_failed"
    status = 503
    retryable = True


class AdapterRateLimitedError(AdapterError):
    """The platform kept rate limiting a request past the adapter's patience: back off and try again."""

    code = "adapter_rate_limited"
    status = 429
    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **extra: Any) -> None:
        super().__init__(message, retry_after=retry_after, **extra)
        self.retry_after = retry_after


class AdapterRequestError(AdapterError):
    """The platform rejected one request (missing permission, unknown channel, invalid body...)."""

    code = "adapter_request_failed"


class AdapterNotReadyError(AdapterError):
    """The adapter was used before `start()` finished or after `stop()`."""

    code = "adapter_not_ready"
    status = 503
    retryable = True
