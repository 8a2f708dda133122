"""Admin screens of the reactor app: the event log, read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.functional import cached_property

from reactor.models import ReactorEvent

# Below this many rows an exact COUNT(*) is cheap, and the planner's estimate may be stale or -1.
EXACT_COUNT_BELOW = 10_000


class EstimatedCountPaginator(Paginator):
    """Pages a large append-only table without COUNT(*) over all of it: the planner's estimate will do."""

    @cached_property
    def count(self) -> int:
        object_list = self.object_list
        if not isinstance(object_list, QuerySet) or object_list.query.where:
            return super().count
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [object_list.model._meta.db_table]
            )
            row = cursor.fetchone()
        estimate = int(row[0]) if row else -1
        return estimate if estimate >= EXACT_COUNT_BELOW else super().count


@admin.register(ReactorEvent)
class ReactorEventAdmin(admin.ModelAdmin):
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
