"""The logging handler that turns every record logged at ERROR with a traceback into a captured error."""

from __future__ import annotations

import logging


class ErrorCaptureHandler(logging.Handler):
    """Captures the exception of each ERROR record that carries one (`logger.exception`, `exc_info=`)."""

    def __init__(self, level: int = logging.ERROR) -> None:
        super().__init__(level)

    def emit(self, record: logging.LogRecord) -> None:
        """Hand the record's exception to the capture module; a record without one is ignored."""
        if record.exc_info is None or record.exc_info[1] is None:
            return
        # Imported here: logging is configured before the apps are loaded.
        from observability.capture import capture_exception

        path = getattr(getattr(record, "request", None), "path", None)
        capture_exception(
            record.exc_info[1],
            logger_name=record.name,
            context={"request_path": path} if isinstance(path, str) else None,
        )
