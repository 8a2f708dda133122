"""Errors grouped by fingerprint: one row per kind of failure, counted, with its latest traceback and context."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from observability.choices import ErrorSource


class ErrorEvent(models.Model):
    """One kind of error (its fingerprint): how often, since when, and the latest occurrence in full."""

    fingerprint = models.CharField(
        max_length=64, help_text="Exception type and the innermost frames of project code, hashed."
    )
    exception_type = models.CharField(max_length=255)
    location = models.CharField(max_length=500, blank=True, help_text="The innermost project frame: file:function.")
    message = models.TextField(blank=True, help_text="The latest occurrence's message, secrets masked.")
    source = models.CharField(max_length=10, choices=ErrorSource.choices, default=ErrorSource.OTHER)
    logger_name = models.CharField(max_length=200, blank=True)
    count = models.PositiveBigIntegerField(default=1)
    first_seen = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)
    last_traceback = models.TextField(blank=True, help_text="The latest occurrence's traceback, secrets masked.")
    context = models.JSONField(
        default=dict, blank=True, help_text="The latest occurrence's decision, guild, channel, trigger, task, path."
    )

    class Meta:
        ordering = ["-last_seen"]
        constraints = [
            models.UniqueConstraint(fields=["fingerprint"], name="observability_error_one_row_per_fingerprint"),
            models.CheckConstraint(
                condition=models.Q(source__in=ErrorSource.values), name="observability_error_source_valid"
            ),
        ]
        indexes = [models.Index(fields=["last_seen"], name="observability_error_seen_idx")]

    def __str__(self) -> str:
        return f"{self.exception_type} at {self.location or '?'} ({self.count}x)"
