"""The D.I.T. Django project: settings, URLs, ASGI and the Celery app."""

from dit_project.celery import app as celery_app

__all__ = ["celery_app"]
