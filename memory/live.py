"""Selectors for the live transcript: the guild-wide pending-history window and the narrow per-channel one.

Awareness is guild-wide: a turn in #general sees what was said in #random a moment ago. Channel id is
a tag on every item, never a partition; the current channel only gets a larger share of the window.
A guild's window never holds direct messages, and a DM's window holds only that DM channel.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from django.db import connection
from django.db.models import OuterRef, QuerySet, Subquery

from dit_project.errors import ApplicationError
from memory.models import Transcript, TranscriptRevision

DEFAULT_LIVE_SIZE = 40
DEFAULT_CURRENT_CHANNEL_SHARE = 0.6
DEFAULT_NARROW_SIZE = 5


@dataclass(frozen=True, slots=True)
class LiveItem:
    """One message of a live window, with the channel it was said in and its current wording."""

    transcript_id: int
    seq: int
    platform: str
    message_id: str
    guild_id: str
    channel_id: str
    channel_name: str
    is_dm: bool
    author_id: str
    author_display_name: str
    author_is_bot: bool
    role: str
    content: str
    edited: bool
    reply_to_author_id: str
    mentions: tuple[str, ...]
    created_at: datetime


_COLUMNS = (
    "id",
    "seq",
    "platform",
    "message_id",
    "guild_id",
    "channel_id",
    "channel_name",
    "is_dm",
    "author_id",
    "author_display_name",
    "author_is_bot",
    "role",
    "content",
    "reply_to_author_id",
    "mentions",
    "created_at",
)
_CHANNEL = _COLUMNS.index("channel_id")
_CREATED_AT = _COLUMNS.index("created_at")
_SEQ = _COLUMNS.index("seq")


def live_window(
    guild_id: str,
    *,
    current_channel_id: str,
    size: int = DEFAULT_LIVE_SIZE,
    current_channel_share: float = DEFAULT_CURRENT_CHANNEL_SHARE,
    before: datetime | None = None,
) -> list[LiveItem]:
    """The last `size` messages of a guild across its channels (the current one weighted), oldest first."""
    if size < 1:
        raise ApplicationError(f"size must be at least 1, got {size}", code="invalid_argument", field="size")
    if not 0.0 <= current_channel_share <= 1.0:
        raise ApplicationError(
            f"current_channel_share must be within 0..1, got {current_channel_share}",
            code="invalid_argument",
            field="current_channel_share",
        )
    if not guild_id:
        # A DM turn: that DM channel and nothing else.
        dm_rows = _rows().filter(is_dm=True, guild_id="", channel_id=current_channel_id)
        return _items(reversed(list(_newest_first(dm_rows, size, before))))

    guild_rows = _rows().filter(guild_id=guild_id, is_dm=False)
    current = _newest_first(guild_rows.filter(channel_id=current_channel_id), size, before)
    elsewhere = _newest_first(guild_rows.exclude(channel_id=current_channel_id), size, before)
    # One round trip: both newest-first slices, each served by its own index, through UNION ALL.
    rows = list(current.union(elsewhere, all=True))
    # The union comes back in no set order: newest first within each side, as the slices were taken.
    newest_first = sorted(rows, key=lambda row: (row[_CREATED_AT], row[_SEQ]), reverse=True)
    in_current = _items(row for row in newest_first if row[_CHANNEL] == current_channel_id)
    in_others = _items(row for row in newest_first if row[_CHANNEL] != current_channel_id)
    return _weighted(in_current, in_others, size=size, current_channel_share=current_channel_share)


def _weighted(
    in_current: list[LiveItem], in_others: list[LiveItem], *, size: int, current_channel_share: float
) -> list[LiveItem]:
    """Newest-first items of the current channel and the others, as one window of `size`, oldest first."""
    # The current channel gets its share; whichever side has fewer messages leaves its slack to the other.
    quota = round(size * current_channel_share)
    take_current = min(len(in_current), max(quota, size - len(in_others)))
    take_others = min(len(in_others), size - take_current)
    chosen = in_current[:take_current] + in_others[:take_others]
    chosen.sort(key=lambda item: (item.created_at, item.seq))
    return chosen


DEFAULT_RECENT_CHANNEL_SIZE = 50


@dataclass(frozen=True, slots=True)
class RecentActivity:
    """A turn's one read of the transcript: its channel's latest messages and the rest of the guild's.

    Both oldest first. The host reads its router inputs from `channel`; the live strategies build their
    windows from both, so a turn on the live window costs one query.
    """

    guild_id: str
    channel_id: str
    channel: tuple[LiveItem, ...]
    elsewhere: tuple[LiveItem, ...]
    channel_limit: int = DEFAULT_RECENT_CHANNEL_SIZE

    def covers(self, n: int) -> bool:
        """Whether the channel's last `n` messages are all in this read."""
        return n <= len(self.channel) or len(self.channel) < self.channel_limit

    def window(self, *, size: int, current_channel_share: float) -> list[LiveItem]:
        """The guild-wide live window of `size` (see `live_window`) drawn from these rows.

        Exact for any `size` up to the read's sizes (50 in the channel, 40 elsewhere by default).
        """
        current = list(reversed(self.channel))[:size]
        others = list(reversed(self.elsewhere))[:size]
        return _weighted(current, others, size=size, current_channel_share=current_channel_share)

    def last(self, n: int) -> list[LiveItem]:
        """The channel's last `n` messages, oldest first."""
        return list(self.channel[-n:]) if n > 0 else []


