"""The OpenAI wire format at the gateway's edge: request bodies in, completions, chunks and errors out.

Responses carry one extension the OpenAI SDK ignores and the remote client reads: a `dit` object with
the request id, the provider that answered, the cost in USD and the number of attempts.
"""

from __future__ import annotations

import base64
import json
import struct
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

from dit_project.errors import ApplicationError
from gateway import arguments
from gateway.choices import Purpose
from gateway.client import check_messages, check_purpose
from gateway.errors import BadRequest
from gateway.failover import CallRequest
from gateway.results import Completion, Embeddings, StreamEvent

# Fields the gateway handles itself rather than passing to the provider.
OWN_CHAT_FIELDS = frozenset({"model", "messages", "stream", "stream_options", "n"})
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "invalid_request_error",
    429: "rate_limit_error",
    503: "service_unavailable_error",
}


def error_body(exc: ApplicationError) -> dict[str, Any]:
    """An OpenAI-shaped error body (`{"error": {message, type, param, code}}`) for an ApplicationError."""
    error: dict[str, Any] = {
        "message": exc.message,
        "type": ERROR_TYPES.get(exc.status, "api_error"),
        "param": exc.extra.get("param"),
        "code": exc.code,
    }
    error.update({name: value for name, value in exc.extra.items() if name != "param"})
    return {"error": error}


