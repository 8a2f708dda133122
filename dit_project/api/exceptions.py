"""One DRF exception handler: ApplicationError and DRF's own errors become one JSON shape."""

from __future__ import annotations

from typing import Any

from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from dit_project.errors import ApplicationError


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Turn an ApplicationError into `{"error": {"code", "message"}}`; leave the rest to DRF."""
    if isinstance(exc, ApplicationError):
        return Response(exc.as_dict(), status=exc.status)
    return drf_exception_handler(exc, context)
