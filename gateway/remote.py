"""The gateway client when the gateway runs elsewhere (DIT_GATEWAY_URL): the same calls, over HTTP.

It speaks the OpenAI protocol with the openai client (no retries: the remote gateway fails over), sends
the purpose and guild as `x-dit-purpose` / `x-dit-guild`, and turns the gateway's error bodies back into
the same ApplicationError classes the in-process path raises.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import AsyncIterator, Mapping
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, cast

import httpx
import openai
from django.conf import settings
from openai import AsyncOpenAI, OpenAI

from dit_project.errors import ApplicationError
from gateway import errors
from gateway.errors import GatewayError, GatewayNotConfigured, UpstreamUnavailable
from gateway.results import Completion, Embeddings, message_reasoning, message_tool_calls

if TYPE_CHECKING:
    from gateway.failover import CallRequest

# Error codes the gateway sends, back to the classes that carry them.
ERRORS_BY_CODE: dict[str, type[ApplicationError]] = {
    cls.code: cls
    for cls in (
        errors.GatewayNotConfigured,
        errors.BadRequest,
        errors.AuthenticationFailed,
        errors.PermissionDenied,
        errors.UpstreamRejected,
        errors.UpstreamUnavailable,
        errors.StreamInterrupted,
        errors.BudgetExhausted,
        errors.QuotaExceeded,
    )
}
BUDGET_PATH = "/dit/budget"

_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[tuple[str, str], AsyncOpenAI]] = (
    weakref.WeakKeyDictionary()
)


def _credentials() -> tuple[str, str]:
    url = settings.DIT_GATEWAY_URL.strip().rstrip("/")
    token = settings.DIT_GATEWAY_TOKEN.strip()
    if not token:
        raise GatewayNotConfigured(
            "DIT_GATEWAY_URL is set but DIT_GATEWAY_TOKEN is empty: create a token for this bot in the gateway's "
            "admin (Gateway tokens) and set DIT_GATEWAY_TOKEN"
        )
    return url, token


def _client() -> AsyncOpenAI:
    credentials = _credentials()
    loop = asyncio.get_running_loop()
    cached = _clients.get(loop)
    if cached is not None and cached[0] == credentials:
        return cached[1]
    client = AsyncOpenAI(
        base_url=credentials[0],
        api_key=credentials[1],
        max_retries=0,
        timeout=float(settings.DIT_GATEWAY_TIMEOUT_SECONDS),
    )
    _clients[loop] = (credentials, client)
    return client


def _headers(*, purpose: str, bot_id: int | None, guild_id: str | None) -> dict[str, str]:
    headers = {"x-dit-purpose": purpose}
    if guild_id is not None:
        headers["x-dit-guild"] = guild_id
    if bot_id is not None:
        headers["x-dit-bot"] = str(bot_id)
    return headers


def translate(exc: Exception) -> Exception:
    """The ApplicationError for what the openai client raised while talking to the remote gateway."""
    if isinstance(exc, openai.APIConnectionError):
        return UpstreamUnavailable(f"The gateway at {settings.DIT_GATEWAY_URL} did not answer: {exc.message}")
    if isinstance(exc, openai.APIError):
        body = exc.body if isinstance(exc.body, Mapping) else {}
        error = body.get("error", body) if isinstance(body.get("error", body), Mapping) else body
        code = str(error.get("code") or "")
        message = str(error.get("message") or exc.message)
        cls = ERRORS_BY_CODE.get(code)
        if cls is not None:
            return cls(message)
        status = getattr(exc, "status_code", None)
        return GatewayError(message, status=status if isinstance(status, int) else None)
    return exc


def _extension(response: Any) -> Mapping[str, Any]:
    extra = response.model_extra or {}
    value = extra.get("dit")
    return value if isinstance(value, Mapping) else {}


def _decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return Decimal(0)


def _chat_arguments(request: CallRequest) -> dict[str, Any]:
    """The openai client's arguments for a chat call: the body parameters, model and gateway headers."""
    return {
        **request.params,
        "model": request.model or "auto",
        "messages": cast(Any, list(request.params["messages"])),
        "extra_headers": _headers(purpose=request.purpose, bot_id=request.bot_id, guild_id=request.guild_id),
    }


