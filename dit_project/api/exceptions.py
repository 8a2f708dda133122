"""One DRF exception handler: every error of the API becomes `{"error": {"code", "message", ...}}`.

The order errors are handled in:
1. an ApplicationError keeps its code, status and extra members (a `retry_after` also sets Retry-After);
2. PostgreSQL or Redis not answering becomes a 503 `service_unavailable` naming the service;
3. Django's ValidationError (model `full_clean`, unique constraints) becomes DRF's, so it is a 400;
4. DRF's own exceptions (validation, authentication, permission, 404, 405, 406, 415, throttling) keep
   their status and headers; validation errors carry the field errors under `fields`.
Anything else is left to Django (a 500), which `dit_project.urls.server_error` answers in the same shape.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import redis
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from dit_project.errors import ApplicationError, ServiceUnavailable

logger = logging.getLogger(__name__)

# How long a client should wait before trying again when a service is down.
SERVICE_RETRY_AFTER_SECONDS = 5


def service_unavailable(exc: BaseException) -> ServiceUnavailable | None:
    """The 503 for a PostgreSQL or Redis failure to answer, or None when `exc` is something else."""
    if isinstance(exc, redis.ConnectionError | redis.TimeoutError):
        service = "redis"
    elif isinstance(exc, OperationalError | InterfaceError):
        service = "database"
    else:
        return None
    logger.warning("api: %s unavailable: %s", service, exc)
    name = "Redis" if service == "redis" else "PostgreSQL"
    return ServiceUnavailable(
        f"{name} is not answering ({exc.__class__.__name__}); try again shortly",
        service=service,
        retry_after=SERVICE_RETRY_AFTER_SECONDS,
    )


def application_error_response(exc: ApplicationError) -> Response:
    """The response for an ApplicationError, with Retry-After when the error says when to come back."""
    response = Response(exc.as_dict(), status=exc.status)
    retry_after = exc.extra.get("retry_after")
    if isinstance(retry_after, int | float):
        response["Retry-After"] = str(max(1, round(retry_after)))
    return response


def _first_message(detail: Any) -> str:
    if isinstance(detail, Mapping):
        for name, value in detail.items():
            inner = _first_message(value)
            return inner if name == "non_field_errors" else f"{name}: {inner}"
        return ""
    if isinstance(detail, list | tuple):
        return _first_message(detail[0]) if detail else ""
    return str(detail)


def _validation_body(exc: exceptions.ValidationError) -> dict[str, Any]:
    detail = exc.detail
    fields = detail if isinstance(detail, Mapping) else {"non_field_errors": detail}
    return {
        "error": {
            "code": "invalid",
            "message": f"The request is invalid: {_first_message(fields)}",
            "fields": fields,
        }
    }


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Turn any API error into the project's one error shape (see the module docstring for the order)."""
    if isinstance(exc, ApplicationError):
        return application_error_response(exc)
    unavailable = service_unavailable(exc)
    if unavailable is not None:
        return application_error_response(unavailable)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or None)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = _validation_body(exc)
        return response
    code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
    detail = response.data.get("detail", "") if isinstance(response.data, Mapping) else response.data
    body: dict[str, Any] = {"code": code if isinstance(code, str) else "error", "message": str(detail)}
    wait = getattr(exc, "wait", None) if isinstance(exc, exceptions.Throttled) else None
    if isinstance(wait, int | float):
        body["retry_after"] = max(1, round(wait))
    response.data = {"error": body}
    return response
