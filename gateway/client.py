"""The gateway as every bot calls it: `complete`, `stream`, `embed` and the budget fraction.

In-process by default (the failover loop in `gateway.failover`, against the providers configured in admin
or by OPENAI_BASE_URL / OPENAI_API_KEY). With DIT_GATEWAY_URL set (and DIT_GATEWAY_TOKEN, DIT_BOT_ID),
the same calls go to that gateway over HTTP, with no change to the caller.

    from gateway import complete
    reply = await complete(purpose="synth-mid", guild_id="42", messages=[{"role": "user", "content": "hi"}])
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, Protocol

from django.conf import settings

from gateway import arguments, failover, orm, remote, selectors
from gateway.choices import Purpose
from gateway.errors import BadRequest
from gateway.results import Completion, Embeddings
from gateway.services import validate_guild_id

__all__ = [
    "GATEWAY",
    "Completion",
    "Embeddings",
    "GatewayClient",
    "ModelClient",
    "abudget_remaining_fraction",
    "budget_remaining_fraction",
    "complete",
    "embed",
    "stream",
]


def _remote() -> bool:
    return bool(settings.DIT_GATEWAY_URL.strip())


def check_purpose(purpose: str) -> str:
    """The purpose if it is one of the gateway's, else a BadRequest listing them."""
    if purpose not in Purpose.values:
        raise BadRequest(f"Unknown purpose {purpose!r}; use one of: {', '.join(Purpose.values)}")
    return purpose


def check_messages(messages: Any) -> list[dict[str, Any]]:
    """Chat messages as the OpenAI protocol wants them: a non-empty list of objects with a known role."""
    return arguments.check_messages(messages)


def _bot(bot_id: int | None) -> int | None:
    return bot_id if bot_id is not None else settings.DIT_BOT_ID


def _chat_request(
    *,
    purpose: str,
    messages: Sequence[Mapping[str, Any]],
    bot_id: int | None,
    guild_id: str | None,
    model: str | None,
    max_tokens: int | None,
    temperature: float | None,
    response_format: Mapping[str, Any] | None,
    tools: Sequence[Mapping[str, Any]] | None,
) -> failover.CallRequest:
    """The checked chat call that `complete` and `stream` send, in process or to the remote gateway."""
    params: dict[str, Any] = {"messages": check_messages(messages)}
    if max_tokens is not None:
        params["max_tokens"] = max_tokens
    if temperature is not None:
        params["temperature"] = temperature
    if response_format is not None:
        params["response_format"] = dict(response_format)
    if tools is not None:
        params["tools"] = [dict(tool) for tool in tools]
    guild = validate_guild_id(guild_id)
    return failover.CallRequest(
        kind="chat", purpose=check_purpose(purpose), params=params, bot_id=_bot(bot_id), guild_id=guild, model=model
    )


async def complete(
    *,
    purpose: str,
    messages: Sequence[Mapping[str, Any]],
    bot_id: int | None = None,
    guild_id: str | None = None,
    model: str | None = None,
    max_tokens: int | None = None,
    temperature: float | None = None,
    response_format: Mapping[str, Any] | None = None,
    tools: Sequence[Mapping[str, Any]] | None = None,
) -> Completion:
    """One chat completion for a purpose, with failover, quotas, budget and usage recorded."""
    request = _chat_request(
        purpose=purpose,
        messages=messages,
        bot_id=bot_id,
        guild_id=guild_id,
        model=model,
        max_tokens=max_tokens,
        temperature=temperature,
        response_format=response_format,
        tools=tools,
    )
    if _remote():
        return await remote.complete(request)
    return await failover.complete_call(request)


