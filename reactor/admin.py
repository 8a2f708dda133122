"""Admin screens of the reactor app: the event log, read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from dit_project.admin import EstimatedCountPaginator
from reactor.models import ReactorEvent


@admin.register(ReactorEvent)
class ReactorEventAdmin(admin.ModelAdmin[ReactorEvent]):
    """The event log as it was written: list, filter and read; never add, edit or delete."""

    list_display = ("id", "created_at", "kind", "guild_id", "channel_id", "idempotency_key")
    list_filter = ("kind",)
    search_fields = ("=guild_id", "=channel_id", "=idempotency_key")
    readonly_fields = ("kind", "payload", "guild_id", "channel_id", "idempotency_key", "created_at")
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    list_per_page = 100

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
