"""The API's one request parser: JSON, refused with a 413 past the endpoint's body limit.

DRF reads the request stream itself, so Django's DATA_UPLOAD_MAX_MEMORY_SIZE never applies to the API;
this parser is where the limit is kept. A view may set `max_body_bytes`; the default is
DIT_API_MAX_BODY_BYTES.

JSON can carry text PostgreSQL cannot store: a NUL character (`\\u0000`), which no text or jsonb column
holds, and a lone surrogate (`\\ud800`), which is not UTF-8. Such a body is a 400 naming where the text
is, before any serializer, lookup or filter sends it to the database. A view can name that error its
own way with a method `unstorable_text_error(where, reason) -> Exception`.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import JSONParser

from dit_project.errors import PayloadTooLarge


def body_limit(view: object) -> int:
    """The body limit, in bytes, of the endpoint a request goes to."""
    limit = getattr(view, "max_body_bytes", None)
    return int(limit) if limit is not None else int(settings.DIT_API_MAX_BODY_BYTES)


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"The request body is larger than this endpoint accepts ({limit} bytes)", limit=limit)


def _unstorable(text: str) -> str | None:
    """Why PostgreSQL cannot store `text`, or None when it can."""
    if "\x00" in text:
        return "Text cannot contain the NUL character (\\u0000)."
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "Text cannot contain a lone surrogate (\\ud800-\\udfff); it is not UTF-8."
    return None


def unstorable_text(data: Any, path: str = "") -> tuple[str, str] | None:
    """The first place in parsed JSON holding text PostgreSQL cannot store, as (path, reason), or None.

    Paths read like `settings.tags[2]`; a key that cannot be stored is reported at its own path.
    """
    if isinstance(data, str):
        reason = _unstorable(data)
        return (path or "non_field_errors", reason) if reason else None
    if isinstance(data, Mapping):
        for key, value in data.items():
            where = f"{path}.{key}" if path else str(key)
            reason = _unstorable(str(key))
            if reason:
                return where, reason
            found = unstorable_text(value, where)
            if found:
                return found
    elif isinstance(data, list):
        for index, item in enumerate(data):
            found = unstorable_text(item, f"{path}[{index}]")
            if found:
                return found
    return None


class LimitedJSONParser(JSONParser):
    """JSONParser that reads at most the endpoint's body limit."""

    def parse(
        self, stream: IO[Any], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:
        """Parse the body as JSON; PayloadTooLarge before reading past the limit, a 400 for unstorable text."""
        context = parser_context or {}
        limit = body_limit(context.get("view"))
        request = context.get("request")
        declared = request.META.get("CONTENT_LENGTH") if request is not None else None
        if declared and str(declared).isdigit() and int(declared) > limit:
            raise _too_large(limit)
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise _too_large(limit)
        data = super().parse(io.BytesIO(raw), media_type, parser_context)
        found = unstorable_text(data)
        if found:
            where, reason = found
            # A view whose body is one value names the error its own way (a bot setting, say).
            own_error = getattr(context.get("view"), "unstorable_text_error", None)
            raise own_error(where, reason) if own_error is not None else ValidationError({where: [reason]})
        return data
