"""The gateway's reactor triggers: each guild's budget opens its next period at the boundary of the last.

Armed when an envelope is created, when its period end changes, and when a period opens (in the same
transaction); the dispatcher's start arms every guild that has a budget, so envelopes written before
this code existed get their timer too.
"""

from __future__ import annotations

from django.utils import timezone

from gateway.models import BudgetEnvelope
from gateway.services import REFRESH_TRIGGER, budget_refresh, budget_refresh_arm
from reactor.declare import Next, Outcome, TriggerRun, arming, trigger


@trigger(REFRESH_TRIGGER)
def refresh_budget(run: TriggerRun) -> Outcome:
    """Open the guild's next budget period once its latest one has ended."""
    guild_id = str(run.payload["guild_id"])
    latest = BudgetEnvelope.objects.filter(guild_id=guild_id).order_by("-period_start").first()
    if latest is None:
        return Outcome(result={"guild_id": guild_id, "skipped": "no budget"})
    now = timezone.now()
    if latest.refresh_at > now:
        # Opened already on first use, or the period was lengthened: wait for the new boundary.
        return Outcome(
            result={"guild_id": guild_id, "waiting_for": latest.refresh_at.isoformat()},
            then=Next(due_at=latest.refresh_at),
        )
    fresh = budget_refresh(envelope=latest, now=now)
    return Outcome(result={"guild_id": guild_id, "opened": fresh.pk, "period_start": fresh.period_start.isoformat()})


@arming
def arm_every_budget() -> None:
    """Every guild with a budget has its refresh timer."""
    for guild_id in BudgetEnvelope.objects.order_by().values_list("guild_id", flat=True).distinct():
        budget_refresh_arm(guild_id=guild_id)
