"""The OpenAI-compatible endpoints under /v1/: they authenticate the bot, parse, call the failover loop.

Any OpenAI SDK works unchanged with `base_url=<site>/v1` and the bot's gateway token as its API key;
the purpose and guild travel as `x-dit-purpose` and `x-dit-guild` headers.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponseBase, JsonResponse, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from dit_project.api.exceptions import service_unavailable
from dit_project.errors import ApplicationError, PayloadTooLarge
from gateway import failover, protocol, selectors
from gateway.errors import AuthenticationFailed, BadRequest, PermissionDenied
from gateway.routing import known_models
from gateway.services import gateway_token_touch, validate_guild_id

# Typed loosely: Django's URL resolver takes async views, its stubs know only sync ones.
View = Callable[..., Any]


@dataclass(frozen=True)
class Tenant:
    """The bot a request acts for, from its bearer token."""

    bot_id: int
    token_id: int


def error_response(exc: ApplicationError) -> JsonResponse:
    """The OpenAI-shaped JSON error for an ApplicationError, with Retry-After where one is known."""
    response = JsonResponse(protocol.error_body(exc), status=exc.status)
    retry_after = exc.extra.get("retry_after")
    if isinstance(retry_after, int | float):
        response["Retry-After"] = str(max(1, round(retry_after)))
    return response


def _find_tenant(plaintext: str) -> Tenant | None:
    token = selectors.gateway_token_find(plaintext)
    if token is None:
        return None
    gateway_token_touch(token=token, now=timezone.now())
    return Tenant(bot_id=token.bot_id, token_id=token.pk)


async def authenticate(request: HttpRequest) -> Tenant:
    """The tenant of a bearer token; 401 when missing or unknown, 403 when x-dit-bot names another bot."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise AuthenticationFailed("Send the bot's gateway token as 'Authorization: Bearer <token>'")
    tenant = await sync_to_async(_find_tenant)(value.strip())
    if tenant is None:
        raise AuthenticationFailed("The gateway token is unknown or revoked; create one in admin (Gateway tokens)")
    claimed = request.headers.get("x-dit-bot")
    if claimed and claimed.strip() != str(tenant.bot_id):
        raise PermissionDenied(f"This token belongs to bot {tenant.bot_id}, not bot {claimed.strip()}")
    return tenant


def openai_endpoint(*methods: str) -> Callable[[Callable[..., Awaitable[HttpResponseBase]]], View]:
    """Allow only `methods`, authenticate the tenant, and turn ApplicationErrors into OpenAI-shaped errors."""

    def decorate(view: Callable[..., Awaitable[HttpResponseBase]]) -> View:
        @functools.wraps(view)
        async def wrapper(request: HttpRequest) -> HttpResponseBase:
            if request.method not in methods:
                error = ApplicationError(
                    f"{request.method} is not allowed here; use {' or '.join(methods)}",
                    code="method_not_allowed",
                    status=405,
                )
                return error_response(error)
            try:
                tenant = await authenticate(request)
                return await view(request, tenant)
            except ApplicationError as exc:
                return error_response(exc)
            except RequestDataTooBig:
                limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
                return error_response(
                    PayloadTooLarge(f"The request body is larger than the gateway accepts ({limit} bytes)", limit=limit)
                )
            except Exception as exc:
                # PostgreSQL or Redis not answering is a 503 the client can retry; anything else is a bug.
                unavailable = service_unavailable(exc)
                if unavailable is None:
                    raise
                return error_response(unavailable)

        return csrf_exempt(wrapper)

    return decorate


def _guild(request: HttpRequest) -> str | None:
    return validate_guild_id(request.headers.get("x-dit-guild"))


@openai_endpoint("POST")
async def chat_completions(request: HttpRequest, tenant: Tenant) -> HttpResponseBase:
    """POST /v1/chat/completions: a completion, or a stream of server-sent chunks when `stream` is true."""
    body = protocol.parse_body(request.body)
    purpose = protocol.purpose_from_header(request.headers.get("x-dit-purpose"))
    call, stream, include_usage = protocol.chat_request(
        body, purpose=purpose, bot_id=tenant.bot_id, guild_id=_guild(request)
    )
    if not stream:
        completion = await failover.complete_call(call)
        return JsonResponse(protocol.completion_body(completion))
    events = failover.stream_call(call)
    # The first event arrives once a route produced its first token; failures before it are plain errors.
    try:
        first = await events.__anext__()
    except StopAsyncIteration as exc:
        raise BadRequest("The provider ended the stream before it began") from exc
    response = StreamingHttpResponse(
        protocol.sse_stream(first, events, include_usage=include_usage), content_type="text/event-stream"
    )
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


@openai_endpoint("POST")
async def embeddings(request: HttpRequest, tenant: Tenant) -> HttpResponseBase:
    """POST /v1/embeddings: vectors for each input; always purpose `embed`, whatever x-dit-purpose says."""
    body = protocol.parse_body(request.body)
    call, encoding = protocol.embeddings_request(body, bot_id=tenant.bot_id, guild_id=_guild(request))
    result = await failover.embed_call(call)
    return JsonResponse(protocol.embeddings_body(result, encoding=encoding))


@openai_endpoint("GET")
async def models(request: HttpRequest, tenant: Tenant) -> HttpResponseBase:
    """GET /v1/models: the models the gateway may route to, and `auto` (the purpose's policy decides)."""
    pairs = await sync_to_async(known_models)()
    data: list[dict[str, Any]] = [{"id": "auto", "object": "model", "created": 0, "owned_by": "dit"}]
    data += [{"id": model, "object": "model", "created": 0, "owned_by": provider} for model, provider in pairs]
    return JsonResponse({"object": "list", "data": data})


@openai_endpoint("GET")
async def budget(request: HttpRequest, tenant: Tenant) -> HttpResponseBase:
    """GET /v1/dit/budget: the remaining budget fraction of the guild in x-dit-guild (null: no budget)."""
    guild_id = _guild(request)
    if guild_id is None:
        raise BadRequest("The x-dit-guild header is required", param="x-dit-guild")
    fraction = await sync_to_async(selectors.budget_remaining_fraction)(guild_id)
    return JsonResponse({"guild_id": guild_id, "remaining_fraction": fraction})
