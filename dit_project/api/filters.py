"""Filter parts shared by every app's API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time, converted to UTC.

    Python takes offsets up to ±23:59:59 and PostgreSQL only up to ±15:59:59, and an offset can push a
    date past year 1 or 9999: converting here turns both into a 400 naming the parameter instead of a
    database error.
    """

    def to_python(self, value: Any) -> datetime | None:
        """The date-time in UTC, or a ValidationError when it cannot be one."""
        parsed = super().to_python(value)
        if not isinstance(parsed, datetime):
            return None
        try:
            return parsed.astimezone(UTC)
        except (OverflowError, ValueError) as exc:
            raise forms.ValidationError("The date-time is out of range once converted to UTC.", code="invalid") from exc


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    """IsoDateTimeFilter whose value reaches the database in UTC."""

    field_class = UtcIsoDateTimeField