def parse_body(raw: bytes) -> dict[str, Any]:
    """The request's JSON object, or a BadRequest saying what is wrong with it."""
    try:
        body = json.loads(raw or b"null")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(f"The body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise BadRequest("The body must be a JSON object")
    return body


def purpose_from_header(value: str | None, *, default: str | None = None) -> str:
    """The x-dit-purpose header, checked; missing is a BadRequest unless a default applies."""
    if not value:
        if default is not None:
            return default
        raise BadRequest(
            f"The x-dit-purpose header is required; use one of: {', '.join(Purpose.values)}", param="x-dit-purpose"
        )
    return check_purpose(value.strip())


def chat_request(
    body: Mapping[str, Any], *, purpose: str, bot_id: int, guild_id: str | None
) -> tuple[CallRequest, bool, bool]:
    """A chat body as a CallRequest, with whether to stream and whether to send a usage chunk."""
    model = body.get("model")
    if model is not None and not isinstance(model, str):
        raise BadRequest("model must be a string", param="model")
    if body.get("n") not in (None, 1):
        raise BadRequest("The gateway returns one choice: n must be 1", param="n")
    stream = body.get("stream") or False
    if not isinstance(stream, bool):
        raise BadRequest("stream must be true or false", param="stream")
    options = body.get("stream_options") or {}
    if not isinstance(options, Mapping):
        raise BadRequest('stream_options must be an object such as {"include_usage": true}', param="stream_options")
    include_usage = bool(options.get("include_usage"))
    params = {name: value for name, value in body.items() if name not in OWN_CHAT_FIELDS}
    params["messages"] = check_messages(body.get("messages"))
    arguments.check_chat_params(params)
    request = CallRequest(kind="chat", purpose=purpose, params=params, bot_id=bot_id, guild_id=guild_id, model=model)
    return request, stream, include_usage


def embeddings_request(body: Mapping[str, Any], *, bot_id: int, guild_id: str | None) -> tuple[CallRequest, str]:
    """An embeddings body as a CallRequest, with the encoding the client asked for."""
    inputs = body.get("input")
    if isinstance(inputs, str):
        inputs = [inputs]
    if not isinstance(inputs, list) or not inputs or not all(isinstance(item, str) for item in inputs):
        raise BadRequest("input must be a string or a non-empty list of strings (token arrays are not supported)")
    encoding = body.get("encoding_format") or "float"
    if encoding not in ("float", "base64"):
        raise BadRequest("encoding_format must be float or base64", param="encoding_format")
    model = body.get("model")
    if model is not None and not isinstance(model, str):
        raise BadRequest("model must be a string", param="model")
    params: dict[str, Any] = {"input": inputs}
    if body.get("dimensions") is not None:
        params["dimensions"] = body["dimensions"]
    if body.get("user") is not None:
        params["user"] = body["user"]
    arguments.check_embedding_params(params)
    request = CallRequest(
        kind="embeddings",
        purpose=Purpose.EMBED.value,
        params=params,
        bot_id=bot_id,
        guild_id=guild_id,
        model=model,
    )
    return request, encoding


def _extension(result: Completion | Embeddings) -> dict[str, Any]:
    """The gateway's own `dit` member: which request, provider and attempts, and what it cost."""
    return {
        "request_id": result.request_id,
        "provider": result.provider,
        "cost_usd": str(result.cost_usd),
        "attempts": result.attempts,
    }


def _chat_usage(completion: Completion) -> dict[str, int]:
    """The OpenAI `usage` member of a chat completion (or of the final chunk of a stream)."""
    return {
        "prompt_tokens": completion.input_tokens,
        "completion_tokens": completion.output_tokens,
        "total_tokens": completion.input_tokens + completion.output_tokens,
    }


def completion_body(completion: Completion) -> dict[str, Any]:
    """A chat.completion object for a finished Completion."""
    message: dict[str, Any] = {"role": "assistant", "content": completion.text}
    if completion.tool_calls:
        message["tool_calls"] = [call.as_openai() for call in completion.tool_calls]
        message["content"] = completion.text or None
    if completion.reasoning:
        message["reasoning"] = completion.reasoning
    return {
        "id": f"chatcmpl-{completion.request_id}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": completion.model,
        "choices": [{"index": 0, "message": message, "finish_reason": completion.finish_reason, "logprobs": None}],
        "usage": _chat_usage(completion),
        "dit": _extension(completion),
    }


def embeddings_body(embeddings: Embeddings, *, encoding: str) -> dict[str, Any]:
    """An embeddings list object; base64 is little-endian float32, as the OpenAI API sends it."""
    data = []
    for index, vector in enumerate(embeddings.vectors):
        value: Any = list(vector)
        if encoding == "base64":
            value = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
        data.append({"object": "embedding", "index": index, "embedding": value})
    return {
        "object": "list",
        "data": data,
        "model": embeddings.model,
        "usage": {"prompt_tokens": embeddings.input_tokens, "total_tokens": embeddings.input_tokens},
        "dit": _extension(embeddings),
    }


def _sse(data: Mapping[str, Any] | str) -> bytes:
    text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    return f"data: {text}\n\n".encode()


def _chunk_body(event: StreamEvent) -> dict[str, Any] | None:
    """A provider chunk relayed under the gateway's id; usage is left for the gateway's own usage chunk."""
    if event.chunk is None:
        return None
    body = event.chunk.model_dump(mode="json", exclude_unset=True)
    body.pop("usage", None)
    if not body.get("choices"):
        return None
    body["id"] = f"chatcmpl-{event.request_id}"
    return body


def _usage_chunk(completion: Completion) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{completion.request_id}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": completion.model,
        "choices": [],
        "usage": _chat_usage(completion),
        "dit": _extension(completion),
    }


async def sse_stream(
    first: StreamEvent, events: AsyncIterator[StreamEvent], *, include_usage: bool
) -> AsyncIterator[bytes]:
    """Server-sent events for a stream whose first event has arrived; a later error becomes an error event."""

    async def all_events() -> AsyncIterator[StreamEvent]:
        yield first
        async for event in events:
            yield event

    try:
        async for event in all_events():
            if event.final:
                if include_usage and event.completion is not None:
                    yield _sse(_usage_chunk(event.completion))
                continue
            body = _chunk_body(event)
            if body is not None:
                yield _sse(body)
    except ApplicationError as exc:
        # Headers (200) are already sent: the error travels in the stream, which the OpenAI SDK raises.
        yield _sse(error_body(exc))
        return
    finally:
        aclose = getattr(events, "aclose", None)
        if aclose is not None:
            await aclose()
    yield _sse("[DONE]")