async def stream(
    *,
    purpose: str,
    messages: Sequence[Mapping[str, Any]],
    bot_id: int | None = None,
    guild_id: str | None = None,
    model: str | None = None,
    max_tokens: int | None = None,
    temperature: float | None = None,
    response_format: Mapping[str, Any] | None = None,
    tools: Sequence[Mapping[str, Any]] | None = None,
) -> AsyncIterator[str]:
    """A streamed chat completion: yields text deltas; fails over only until the first token arrives."""
    request = _chat_request(
        purpose=purpose,
        messages=messages,
        bot_id=bot_id,
        guild_id=guild_id,
        model=model,
        max_tokens=max_tokens,
        temperature=temperature,
        response_format=response_format,
        tools=tools,
    )
    if _remote():
        async for text in remote.stream(request):
            yield text
        return
    events = failover.stream_call(request)
    try:
        async for event in events:
            if event.text:
                yield event.text
    finally:
        await events.aclose()


async def embed(
    *,
    inputs: Sequence[str],
    bot_id: int | None = None,
    guild_id: str | None = None,
    model: str | None = None,
    dimensions: int | None = None,
) -> Embeddings:
    """Embedding vectors for each input (purpose `embed`), in input order; `dimensions` asks for that length."""
    if isinstance(inputs, str) or not inputs or not all(isinstance(text, str) for text in inputs):
        raise BadRequest("inputs must be a non-empty list of strings")
    if dimensions is not None and dimensions < 1:
        raise BadRequest("dimensions must be a positive number of vector components")
    params: dict[str, Any] = {"input": list(inputs)}
    if dimensions is not None:
        params["dimensions"] = dimensions
    request = failover.CallRequest(
        kind="embeddings",
        purpose=Purpose.EMBED.value,
        params=params,
        bot_id=_bot(bot_id),
        guild_id=validate_guild_id(guild_id),
        model=model,
    )
    if _remote():
        return await remote.embed(request)
    return await failover.embed_call(request)


def budget_remaining_fraction(guild_id: str) -> float | None:
    """The share of the guild's budget left this period (0.0 to 1.0), or None when it has no budget."""
    if _remote():
        return remote.budget_remaining_fraction(guild_id)
    return selectors.budget_remaining_fraction(guild_id)


async def abudget_remaining_fraction(guild_id: str) -> float | None:
    """Async `budget_remaining_fraction`."""
    if _remote():
        return await remote.abudget_remaining_fraction(guild_id)
    return await orm.run(selectors.budget_remaining_fraction, guild_id)


class ModelClient(Protocol):
    """What a caller of models needs: one chat completion for a purpose (the gateway, or a stand-in)."""

    async def complete(
        self,
        *,
        purpose: str,
        messages: Sequence[Mapping[str, Any]],
        bot_id: int | None = None,
        guild_id: str | None = None,
        model: str | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
        response_format: Mapping[str, Any] | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
    ) -> Completion:
        """One chat completion."""
        ...


class GatewayClient:
    """The gateway as one object to inject: in-process, or over HTTP when DIT_GATEWAY_URL is set."""

    async def complete(
        self,
        *,
        purpose: str,
        messages: Sequence[Mapping[str, Any]],
        bot_id: int | None = None,
        guild_id: str | None = None,
        model: str | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
        response_format: Mapping[str, Any] | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
    ) -> Completion:
        """One chat completion (see `complete`)."""
        return await complete(
            purpose=purpose,
            messages=messages,
            bot_id=bot_id,
            guild_id=guild_id,
            model=model,
            max_tokens=max_tokens,
            temperature=temperature,
            response_format=response_format,
            tools=tools,
        )

    async def embed(
        self, *, inputs: Sequence[str], bot_id: int | None = None, guild_id: str | None = None
    ) -> Embeddings:
        """Embedding vectors (see `embed`)."""
        return await embed(inputs=inputs, bot_id=bot_id, guild_id=guild_id)

    def budget_remaining_fraction(self, guild_id: str) -> float | None:
        """The share of the guild's budget left (see `budget_remaining_fraction`)."""
        return budget_remaining_fraction(guild_id)


GATEWAY = GatewayClient()
"""The process's gateway client, injected wherever a model is called unless a caller hands in another."""