async def complete(request: CallRequest) -> Completion:
    """A chat completion through the remote gateway."""
    started = time.perf_counter()
    try:
        response = await _client().chat.completions.create(**_chat_arguments(request))
    except openai.APIError as exc:
        raise translate(exc) from exc
    choice = response.choices[0]
    dit = _extension(response)
    message = choice.message
    return Completion(
        text=message.content or "",
        tool_calls=message_tool_calls(message),
        model=response.model,
        provider=str(dit.get("provider", "")),
        input_tokens=response.usage.prompt_tokens if response.usage else 0,
        output_tokens=response.usage.completion_tokens if response.usage else 0,
        cost_usd=_decimal(dit.get("cost_usd", "0")),
        latency_ms=int((time.perf_counter() - started) * 1000),
        request_id=str(dit.get("request_id") or response.id),
        finish_reason=choice.finish_reason,
        reasoning=message_reasoning(message),
        attempts=int(dit.get("attempts", 1)),
    )


async def stream(request: CallRequest) -> AsyncIterator[str]:
    """Text deltas of a streamed completion through the remote gateway."""
    try:
        chunks = await _client().chat.completions.create(**_chat_arguments(request), stream=True)
        async with chunks:
            async for chunk in chunks:
                for choice in chunk.choices[:1]:
                    if choice.delta.content:
                        yield choice.delta.content
    except openai.APIError as exc:
        raise translate(exc) from exc
    except httpx.TransportError as exc:
        raise errors.StreamInterrupted(f"The stream from the gateway broke: {exc}") from exc


async def embed(request: CallRequest) -> Embeddings:
    """Embeddings through the remote gateway."""
    started = time.perf_counter()
    try:
        response = await _client().embeddings.create(
            model=request.model or "auto",
            input=list(request.params["input"]),
            encoding_format="float",
            extra_body={"dimensions": request.params["dimensions"]} if "dimensions" in request.params else None,
            extra_headers=_headers(purpose=request.purpose, bot_id=request.bot_id, guild_id=request.guild_id),
        )
    except openai.APIError as exc:
        raise translate(exc) from exc
    dit = _extension(response)
    return Embeddings(
        vectors=tuple(tuple(float(x) for x in item.embedding) for item in sorted(response.data, key=lambda d: d.index)),
        model=response.model,
        provider=str(dit.get("provider", "")),
        input_tokens=response.usage.prompt_tokens if response.usage else 0,
        cost_usd=_decimal(dit.get("cost_usd", "0")),
        latency_ms=int((time.perf_counter() - started) * 1000),
        request_id=str(dit.get("request_id", "")),
        attempts=int(dit.get("attempts", 1)),
    )


def _fraction(body: Any) -> float | None:
    value = body.get("remaining_fraction") if isinstance(body, Mapping) else None
    return float(value) if value is not None else None


async def abudget_remaining_fraction(guild_id: str) -> float | None:
    """The guild's remaining budget fraction, asked of the remote gateway."""
    try:
        body = await _client().get(BUDGET_PATH, cast_to=object, options={"headers": {"x-dit-guild": guild_id}})
    except openai.APIError as exc:
        raise translate(exc) from exc
    return _fraction(body)


def budget_remaining_fraction(guild_id: str) -> float | None:
    """The guild's remaining budget fraction, asked of the remote gateway (blocking)."""
    url, token = _credentials()
    with OpenAI(
        base_url=url, api_key=token, max_retries=0, timeout=float(settings.DIT_GATEWAY_TIMEOUT_SECONDS)
    ) as client:
        try:
            body = client.get(BUDGET_PATH, cast_to=object, options={"headers": {"x-dit-guild": guild_id}})
        except openai.APIError as exc:
            raise translate(exc) from exc
    return _fraction(body)
