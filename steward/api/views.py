"""API views of the steward app: members' threat standings, for staff only."""

from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import permissions, viewsets

from steward.api.serializers import MemberThreatSerializer
from steward.models import MemberThreat
from steward.selectors import member_threat_list


class MemberThreatViewSet(viewsets.ReadOnlyModelViewSet[MemberThreat]):
    """Members the security engine scored, the most recently scored first."""

    serializer_class = MemberThreatSerializer
    permission_classes = [permissions.IsAdminUser]
    filterset_fields = ["guild_id", "user_id"]
    ordering_fields = ["scored_at", "score"]

    def get_queryset(self) -> QuerySet[MemberThreat]:
        return member_threat_list()