def recent_activity(
    *,
    guild_id: str,
    channel_id: str,
    is_dm: bool,
    channel_size: int = DEFAULT_RECENT_CHANNEL_SIZE,
    elsewhere_size: int = DEFAULT_LIVE_SIZE,
) -> RecentActivity:
    """The channel's last `channel_size` messages and the guild's last `elsewhere_size` elsewhere, in one query."""
    if is_dm or not guild_id:
        rows = _run(_recent_sql(channel_size, 0), guild_id="", channel_id=channel_id)
        return RecentActivity(
            guild_id="",
            channel_id=channel_id,
            channel=tuple(_items(reversed(rows))),
            elsewhere=(),
            channel_limit=channel_size,
        )
    rows = _run(_recent_sql(channel_size, elsewhere_size), guild_id=guild_id, channel_id=channel_id)
    ordered = sorted(rows, key=lambda row: (row[_CREATED_AT], row[_SEQ]))
    return RecentActivity(
        guild_id=guild_id,
        channel_id=channel_id,
        channel=tuple(_items(row for row in ordered if row[_CHANNEL] == channel_id)),
        elsewhere=tuple(_items(row for row in ordered if row[_CHANNEL] != channel_id)),
        channel_limit=channel_size,
    )


# Stand-ins for a turn's guild and channel while the SQL of `recent_activity` is compiled once per shape.
_GUILD_MARK = "\x00guild"
_CHANNEL_MARK = "\x00channel"


@dataclass(frozen=True, slots=True)
class _CompiledRead:
    sql: str
    params: tuple[Any, ...]


@cache
def _recent_sql(channel_size: int, elsewhere_size: int) -> _CompiledRead:
    """The SQL of a turn's one read, compiled by the ORM once per shape (every turn runs the same query).

    `elsewhere_size` 0 is a DM's read: that DM channel alone. Compiling the union costs more than running it.
    """
    if elsewhere_size == 0:
        query = _newest_first(_rows().filter(is_dm=True, guild_id="", channel_id=_CHANNEL_MARK), channel_size, None)
    else:
        guild_rows = _rows().filter(guild_id=_GUILD_MARK, is_dm=False)
        current = _newest_first(guild_rows.filter(channel_id=_CHANNEL_MARK), channel_size, None)
        elsewhere = _newest_first(guild_rows.exclude(channel_id=_CHANNEL_MARK), elsewhere_size, None)
        query = current.union(elsewhere, all=True)
    sql, params = query.query.get_compiler(connection=connection).as_sql()
    return _CompiledRead(sql=sql, params=tuple(params))


def _run(read: _CompiledRead, *, guild_id: str, channel_id: str) -> list[tuple[Any, ...]]:
    # None of the columns read needs a converter of Django's: the driver's values are the ORM's values.
    params = [guild_id if p == _GUILD_MARK else channel_id if p == _CHANNEL_MARK else p for p in read.params]
    with connection.cursor() as cursor:
        cursor.execute(read.sql, params)
        return list(cursor.fetchall())


def narrow_live(channel_id: str, n: int = DEFAULT_NARROW_SIZE) -> list[LiveItem]:
    """The last `n` messages of one channel, oldest first."""
    if n < 1:
        raise ApplicationError(f"n must be at least 1, got {n}", code="invalid_argument", field="n")
    return _items(reversed(list(_newest_first(_rows().filter(channel_id=channel_id), n, None))))


def _rows() -> QuerySet[Any, Any]:
    # The newest revision's wording, if the message was edited; the original row stays as posted.
    latest_edit = (
        TranscriptRevision.objects.filter(transcript=OuterRef("pk")).order_by("-edited_at", "-id").values("content")[:1]
    )
    return Transcript.objects.annotate(latest_edit=Subquery(latest_edit)).values_list(*_COLUMNS, "latest_edit")


def _newest_first(rows: QuerySet[Any, Any], limit: int, before: datetime | None) -> QuerySet[Any, Any]:
    if before is not None:
        rows = rows.filter(created_at__lt=before)
    return rows.order_by("-created_at", "-seq")[:limit]


def _items(rows: Iterable[tuple[Any, ...]]) -> list[LiveItem]:
    items = []
    for row in rows:
        values = dict(zip(_COLUMNS, row[: len(_COLUMNS)], strict=True))
        latest_edit = row[len(_COLUMNS)]
        values["transcript_id"] = values.pop("id")
        values["mentions"] = tuple(values["mentions"])
        if latest_edit is not None:
            values["content"] = latest_edit
        items.append(LiveItem(edited=latest_edit is not None, **values))
    return items
