"""Reads of the steward app: members' threat standings, their score decayed to now."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from steward.models import MemberThreat
from steward.security import decayed


def member_threat_list(*, guild_id: str | None = None) -> QuerySet[MemberThreat]:
    """Scored members, the most recently scored first (optionally in one guild)."""
    threats = MemberThreat.objects.all()
    return threats.filter(guild_id=guild_id) if guild_id else threats


def current_score(threat: MemberThreat, *, now: datetime | None = None) -> float:
    """A member's score decayed to now."""
    return decayed(threat.score, since=threat.scored_at, now=now or timezone.now())
