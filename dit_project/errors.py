"""The one error hierarchy of the project: every user-facing failure carries a code and a status."""

from __future__ import annotations

from typing import Any

# Paths whose callers are programs: their errors are JSON in the project's error shape, never HTML.
JSON_PREFIXES = ("/api/", "/v1/")


class ApplicationError(Exception):
    """A failure a user or operator can act on: a stable code, an HTTP status and a clear message."""

    code = "error"
    status = 400

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.extra = extra

    def as_dict(self) -> dict[str, Any]:
        """The JSON body returned by the API for this error."""
        return {"error": {"code": self.code, "message": self.message, **self.extra}}


class NotFound(ApplicationError):
    """The named thing does not exist."""

    code = "not_found"
    status = 404


class ConfigurationError(ApplicationError):
    """A setting is missing or wrong; the message names the setting to fix."""

    code = "configuration_error"
    status = 500


class SecretsKeyError(ConfigurationError):
    """DIT_SECRETS_KEYS holds a value that is not a Fernet key, or a stored secret cannot be decrypted."""

    code = "secrets_key_invalid"


class PayloadTooLarge(ApplicationError):
    """The request body is larger than the endpoint accepts."""

    code = "payload_too_large"
    status = 413


class ServiceUnavailable(ApplicationError):
    """A service the request needs (PostgreSQL, Redis) does not answer; trying again later may work."""

    code = "service_unavailable"
    status = 503
