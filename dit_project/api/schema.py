"""OpenAPI post-processing: every operation documents the project's one error shape for each error status.

drf-spectacular documents the responses a view declares; errors that any endpoint can answer (a bad
body, no login, no permission, a body too large, throttling, a service down) are added here so the
schema tells the truth about every response.
"""

from __future__ import annotations

from typing import Any

ERROR_COMPONENT: dict[str, Any] = {
    "type": "object",
    "description": "The body of every error response.",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string", "description": "A stable code to branch on (invalid, not_found, ...)."},
                "message": {"type": "string", "description": "What was wrong and how to fix it."},
                "fields": {
                    "type": "object",
                    "additionalProperties": {},
                    "description": "Validation errors by field name (`invalid` only).",
                },
                "retry_after": {"type": "integer", "description": "Seconds to wait before trying again."},
            },
            "required": ["code", "message"],
            "additionalProperties": {},
        }
    },
    "required": ["error"],
}

ERROR_STATUSES: dict[str, str] = {
    "400": "The request is invalid; `error.fields` names each field that is wrong.",
    "401": "No valid credentials were sent.",
    "403": "The credentials may not do this (writes are for staff).",
    "404": "No such object.",
    "405": "The method is not allowed here.",
    "406": "The Accept header asks for a format the API does not send.",
    "409": "The request conflicts with the current state (e.g. a slug in use, a bot with history).",
    "413": "The request body is larger than this endpoint accepts.",
    "415": "The body is not JSON.",
    "429": "Too many requests; Retry-After says when to try again.",
    "503": "PostgreSQL or Redis is not answering; Retry-After says when to try again.",
}
ERROR_REF = {"$ref": "#/components/schemas/Error"}


def error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """A drf-spectacular postprocessing hook: add the Error component and an error response per status."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_COMPONENT
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for status, description in ERROR_STATUSES.items():
                responses[status] = {
                    "description": description,
                    "content": {"application/json": {"schema": ERROR_REF}},
                }
    return result
