"""Errors of the gateway: each an ApplicationError with a stable code, shared by the HTTP and in-process paths."""

from __future__ import annotations

from dit_project.errors import ApplicationError, ConfigurationError


class GatewayError(ApplicationError):
    """A model call failed in a way the caller can act on."""

    code = "gateway_error"
    status = 502


class GatewayNotConfigured(ConfigurationError):
    """No provider is configured at all; the message names the settings to set."""

    code = "gateway_not_configured"
    status = 503


class BadRequest(GatewayError):
    """The request itself is wrong (a missing header, a malformed body, a 4xx from the provider); not retried."""

    code = "bad_request"
    status = 400


class AuthenticationFailed(GatewayError):
    """The bearer token is missing, unknown or revoked."""

    code = "invalid_api_key"
    status = 401


class PermissionDenied(GatewayError):
    """The token is valid but may not act as the bot it claims."""

    code = "permission_denied"
    status = 403


class UpstreamRejected(GatewayError):
    """A provider refused the call with a 4xx that retrying elsewhere would not fix (e.g. a bad API key)."""

    code = "upstream_rejected"
    status = 502


class UpstreamUnavailable(GatewayError):
    """Every route failed or is cooling down."""

    code = "upstream_unavailable"
    status = 503


class StreamInterrupted(GatewayError):
    """A stream failed after its first token; what was already sent cannot be taken back, so no failover."""

    code = "stream_interrupted"
    status = 502


class BudgetExhausted(GatewayError):
    """The guild's budget envelope for this period cannot cover the call."""

    code = "budget_exhausted"
    status = 429


class QuotaExceeded(GatewayError):
    """A policy quota (requests per minute or tokens per day) is used up."""

    code = "quota_exceeded"
    status = 429


class StateUnavailable(GatewayError):
    """Redis, which holds quotas and provider cooldowns, does not answer; the call is not made."""

    code = "service_unavailable"
    status = 503
