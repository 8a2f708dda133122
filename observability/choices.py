"""Choices of the observability app."""

from django.db import models


class ErrorSource(models.TextChoices):
    """Where an error was captured."""

    TURN = "turn", "A bot's turn"
    TASK = "task", "A Celery task or reactor trigger"
    REQUEST = "request", "A web request"
    OTHER = "other", "Elsewhere"
