"""One model call from start to finish: plan, budget, quota, routes in order, a UsageEvent per attempt.

The order of a call:
1. plan the routes (policy or default provider; cached per process while the configuration version in
   Redis holds) and read provider cooldowns: one Redis round trip when cached;
2. reserve the guild's budget estimate (one database hop) and take the quota (one Redis script);
3. try each route not cooling down: a 429 with a short Retry-After waits and tries the same route once
   more; 429, 5xx, timeouts, dropped connections and unreadable bodies move on to the next route and
   count towards the provider's cooldown; any other 4xx ends the call (another route would fail too);
4. record every attempt and settle the budget with the real cost (one database hop) while the quota's
   token count is corrected (one Redis call, at the same time), whatever happened.
A stream fails over only until its first token; after that, an error reaches the caller.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal, TypeVar

import redis
from django.conf import settings
from openai.types import CreateEmbeddingResponse
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from gateway import arguments, orm, upstream
from gateway.choices import Outcome
from gateway.cooldowns import ProviderHealth, provider_failed, provider_health, provider_recovered
from gateway.errors import (
    BadRequest,
    BudgetExhausted,
    QuotaExceeded,
    StateUnavailable,
    StreamInterrupted,
    UpstreamRejected,
    UpstreamUnavailable,
)
from gateway.models import UsageEvent
from gateway.quotas import QuotaTicket, quota_acquire, quota_settle
from gateway.results import Completion, Embeddings, StreamEvent, ToolCall, message_reasoning, message_tool_calls
from gateway.routing import CallPlan, Route, cached_plan, plan_cache_key, plan_call, remember_plan
from gateway.services import BudgetReservation, budget_reserve, call_finish
from gateway.upstream import UpstreamFailure

logger = logging.getLogger(__name__)

_R = TypeVar("_R")
CHARS_PER_TOKEN = 4
TOKENS_PER_MESSAGE = 4


@dataclass(frozen=True)
class CallRequest:
    """A call as the failover loop sees it: who, why, and the OpenAI body parameters."""

    kind: Literal["chat", "embeddings"]
    purpose: str
    params: Mapping[str, Any]
    bot_id: int | None = None
    guild_id: str | None = None
    model: str | None = None


@dataclass
class _Call:
    """The bookkeeping of one call in progress."""

    request: CallRequest
    plan: CallPlan
    request_id: str
    started: float
    streamed: bool
    estimated_input: int
    estimated_output: int
    reservation: BudgetReservation | None = None
    ticket: QuotaTicket | None = None
    events: list[UsageEvent] = field(default_factory=list)
    attempts: int = 0
    cost: Decimal = Decimal(0)
    tokens: int = 0
    failed_keys: set[str] = field(default_factory=set)
    cooling_keys: set[str] = field(default_factory=set)

    def record(
        self,
        route: Route | None,
        outcome: Outcome,
        *,
        latency_ms: int = 0,
        input_tokens: int = 0,
        output_tokens: int = 0,
        error: str = "",
        attempt: int | None = None,
    ) -> Decimal:
        """Keep a UsageEvent for an attempt (or a rejection) and add its cost and tokens to the call."""
        cost = route.cost(input_tokens=input_tokens, output_tokens=output_tokens) if route else Decimal(0)
        self.cost += cost
        self.tokens += input_tokens + output_tokens
        self.events.append(
            UsageEvent(
                request_id=self.request_id,
                bot_id=self.request.bot_id,
                guild_id=self.request.guild_id,
                purpose=self.request.purpose,
                policy_id=self.plan.policy_id,
                model=route.model if route else "",
                provider=route.endpoint.name if route else "",
                attempt=self.attempts if attempt is None else attempt,
                outcome=outcome,
                streamed=self.streamed,
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                cost_usd=cost,
                latency_ms=latency_ms,
                error=error,
            )
        )
        return cost

    def answered(
        self,
        route: Route,
        started: float,
        *,
        text: str,
        tool_calls: tuple[ToolCall, ...],
        input_tokens: int,
        output_tokens: int,
        finish_reason: str | None,
        reasoning: str | None,
    ) -> Completion:
        """Record the attempt on `route` (begun at `started`) that answered, and the Completion it makes."""
        cost = self.record(
            route,
            Outcome.OK,
            latency_ms=self.elapsed_ms(started),
            input_tokens=input_tokens,
            output_tokens=output_tokens,
        )
        return Completion(
            text=text,
            tool_calls=tool_calls,
            model=route.model,
            provider=route.endpoint.name,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cost_usd=cost,
            latency_ms=self.elapsed_ms(),
            request_id=self.request_id,
            finish_reason=finish_reason,
            reasoning=reasoning,
            attempts=self.attempts,
        )

    def elapsed_ms(self, since: float | None = None) -> int:
        """Milliseconds since `since` (or the start of the call)."""
        return int((time.perf_counter() - (self.started if since is None else since)) * 1000)


def estimate_text_tokens(text: str) -> int:
    """A rough token count for text (the provider's usage replaces it when it reports one)."""
    return (len(text) + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def estimate_request_tokens(request: CallRequest) -> tuple[int, int]:
    """Estimated (input, output) tokens of a request, for reserving budget and quota before it runs."""
    params = request.params
    if request.kind == "embeddings":
        inputs = params.get("input") or []
        texts = [inputs] if isinstance(inputs, str) else [str(item) for item in inputs]
        return sum(estimate_text_tokens(text) for text in texts), 0
    messages = params.get("messages") or []
    prompt = sum(
        estimate_text_tokens(_content_text(message.get("content"))) + TOKENS_PER_MESSAGE
        for message in messages
        if isinstance(message, dict)
    )
    if params.get("tools"):
        prompt += estimate_text_tokens(json.dumps(params["tools"]))
    output = params.get("max_completion_tokens") or params.get("max_tokens")
    # Arguments are checked before this runs; the floor keeps a hold from ever being negative.
    return prompt, max(1, int(output or settings.DIT_GATEWAY_ESTIMATE_OUTPUT_TOKENS))


def _reserve_budget(call: _Call) -> None:
    """Hold the budget estimate of a guild's call (runs in the ORM's thread)."""
    guild_id = call.request.guild_id
    if guild_id is None:
        return
    primary = call.plan.routes[0]
    estimate = primary.cost(input_tokens=call.estimated_input, output_tokens=call.estimated_output)
    try:
        call.reservation = budget_reserve(guild_id=guild_id, amount=estimate)
    except BudgetExhausted as exc:
        call.record(primary, Outcome.BUDGET_EXHAUSTED, error=exc.message, attempt=0)
        UsageEvent.objects.bulk_create(call.events)
        call.events.clear()
        raise


async def _plan(request: CallRequest) -> tuple[CallPlan, dict[str, ProviderHealth]]:
    """The call's plan and its providers' health: from the process's cache when the version still holds.

    A cache hit costs one Redis round trip (version and health together) and no database query.
    """
    cache_key = plan_cache_key(
        purpose=request.purpose, bot_id=request.bot_id, guild_id=request.guild_id, model=request.model
    )
    cached = cached_plan(cache_key)
    version, health = await provider_health(route.endpoint.key for route in (cached.plan.routes if cached else ()))
    if cached is not None and cached.version == version:
        return cached.plan, health
    plan = await orm.run(
        plan_call, purpose=request.purpose, bot_id=request.bot_id, guild_id=request.guild_id, model=request.model
    )
    remember_plan(cache_key, version=version, plan=plan)
    _, health = await provider_health(route.endpoint.key for route in plan.routes)
    return plan, health


async def _finish(call: _Call) -> None:
    """Record the attempts and settle budget and quota; shielded so a second cancellation cannot skip it.

    The database and Redis settlements are independent, so they run together: one wait, not two, and a
    cancellation during it cannot skip the quota's correction.
    """
    events, call.events = call.events, []
    reservation, call.reservation = call.reservation, None
    ticket, call.ticket = call.ticket, None
    settlements: list[Awaitable[None]] = []
    if events or reservation is not None:
        settlements.append(orm.run(call_finish, events=events, reservation=reservation, actual_usd=call.cost))
    if ticket is not None:
        settlements.append(quota_settle(ticket, actual_tokens=call.tokens))
    if settlements:
        await asyncio.shield(asyncio.gather(*settlements))


async def _begin(request: CallRequest, *, streamed: bool) -> tuple[_Call, dict[str, ProviderHealth]]:
    """Check the arguments, plan, reserve budget and quota, and read provider health; on a rejection
    nothing stays held."""
    if request.kind == "chat":
        arguments.check_chat_params(request.params)
    else:
        arguments.check_embedding_params(request.params)
    started = time.perf_counter()
    try:
        plan, health = await _plan(request)
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        raise _state_unavailable(exc) from exc
    estimated_input, estimated_output = estimate_request_tokens(request)
    call = _Call(
        request=request,
        plan=plan,
        request_id=uuid.uuid4().hex,
        started=started,
        streamed=streamed,
        estimated_input=estimated_input,
        estimated_output=estimated_output,
    )
    if request.guild_id is not None:
        await orm.run(_reserve_budget, call)
    try:
        call.ticket = await quota_acquire(
            plan=call.plan,
            bot_id=request.bot_id,
            guild_id=request.guild_id,
            estimated_tokens=call.estimated_input + call.estimated_output,
        )
    except QuotaExceeded as exc:
        call.record(call.plan.routes[0], Outcome.QUOTA_EXCEEDED, error=exc.message, attempt=0)
        await _finish(call)
        raise
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        # The budget hold taken above is released before the caller hears of it.
        await _finish(call)
        raise _state_unavailable(exc) from exc
    except BaseException:
        await _finish(call)
        raise
    return call, health


def _state_unavailable(exc: Exception) -> StateUnavailable:
    """The error for Redis not answering before a call: quotas and cooldowns cannot be read or taken."""
    logger.warning("gateway: redis unavailable: %s", exc)
    return StateUnavailable(
        f"Redis is not answering ({exc.__class__.__name__}); quotas and provider cooldowns cannot be checked, "
        "so no model was called. Try again shortly",
        service="redis",
        retry_after=5,
    )


def _refusal(route: Route, failure: UpstreamFailure) -> BadRequest | UpstreamRejected:
    """The error for a provider's 4xx: the caller's fault (400) unless the provider refused our credentials."""
    if failure.status in (401, 403):
        return UpstreamRejected(
            f"Provider {route.endpoint.name} refused the gateway's credentials ({failure.message}); "
            "check its API key in admin or OPENAI_API_KEY",
            provider=route.endpoint.name,
        )
    return BadRequest(f"Provider {route.endpoint.name} rejected the request: {failure.message}")


async def _failover(
    call: _Call, health: Mapping[str, ProviderHealth], attempt: Callable[[Route], Awaitable[_R]]
) -> tuple[_R, Route, float]:
    """Try the routes in order; returns the first result, its route and when its attempt started."""
    cap = float(settings.DIT_GATEWAY_RETRY_AFTER_CAP_SECONDS)
    last: UpstreamFailure | None = None
    cooling: list[int] = []
    for route in call.plan.routes:
        state = health.get(route.endpoint.key)
        if route.endpoint.key in call.cooling_keys or (state is not None and state.cooling):
            if state is not None and state.cooling_until_ms is not None:
                cooling.append(state.cooling_until_ms)
            continue
        waited = False
        while True:
            call.attempts += 1
            started = time.perf_counter()
            try:
                result = await attempt(route)
            except UpstreamFailure as failure:
                call.record(route, failure.outcome, latency_ms=call.elapsed_ms(started), error=failure.message)
                last = failure
                if not failure.retryable:
                    raise _refusal(route, failure) from failure
                if failure.retry_after is not None and failure.retry_after <= cap and not waited:
                    waited = True
                    await asyncio.sleep(failure.retry_after)
                    continue
                call.failed_keys.add(route.endpoint.key)
                cooldown = await provider_failed(route.endpoint.key, retry_after=failure.retry_after)
                if cooldown > 0:
                    # Now cooling down: later routes of this call on the same provider skip it too.
                    call.cooling_keys.add(route.endpoint.key)
                logger.warning(
                    "gateway: %s on %s failed (%s), cooldown %.1fs; trying the next route",
                    route.model,
                    route.endpoint.name,
                    failure.message,
                    cooldown,
                )
                break
            except asyncio.CancelledError:
                call.record(route, Outcome.CANCELLED, latency_ms=call.elapsed_ms(started), error="cancelled")
                raise
            if route.endpoint.key in call.failed_keys or (state is not None and state.failures):
                await provider_recovered(route.endpoint.key)
            return result, route, started
    if last is None:
        wait = max(0.0, (min(cooling) / 1000 - time.time())) if cooling else 0.0
        message = (
            f"Every provider for {call.request.purpose} is cooling down after repeated failures; "
            f"the first is tried again in {wait:.0f}s"
        )
        call.record(call.plan.routes[0], Outcome.COOLING_DOWN, error=message, attempt=0)
        raise UpstreamUnavailable(message, retry_after=round(wait, 1))
    raise UpstreamUnavailable(
        f"All {call.attempts} attempts for {call.request.purpose} failed; the last: {last.message}",
        attempts=call.attempts,
    )


async def complete_call(request: CallRequest) -> Completion:
    """Run one non-streaming chat completion through the failover loop."""
    call, health = await _begin(request, streamed=False)
    try:
        result: ChatCompletion
        result, route, started = await _failover(call, health, lambda r: upstream.chat(r, request.params))
        message = result.choices[0].message
        text = message.content or ""
        tool_calls = message_tool_calls(message)
        usage = result.usage
        input_tokens = usage.prompt_tokens if usage else call.estimated_input
        output_tokens = (
            usage.completion_tokens
            if usage
            else estimate_text_tokens(text + "".join(tc.arguments for tc in tool_calls))
        )
        return call.answered(
            route,
            started,
            text=text,
            tool_calls=tool_calls,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            finish_reason=result.choices[0].finish_reason,
            reasoning=message_reasoning(message),
        )
    finally:
        await _finish(call)


async def embed_call(request: CallRequest) -> Embeddings:
    """Run one embeddings request through the failover loop."""
    call, health = await _begin(request, streamed=False)
    try:
        result: CreateEmbeddingResponse
        result, route, started = await _failover(call, health, lambda r: upstream.embeddings(r, request.params))
        input_tokens = result.usage.prompt_tokens if result.usage else call.estimated_input
        cost = call.record(route, Outcome.OK, latency_ms=call.elapsed_ms(started), input_tokens=input_tokens)
        vectors = tuple(tuple(float(x) for x in item.embedding) for item in sorted(result.data, key=lambda d: d.index))
        return Embeddings(
            vectors=vectors,
            model=route.model,
            provider=route.endpoint.name,
            input_tokens=input_tokens,
            cost_usd=cost,
            latency_ms=call.elapsed_ms(),
            request_id=call.request_id,
            attempts=call.attempts,
        )
    finally:
        await _finish(call)


def _carries_output(chunk: ChatCompletionChunk) -> bool:
    """Whether a chunk holds the first token: content, a tool call or a finish."""
    return any(choice.delta.content or choice.delta.tool_calls or choice.finish_reason for choice in chunk.choices)


@dataclass
class _StreamState:
    """What a stream has said so far."""

    text: list[str] = field(default_factory=list)
    tool_calls: dict[int, dict[str, str]] = field(default_factory=dict)
    finish_reason: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    reasoning: list[str] = field(default_factory=list)

    def absorb(self, chunk: ChatCompletionChunk) -> str:
        """Fold a chunk in; returns its text delta."""
        if chunk.usage is not None:
            self.input_tokens = chunk.usage.prompt_tokens
            self.output_tokens = chunk.usage.completion_tokens
        delta_text = ""
        for choice in chunk.choices[:1]:
            delta = choice.delta
            if delta.content:
                delta_text = delta.content
                self.text.append(delta.content)
            reasoning = message_reasoning(delta)
            if reasoning is not None:
                self.reasoning.append(reasoning)
            for item in delta.tool_calls or []:
                slot = self.tool_calls.setdefault(item.index, {"id": "", "name": "", "arguments": ""})
                if item.id:
                    slot["id"] = item.id
                if item.function is not None:
                    slot["name"] += item.function.name or ""
                    slot["arguments"] += item.function.arguments or ""
            if choice.finish_reason:
                self.finish_reason = choice.finish_reason
        return delta_text

    def output_estimate(self) -> int:
        """Output tokens reported, or estimated from what arrived."""
        if self.output_tokens is not None:
            return self.output_tokens
        arguments = "".join(slot["arguments"] for slot in self.tool_calls.values())
        return estimate_text_tokens("".join(self.text) + arguments)


async def stream_call(request: CallRequest) -> AsyncGenerator[StreamEvent]:
    """Run one streaming chat completion; yields each chunk, then a final event with the accounting."""
    call, health = await _begin(request, streamed=True)
    state = _StreamState()
    try:

        async def open_route(route: Route) -> tuple[AsyncGenerator[ChatCompletionChunk], list[ChatCompletionChunk]]:
            # Read up to the first token before committing to this route, so a failure before it fails over.
            chunks = upstream.chat_stream(route, request.params)
            head: list[ChatCompletionChunk] = []
            async for chunk in chunks:
                head.append(chunk)
                if _carries_output(chunk):
                    return chunks, head
            # Closed before a token: nothing was sent, so this is a failure the next route may fix.
            raise UpstreamFailure(
                Outcome.STREAM_INTERRUPTED, "the provider closed the stream before its first token", retryable=True
            )

        (chunks, head), route, started = await _failover(call, health, open_route)
        try:
            for chunk in head:
                text = state.absorb(chunk)
                yield StreamEvent(text=text, request_id=call.request_id, chunk=chunk)
            async for chunk in chunks:
                text = state.absorb(chunk)
                yield StreamEvent(text=text, request_id=call.request_id, chunk=chunk)
            if state.finish_reason is None:
                # A provider that drops the connection may end the stream cleanly: without a finish
                # reason the answer is cut short, and delivering it as complete would be a lie.
                raise UpstreamFailure(
                    Outcome.STREAM_INTERRUPTED, "the stream ended without a finish reason", retryable=False
                )
        except UpstreamFailure as failure:
            call.record(
                route,
                Outcome.STREAM_INTERRUPTED,
                latency_ms=call.elapsed_ms(started),
                input_tokens=state.input_tokens or call.estimated_input,
                output_tokens=state.output_estimate(),
                error=failure.message,
            )
            await provider_failed(route.endpoint.key)
            raise StreamInterrupted(
                f"The stream from {route.endpoint.name} broke after it had started: {failure.message}",
                provider=route.endpoint.name,
            ) from failure
        except (GeneratorExit, asyncio.CancelledError):
            # The caller stopped reading: the provider still charges for what it produced.
            call.record(
                route,
                Outcome.CANCELLED,
                latency_ms=call.elapsed_ms(started),
                input_tokens=state.input_tokens or call.estimated_input,
                output_tokens=state.output_estimate(),
                error="the caller stopped reading the stream",
            )
            raise
        finally:
            await chunks.aclose()
        input_tokens = state.input_tokens if state.input_tokens is not None else call.estimated_input
        output_tokens = state.output_estimate()
        tool_calls = tuple(
            ToolCall(id=slot["id"], name=slot["name"], arguments=slot["arguments"])
            for _, slot in sorted(state.tool_calls.items())
        )
        completion = call.answered(
            route,
            started,
            text="".join(state.text),
            tool_calls=tool_calls,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            finish_reason=state.finish_reason,
            reasoning="".join(state.reasoning) or None,
        )
        await _finish(call)
        yield StreamEvent(request_id=call.request_id, final=True, completion=completion)
    finally:
        await _finish(call)
