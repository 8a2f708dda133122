"""What a log line is about: the turn's decision, guild, channel and trigger, the task or the request path.

The host's pipeline and the reactor's execution bind these with `bind(...)` for the length of a turn or a
trigger run; `ContextFilter`, on every handler, copies them onto each record, so every line logged meanwhile
carries them (database threads run with a copy of the caller's context, so their lines do too). The values
live in a context variable: each asyncio task and each thread sees only its own.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import MappingProxyType
from typing import Any

# The fields a log line may carry, in the order the text format prints them.
FIELDS = ("decision_id", "guild_id", "channel_id", "trigger_id", "task", "request_path")

_EMPTY: Mapping[str, str] = MappingProxyType({})
_context: contextvars.ContextVar[Mapping[str, str]] = contextvars.ContextVar("dit_log_context", default=_EMPTY)


def _cleaned(fields: Mapping[str, Any]) -> dict[str, str]:
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise ValueError(f"unknown log context fields: {', '.join(sorted(unknown))}")
    return {name: str(value) for name, value in fields.items() if value not in (None, "")}


@contextmanager
def bind(**fields: Any) -> Iterator[None]:
    """Add fields to the log context until the block ends (empty values are left out)."""
    token = push(**fields)
    try:
        yield
    finally:
        pop(token)


def push(**fields: Any) -> contextvars.Token[Mapping[str, str]]:
    """Add fields until `pop(token)`: for code bracketed by two signals (a Celery task's prerun and postrun)."""
    return _context.set(MappingProxyType({**_context.get(), **_cleaned(fields)}))


def pop(token: contextvars.Token[Mapping[str, str]]) -> None:
    """Drop the fields added by the `push` that returned `token`."""
    _context.reset(token)


def annotate(**fields: Any) -> None:
    """Add fields learnt part-way through a bound block (a decision id once written); the block's end drops them."""
    _context.set(MappingProxyType({**_context.get(), **_cleaned(fields)}))


def current() -> Mapping[str, str]:
    """The fields bound in this task or thread."""
    return _context.get()


class ContextFilter(logging.Filter):
    """Copies the bound fields onto each record (never overriding a field the call passed in `extra`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Annotate the record; never drops it."""
        for name, value in _context.get().items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True
