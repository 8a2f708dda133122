"""The forget-me log: that a member was forgotten in a guild, and what went, without naming the member."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from memory.choices import ForgetRequester, ForgetStatus


class ForgetRequest(models.Model):
    """One forget-me action. The member appears only as a keyed hash, so the log keeps none of their data."""

    guild_id = models.CharField(max_length=64)
    subject_hash = models.CharField(
        max_length=64, help_text="HMAC of guild and member id under SECRET_KEY: checkable, not reversible."
    )
    requested_by = models.CharField(max_length=10, choices=ForgetRequester.choices)
    requested_by_staff = models.CharField(max_length=150, blank=True, help_text="The admin user, for admin requests.")
    status = models.CharField(max_length=10, choices=ForgetStatus.choices, default=ForgetStatus.DONE)
    deleted = models.JSONField(default=dict, blank=True, help_text="Rows removed or redacted, per table.")
    epochs_regenerated = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = (
            models.CheckConstraint(
                condition=models.Q(requested_by__in=ForgetRequester.values), name="memory_forget_requester_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=ForgetStatus.values), name="memory_forget_status_valid"
            ),
        )
        indexes = (models.Index(fields=("guild_id", "subject_hash"), name="memory_forget_guild_subject"),)

    def __str__(self) -> str:
        return f"forget {self.subject_hash[:10]} in {self.guild_id}"
