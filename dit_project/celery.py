"""The Celery application: the reactor's executor. No beat schedule exists or is wanted."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dit_project.settings")

app = Celery("dit")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
