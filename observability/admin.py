"""Admin screens of the observability app: errors grouped by fingerprint, read-only."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

from observability.models import ErrorEvent


@admin.register(ErrorEvent)
class ErrorEventAdmin(admin.ModelAdmin[ErrorEvent]):
    list_display = ["exception_type", "location", "short_message", "source", "count", "first_seen", "last_seen"]
    list_filter = ["source", "exception_type", "last_seen"]
    search_fields = ["exception_type", "location", "message", "fingerprint"]
    date_hierarchy = "last_seen"
    list_per_page = 50
    fields = [
        ("exception_type", "source", "logger_name"),
        "location",
        "message",
        ("count", "first_seen", "last_seen"),
        "context_block",
        "traceback_block",
        "fingerprint",
    ]
    readonly_fields = [
        "exception_type",
        "source",
        "logger_name",
        "location",
        "message",
        "count",
        "first_seen",
        "last_seen",
        "context_block",
        "traceback_block",
        "fingerprint",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: Any) -> Any:
        events = super().get_queryset(request)
        match = request.resolver_match
        if match is not None and match.url_name == "observability_errorevent_changelist":
            # The list shows none of the tracebacks; they are most of a row's size.
            events = events.defer("last_traceback", "context")
        return events

    @admin.display(description="message")
    def short_message(self, obj: ErrorEvent) -> str:
        """The latest message, cut to one line."""
        first = obj.message.splitlines()[0] if obj.message else ""
        return first if len(first) <= 120 else f"{first[:119]}…"

    @admin.display(description="context")
    def context_block(self, obj: ErrorEvent) -> SafeString:
        """The latest occurrence's decision, guild, channel, trigger, task or path."""
        return format_html('<pre style="margin:0">{}</pre>', json.dumps(obj.context, indent=2, sort_keys=True))

    @admin.display(description="latest traceback")
    def traceback_block(self, obj: ErrorEvent) -> SafeString:
        """The latest traceback, secrets masked."""
        return format_html('<pre style="white-space:pre-wrap;margin:0">{}</pre>', obj.last_traceback)
