"""How log lines are written: JSON lines (python-json-logger) or text, chosen by DIT_LOG_FORMAT, always scrubbed.

`auto` writes JSON when stderr is not a terminal (a container, a service manager, a file) and text when a
person is watching. Each line carries the log context (`dit_project.logcontext`) when one is bound. Every
string a line holds passes through `dit_project.redaction.scrub` before it is written, the traceback too.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from dit_project import logcontext
from dit_project.redaction import scrub

FORMATS = ("auto", "json", "text")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
JSON_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def _scrubbed(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {key: _scrubbed(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_scrubbed(item) for item in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return scrub(str(value))  # an object (a request in `extra`) is written as its text, so scrub that


class ScrubbingJsonFormatter(JsonFormatter):
    """One JSON object per line: time, level, logger, message, the log context, extras, the traceback."""

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        """Mask secrets in every string of the line."""
        return {key: _scrubbed(value) for key, value in log_data.items()}


class ScrubbingTextFormatter(logging.Formatter):
    """A plain line with the log context in brackets at its end."""

    def format(self, record: logging.LogRecord) -> str:
        """The line, its context appended, secrets masked."""
        line = super().format(record)
        context = " ".join(f"{name}={getattr(record, name)}" for name in logcontext.FIELDS if hasattr(record, name))
        if context:
            head, newline, rest = line.partition("\n")
            line = f"{head} [{context}]{newline}{rest}"
        return scrub(line)


def resolve_format(kind: str) -> str:
    """`json` or `text` for a DIT_LOG_FORMAT value (`auto` looks at stderr)."""
    if kind not in FORMATS:
        raise ValueError(f"DIT_LOG_FORMAT must be one of {', '.join(FORMATS)}, not {kind!r}")
    if kind == "auto":
        return "text" if sys.stderr.isatty() else "json"
    return kind


def build_formatter(kind: str = "auto") -> logging.Formatter:
    """The formatter for a DIT_LOG_FORMAT value (LOGGING's formatter factory)."""
    if resolve_format(kind) == "json":
        return ScrubbingJsonFormatter(
            JSON_FORMAT, rename_fields={"levelname": "level", "name": "logger"}, json_ensure_ascii=False
        )
    return ScrubbingTextFormatter(TEXT_FORMAT)


def attach(logger: logging.Logger, kind: str) -> None:
    """Give a logger configured by someone else (Celery's worker) the project's format, context and capture."""
    from observability.handlers import ErrorCaptureHandler

    for handler in logger.handlers:
        handler.setFormatter(build_formatter(kind))
        handler.addFilter(logcontext.ContextFilter())
    if not any(isinstance(handler, ErrorCaptureHandler) for handler in logger.handlers):
        logger.addHandler(ErrorCaptureHandler())
