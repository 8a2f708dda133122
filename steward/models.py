"""Models of the steward app: each member's standing in a guild, as the security engine scores it."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

__all__ = ["MemberThreat"]


class MemberThreat(models.Model):
    """How far a member of a guild is not to be engaged: a score from their messages' signals, decaying.

    The stored `score` is the value at `scored_at`; read it through `steward.security.decayed` (half-life
    DIT_THREAT_HALF_LIFE_MINUTES), so nothing has to run on a clock to let it fall. Written by the host in
    the statement that records a turn's decision, only when a message of the turn carried a signal.
    """

    guild_id = models.CharField(max_length=64)
    user_id = models.CharField(max_length=64)
    display_name = models.CharField(max_length=200, blank=True)
    score = models.FloatField(default=0.0, help_text="The score at scored_at (0..1), before decay.")
    scored_at = models.DateTimeField(default=timezone.now)
    reasons = models.JSONField(
        default=list, blank=True, help_text="The latest signals, newest first: signal, points, reason, at."
    )
    last_message_at = models.DateTimeField(
        default=timezone.now, help_text="The newest message counted: a message is counted once, by any bot."
    )
    first_scored_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-scored_at", "-id"]
        indexes = [models.Index(fields=["guild_id", "-scored_at"], name="steward_threat_guild_scored")]
        constraints = [
            models.UniqueConstraint(fields=["guild_id", "user_id"], name="steward_memberthreat_one_per_member"),
            models.CheckConstraint(
                condition=models.Q(score__gte=0) & models.Q(score__lte=1), name="steward_memberthreat_score_unit"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.display_name or self.user_id} in {self.guild_id}: {self.score:.2f}"
