"""Calls to one provider with the openai client, and the taxonomy of how they fail.

The client never retries by itself (`max_retries=0`): the failover loop in `gateway.failover` is the
only retry loop. Each failure becomes an `UpstreamFailure` saying whether trying elsewhere may help.
"""

from __future__ import annotations

import asyncio
import email.utils
import hashlib
import json
import time
import weakref
from collections.abc import AsyncGenerator, Mapping
from typing import Any

import httpx
import openai
import pydantic
from openai import AsyncOpenAI
from openai.types import CreateEmbeddingResponse
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from gateway.choices import Outcome
from gateway.routing import Route

# Parameters the openai client takes by name; anything else a caller sends goes through `extra_body`.
CHAT_PARAMS = frozenset(
    {
        "messages",
        "max_tokens",
        "max_completion_tokens",
        "temperature",
        "top_p",
        "stop",
        "seed",
        "response_format",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "presence_penalty",
        "frequency_penalty",
        "logit_bias",
        "logprobs",
        "top_logprobs",
        "user",
        "reasoning_effort",
    }
)
EMBEDDING_PARAMS = frozenset({"input", "dimensions", "user"})
ERROR_TEXT_LIMIT = 500


class UpstreamFailure(Exception):
    """One attempt failed; `retryable` says whether another route may succeed."""

    def __init__(
        self,
        outcome: Outcome,
        message: str,
        *,
        retryable: bool,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.message = message[:ERROR_TEXT_LIMIT]
        self.retryable = retryable
        self.status = status
        self.retry_after = retry_after


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from `retry-after-ms` or `retry-after` (seconds or an HTTP date); None if absent."""
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def classify(exc: BaseException) -> UpstreamFailure:
    """Turn what the openai client (or httpx under it) raised into an UpstreamFailure."""
    if isinstance(exc, UpstreamFailure):
        return exc
    if isinstance(exc, openai.APITimeoutError | httpx.TimeoutException | asyncio.TimeoutError):
        return UpstreamFailure(Outcome.TIMEOUT, "the provider did not answer in time", retryable=True)
    if isinstance(exc, openai.APIConnectionError | httpx.TransportError):
        return UpstreamFailure(Outcome.CONNECTION_ERROR, f"connection failed: {exc}", retryable=True)
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        message = f"{status}: {exc.message}"
        if status == 429:
            return UpstreamFailure(
                Outcome.RATE_LIMITED,
                message,
                retryable=True,
                status=status,
                retry_after=parse_retry_after(exc.response.headers),
            )
        if status >= 500 or status in (408, 409):
            return UpstreamFailure(Outcome.SERVER_ERROR, message, retryable=True, status=status)
        return UpstreamFailure(Outcome.REJECTED, message, retryable=False, status=status)
    if isinstance(exc, openai.APIResponseValidationError | pydantic.ValidationError | json.JSONDecodeError):
        return UpstreamFailure(Outcome.INVALID_RESPONSE, f"unreadable response: {exc}", retryable=True)
    if isinstance(exc, openai.APIError):
        # An error event inside a stream, or another failure the provider reported in its body.
        return UpstreamFailure(Outcome.SERVER_ERROR, f"provider error: {exc.message}", retryable=True)
    raise exc


_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, ...], AsyncOpenAI]] = (
    weakref.WeakKeyDictionary()
)


def client_for(route: Route) -> AsyncOpenAI:
    """The openai client of this provider on the running loop (httpx pools belong to one loop)."""
    endpoint = route.endpoint
    fingerprint = hashlib.sha256(endpoint.api_key.encode()).hexdigest()[:16]
    cache_key = (endpoint.key, endpoint.base_url, fingerprint, str(endpoint.connect_timeout), str(endpoint.timeout))
    per_loop = _clients.setdefault(asyncio.get_running_loop(), {})
    client = per_loop.get(cache_key)
    if client is None:
        client = AsyncOpenAI(
            base_url=endpoint.base_url,
            api_key=endpoint.api_key,
            max_retries=0,
            timeout=httpx.Timeout(endpoint.timeout, connect=endpoint.connect_timeout),
        )
        per_loop[cache_key] = client
    return client


def _split(params: Mapping[str, Any], known: frozenset[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    named = {name: value for name, value in params.items() if name in known and value is not None}
    extra = {name: value for name, value in params.items() if name not in known and value is not None}
    return named, extra


async def chat(route: Route, params: Mapping[str, Any]) -> ChatCompletion:
    """One non-streaming chat completion on this route."""
    named, extra = _split(params, CHAT_PARAMS)
    try:
        result = await client_for(route).chat.completions.create(model=route.model, extra_body=extra or None, **named)
    except Exception as exc:
        raise classify(exc) from exc
    if not isinstance(result, ChatCompletion) or not result.choices:
        raise UpstreamFailure(Outcome.INVALID_RESPONSE, "the provider sent no completion", retryable=True)
    return result


async def chat_stream(route: Route, params: Mapping[str, Any]) -> AsyncGenerator[ChatCompletionChunk]:
    """Stream one chat completion on this route; every failure, at open or mid-stream, is an UpstreamFailure."""
    named, extra = _split(params, CHAT_PARAMS)
    try:
        stream = await client_for(route).chat.completions.create(
            model=route.model, stream=True, stream_options={"include_usage": True}, extra_body=extra or None, **named
        )
    except Exception as exc:
        raise classify(exc) from exc
    try:
        iterator = stream.__aiter__()
        while True:
            try:
                chunk = await iterator.__anext__()
            except StopAsyncIteration:
                return
            except Exception as exc:
                raise classify(exc) from exc
            yield chunk
    finally:
        await stream.close()


async def embeddings(route: Route, params: Mapping[str, Any]) -> CreateEmbeddingResponse:
    """One embeddings request on this route (floats on the wire, so any provider understands it)."""
    named, extra = _split(params, EMBEDDING_PARAMS)
    try:
        result = await client_for(route).embeddings.create(
            model=route.model, encoding_format="float", extra_body=extra or None, **named
        )
    except Exception as exc:
        raise classify(exc) from exc
    if not isinstance(result, CreateEmbeddingResponse) or not result.data:
        raise UpstreamFailure(Outcome.INVALID_RESPONSE, "the provider sent no embeddings", retryable=True)
    return result
