"""What every log-table admin shares: a paginator that does not count a large table row by row."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.db import connection
from django.db.models import QuerySet
from django.utils.functional import cached_property

# Below this many rows an exact COUNT(*) is cheap, and the planner's estimate may be stale or -1.
EXACT_COUNT_BELOW = 10_000


class EstimatedCountPaginator(Paginator[Any]):
    """Pages a large append-only table without COUNT(*) over all of it: the planner's estimate will do."""

    @cached_property
    def count(self) -> int:
        """The planner's estimate for a large unfiltered table, else an exact count."""
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
