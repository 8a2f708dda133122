"""Django's stock middleware, run on the event loop under ASGI instead of a thread hop per hook.

Under ASGI, Django runs each hook of a sync middleware (`process_request`, `process_response`) through
`sync_to_async` on the one thread all thread-sensitive work shares: seven middlewares cost about a dozen
hops per request, every API and gateway request included. The hooks below do header, cookie and
attribute work only, so they run inline. Where a hook can reach the database (storing messages into the
session) it still hops, exactly when Django's would have had to. Under WSGI nothing changes: the sync
path is Django's own. The security, session, CSRF and clickjacking middlewares stay Django's classes,
named as `manage.py check --deploy` looks for them.

CommonMiddleware also refuses a URL holding a NUL character (`%00`), in its path or query: no PostgreSQL
text column can store or compare one, so any lookup it reached would fail as a 500.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.auth import middleware as auth
from django.contrib.messages import middleware as messages
from django.http import HttpRequest, HttpResponseBadRequest, HttpResponseBase, JsonResponse
from django.middleware import common
from django.utils.deprecation import MiddlewareMixin

from dit_project.errors import JSON_PREFIXES

NUL_IN_URL = "The URL contains a NUL character (%00), which no path or query value may hold"


class InlineHooks(MiddlewareMixin):
    """Run `process_request` and `process_response` on the event loop when the request is async."""

    def response_needs_thread(self, request: HttpRequest) -> bool:
        """Whether `process_response` may do blocking work for this request (then it runs on a thread)."""
        return False

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        """Django's async middleware call, with the hooks run inline unless they may block."""
        response: Any = None
        process_request = getattr(self, "process_request", None)
        if process_request is not None:
            response = process_request(request)
        response = response or await self.get_response(request)  # type: ignore[misc]
        process_response = getattr(self, "process_response", None)
        if process_response is not None:
            if self.response_needs_thread(request):
                response = await sync_to_async(process_response, thread_sensitive=True)(request, response)
            else:
                response = process_response(request, response)
        return response  # type: ignore[no-any-return]


def _url_holds_nul(request: HttpRequest) -> bool:
    if "\x00" in request.path:
        return True
    return any("\x00" in key or any("\x00" in value for value in values) for key, values in request.GET.lists())


class CommonMiddleware(InlineHooks, common.CommonMiddleware):
    """Django's CommonMiddleware (APPEND_SLASH, DISALLOWED_USER_AGENTS), and a 400 for a NUL in the URL."""

    # django-stubs narrows this hook to the redirect Django's own returns; any response is allowed.
    def process_request(self, request: HttpRequest) -> HttpResponseBase | None:  # type: ignore[override]
        """A 400 (JSON under /api/ and /v1/) for a URL with a NUL; Django's checks otherwise."""
        if _url_holds_nul(request):
            if request.path.startswith(JSON_PREFIXES):
                return JsonResponse({"error": {"code": "invalid", "message": NUL_IN_URL}}, status=400)
            return HttpResponseBadRequest(NUL_IN_URL)
        return super().process_request(request)


class AuthenticationMiddleware(InlineHooks, auth.AuthenticationMiddleware):
    """Django's AuthenticationMiddleware: it sets lazy users only, reading nothing until a view asks."""


class MessageMiddleware(InlineHooks, messages.MessageMiddleware):
    """Django's MessageMiddleware; storing messages (into the session, maybe) still runs on a thread."""

    def response_needs_thread(self, request: HttpRequest) -> bool:
        """Messages read or added during the request are stored, which may load the session."""
        storage = getattr(request, "_messages", None)
        return storage is not None and (bool(storage.used) or bool(storage.added_new))
