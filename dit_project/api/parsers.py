"""The API's one request parser: JSON, refused with a 413 past the endpoint's body limit.

DRF reads the request stream itself, so Django's DATA_UPLOAD_MAX_MEMORY_SIZE never applies to the API;
this parser is where the limit is kept. A view may set `max_body_bytes`; the default is
DIT_API_MAX_BODY_BYTES.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from rest_framework.parsers import JSONParser

from dit_project.errors import PayloadTooLarge


def body_limit(view: object) -> int:
    """The body limit, in bytes, of the endpoint a request goes to."""
    limit = getattr(view, "max_body_bytes", None)
    return int(limit) if limit is not None else int(settings.DIT_API_MAX_BODY_BYTES)


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"The request body is larger than this endpoint accepts ({limit} bytes)", limit=limit)


class LimitedJSONParser(JSONParser):
    """JSONParser that reads at most the endpoint's body limit."""

    def parse(
        self, stream: IO[Any], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:
        """Parse the body as JSON, or raise PayloadTooLarge before reading more than the limit."""
        context = parser_context or {}
        limit = body_limit(context.get("view"))
        request = context.get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and str(declared).isdigit() and int(declared) > limit:
            raise _too_large(limit)
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise _too_large(limit)
        return super().parse(io.BytesIO(raw), media_type, parser_context)
