"""Times a question names ("yesterday", "last week", "3 days ago", "on March 4", "in June", "2026-03-04"),
as a window of aware datetimes that search can filter on. Only English, only the forms listed here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
UNITS = {"day": timedelta(days=1), "week": timedelta(days=7), "month": timedelta(days=30)}
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))


@dataclass(frozen=True)
class TimeWindow:
    """[start, end) and the words that named it."""

    start: datetime
    end: datetime
    phrase: str


def parse_time_window(text: str, *, now: datetime) -> TimeWindow | None:
    """The first time expression in `text` as a window relative to `now` (aware), or None."""
    lowered = text.casefold()
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if found := re.search(r"\b(\d{4})-(\d{2})-(\d{2})\b", lowered):
        day = today.replace(year=int(found[1]), month=int(found[2]), day=int(found[3]))
        return TimeWindow(day, day + timedelta(days=1), found[0])
    if found := re.search(r"\byesterday\b", lowered):
        return TimeWindow(today - timedelta(days=1), today, found[0])
    if found := re.search(r"\blast night\b", lowered):
        return TimeWindow(today - timedelta(hours=6), today + timedelta(hours=6), found[0])
    if found := re.search(r"\b(today|this morning|tonight|this afternoon|this evening)\b", lowered):
        return TimeWindow(today, today + timedelta(days=1), found[0])
    if found := re.search(r"\b(\d+|a|an|one|two|three|four|five|six)\s+(day|week|month)s?\s+ago\b", lowered):
        count = _number(found[1])
        unit = UNITS[found[2]]
        centre = now - unit * count
        return TimeWindow(centre - unit, centre + unit, found[0])
    if found := re.search(r"\b(last|this|past)\s+(week|month)\b", lowered):
        if found[2] == "week":
            week_start = today - timedelta(days=today.weekday())
            if found[1] == "this":
                return TimeWindow(week_start, week_start + timedelta(days=7), found[0])
            if found[1] == "past":
                return TimeWindow(now - timedelta(days=7), now, found[0])
            return TimeWindow(week_start - timedelta(days=7), week_start, found[0])
        month_start = today.replace(day=1)
        if found[1] == "this":
            return TimeWindow(month_start, _next_month(month_start), found[0])
        if found[1] == "past":
            return TimeWindow(now - timedelta(days=30), now, found[0])
        previous = (month_start - timedelta(days=1)).replace(day=1)
        return TimeWindow(previous, month_start, found[0])
    if found := re.search(rf"\b(?:on\s+)?(?:last\s+)?({'|'.join(WEEKDAYS)})\b", lowered):
        back = (today.weekday() - WEEKDAYS.index(found[1])) % 7 or 7
        day = today - timedelta(days=back)
        return TimeWindow(day, day + timedelta(days=1), found[0])
    if found := re.search(rf"\b({_MONTH})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(\d{{4}}))?", lowered):
        return _day(today, MONTHS[found[1]], int(found[2]), found[3], found[0])
    if found := re.search(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH})\b(?:,?\s+(\d{{4}}))?", lowered):
        return _day(today, MONTHS[found[2]], int(found[1]), found[3], found[0])
    if found := re.search(rf"\bin\s+({_MONTH})\b(?:\s+(\d{{4}}))?", lowered):
        month = MONTHS[found[1]]
        year = int(found[2]) if found[2] else (today.year if month <= today.month else today.year - 1)
        start = today.replace(year=year, month=month, day=1)
        return TimeWindow(start, _next_month(start), found[0])
    return None


def _number(word: str) -> int:
    words = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
    return words[word] if word in words else int(word)


def _day(today: datetime, month: int, day: int, year: str | None, phrase: str) -> TimeWindow | None:
    try:
        start = today.replace(year=int(year) if year else today.year, month=month, day=day)
    except ValueError:
        return None
    if year is None and start > today:
        start = start.replace(year=start.year - 1)
    return TimeWindow(start, start + timedelta(days=1), phrase)


def _next_month(start: datetime) -> datetime:
    return (start + timedelta(days=32)).replace(day=1)
