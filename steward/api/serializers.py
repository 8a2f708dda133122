"""API serializers of the steward app."""

from __future__ import annotations

from rest_framework import serializers

from steward.models import MemberThreat
from steward.security import STEWARD_THRESHOLD
from steward.selectors import current_score


class MemberThreatSerializer(serializers.ModelSerializer[MemberThreat]):
    """A member's standing: the stored score and its time, the score now, and the latest reasons."""

    current_score = serializers.SerializerMethodField()
    over_steward_threshold = serializers.SerializerMethodField()
    reasons = serializers.ListField(child=serializers.DictField(), read_only=True)

    class Meta:
        model = MemberThreat
        fields = [
            "id",
            "guild_id",
            "user_id",
            "display_name",
            "score",
            "scored_at",
            "current_score",
            "over_steward_threshold",
            "reasons",
            "last_message_at",
            "first_scored_at",
        ]
        read_only_fields = fields

    def get_current_score(self, obj: MemberThreat) -> float:
        """The score decayed to now."""
        return round(current_score(obj), 4)

    def get_over_steward_threshold(self, obj: MemberThreat) -> bool:
        """Whether the steward would propose a timeout now (once it exists)."""
        return current_score(obj) >= STEWARD_THRESHOLD
