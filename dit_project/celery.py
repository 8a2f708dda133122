"""The Celery application: the reactor's executor. No beat schedule exists or is wanted."""

import logging
import os
from typing import Any

from celery import Celery
from celery.signals import after_setup_logger

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dit_project.settings")

app = Celery("dit")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@after_setup_logger.connect
def keep_project_logging(logger: logging.Logger, **kwargs: Any) -> None:
    """A worker's log lines in the project's format, with the log context, and its errors captured."""
    from django.conf import settings

    from dit_project.logformat import attach

    attach(logger, settings.DIT_LOG_FORMAT)
