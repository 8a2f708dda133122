"""The member threats endpoint: staff read each member's standing, decayed to now, with its reasons."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from steward.models import MemberThreat

pytestmark = pytest.mark.django_db

REASONS = [{"signal": "injection", "points": 0.5, "reason": "injection phrase aimed at the bot: 'jailbreak'"}]


def scored(user_id: str, score: float, minutes_ago: float, guild_id: str = "g-1") -> MemberThreat:
    return MemberThreat.objects.create(
        guild_id=guild_id,
        user_id=user_id,
        score=score,
        scored_at=timezone.now() - timedelta(minutes=minutes_ago),
        reasons=REASONS,
    )


def test_staff_read_scores_decayed_to_now_with_their_reasons(owner_client, settings):
    settings.DIT_THREAT_HALF_LIFE_MINUTES = 30
    scored("u-mallory", 0.96, minutes_ago=0)
    scored("u-carol", 0.8, minutes_ago=30)
    scored("u-other", 0.5, minutes_ago=0, guild_id="g-2")

    response = owner_client.get(reverse("member-threat-list"), {"guild_id": "g-1"})

    rows = {row["user_id"]: row for row in response.json()["results"]}
    assert set(rows) == {"u-mallory", "u-carol"}
    assert rows["u-carol"]["current_score"] == pytest.approx(0.4, abs=0.01)
    assert rows["u-carol"]["over_steward_threshold"] is False
    assert rows["u-mallory"]["over_steward_threshold"] is True
    assert rows["u-mallory"]["reasons"] == REASONS


def test_members_who_are_not_staff_cannot_read_standings(member_client):
    scored("u-mallory", 0.9, minutes_ago=0)

    response = member_client.get(reverse("member-threat-list"))

    assert response.status_code == 403
    assert response.json()["error"]["code"]


def test_the_admin_shows_the_score_now_and_every_reason(admin_client):
    threat = scored("u-mallory", 0.9, minutes_ago=0)

    listing = admin_client.get(reverse("admin:steward_memberthreat_changelist")).content.decode()
    page = admin_client.get(reverse("admin:steward_memberthreat_change", args=[threat.pk])).content.decode()

    assert "0.90" in listing
    assert "injection phrase aimed at the bot" in listing
    assert "<td>injection</td>" in page
