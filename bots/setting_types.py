"""Setting fields and their types: one coercion and validation rule per type, shared by the manifest
validator (defaults), the settings view (overrides and environment variables), the admin form and the API.

Messages never quote a secret's value.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from bots.choices import FieldType

SettingValue = str | int | float | bool

TRUE_WORDS = frozenset({"true", "1", "yes", "on"})
FALSE_WORDS = frozenset({"false", "0", "no", "off"})
PLATFORM_ID = re.compile(r"^\S{1,64}$")
PLATFORM_ID_TYPES = frozenset({FieldType.DISCORD_CHANNEL, FieldType.DISCORD_ROLE})


class ValueRejected(ValueError):
    """A value does not fit a field; the message says why, without echoing secrets."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class SelectOption:
    """One choice of a select field."""

    value: str
    label: str


@dataclass(frozen=True)
class SettingField:
    """One typed setting (or credential) declared by a manifest."""

    key: str
    type: FieldType
    label: str
    group: str
    default: SettingValue | None = None
    min: int | float | None = None
    max: int | float | None = None
    required: bool = False
    help: str = ""
    options: tuple[SelectOption, ...] = ()
    is_credential: bool = False

    @property
    def is_secret(self) -> bool:
        """Secrets are encrypted at rest and masked everywhere they could be shown."""
        return self.type == FieldType.SECRET

    @property
    def env_var(self) -> str:
        """The environment variable read for this field: named exactly after the key."""
        return self.key

    @property
    def option_values(self) -> tuple[str, ...]:
        """The values a select field accepts."""
        return tuple(option.value for option in self.options)


def describe_json_type(value: object) -> str:
    """The JSON name of a Python value's type, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _format_number(value: int | float) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _check_bounds(field: SettingField, number: int | float) -> None:
    if field.min is not None and number < field.min:
        raise ValueRejected(f"{_format_number(number)} is below the minimum {_format_number(field.min)}")
    if field.max is not None and number > field.max:
        raise ValueRejected(f"{_format_number(number)} is above the maximum {_format_number(field.max)}")


def _coerce_number(field: SettingField, value: object) -> int | float:
    # bool is an int in Python but never a number in a manifest.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueRejected(f"expected a number, got {describe_json_type(value)}")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueRejected("expected a finite number")
        if value.is_integer():
            value = int(value)
    _check_bounds(field, value)
    return value


def coerce_value(field: SettingField, value: object) -> SettingValue:
    """Check a JSON-typed value (a default, a stored override, an API body) against the field; return it normalised."""
    if isinstance(value, str) and "\x00" in value:
        # PostgreSQL text and JSON cannot hold a NUL character: say so rather than fail on save.
        raise ValueRejected("text cannot contain a NUL character (\\u0000)")
    match field.type:
        case FieldType.NUMBER:
            return _coerce_number(field, value)
        case FieldType.BOOLEAN:
            if not isinstance(value, bool):
                raise ValueRejected(f"expected a boolean, got {describe_json_type(value)}")
            return value
        case FieldType.SELECT:
            if not isinstance(value, str):
                raise ValueRejected(f"expected one of the options as a string, got {describe_json_type(value)}")
            if value not in field.option_values:
                raise ValueRejected(f"{value!r} is not one of the options: {', '.join(field.option_values)}")
            return value
        case FieldType.SECRET:
            if not isinstance(value, str) or not value:
                raise ValueRejected("expected a non-empty string")
            return value
        case FieldType.DISCORD_CHANNEL | FieldType.DISCORD_ROLE:
            noun = "channel" if field.type == FieldType.DISCORD_CHANNEL else "role"
            if not isinstance(value, str):
                raise ValueRejected(f"expected a {noun} id as a string, got {describe_json_type(value)}")
            if not PLATFORM_ID.match(value):
                raise ValueRejected(f"{value!r} is not a {noun} id (1 to 64 characters, no spaces)")
            return value
        case _:
            if not isinstance(value, str):
                raise ValueRejected(f"expected a string, got {describe_json_type(value)}")
            return value


def parse_text(field: SettingField, text: str) -> SettingValue | None:
    """Read an environment variable's text as the field's type; empty text is unset except for plain strings."""
    if field.type == FieldType.STRING:
        return text
    stripped = text.strip()
    if not stripped:
        return None
    match field.type:
        case FieldType.NUMBER:
            try:
                number: int | float = int(stripped)
            except ValueError:
                try:
                    number = float(stripped)
                except ValueError:
                    raise ValueRejected(f"{stripped!r} is not a number") from None
            return _coerce_number(field, number)
        case FieldType.BOOLEAN:
            word = stripped.lower()
            if word in TRUE_WORDS:
                return True
            if word in FALSE_WORDS:
                return False
            raise ValueRejected(f"{stripped!r} is not a boolean (use true/false, 1/0, yes/no or on/off)")
        case FieldType.SECRET:
            # Secrets keep their exact text: surrounding spaces may be part of them.
            return coerce_value(field, text)
        case _:
            return coerce_value(field, stripped)
