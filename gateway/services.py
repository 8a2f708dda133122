"""Writes of the gateway: tenant tokens, budget envelopes (reserve, settle, refresh), usage.

The gateway imports no other app but the reactor, the infrastructure that times its budget refreshes.
"""

from __future__ import annotations

import hashlib
import logging
import math
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from gateway.errors import BadRequest, BudgetExhausted
from gateway.models import BudgetEnvelope, GatewayToken, ToolInvocation, UsageEvent
from reactor.choices import EventKind
from reactor.services import REPLACE, emit_event, schedule

if TYPE_CHECKING:
    from gateway.tools import ToolCallRecord

logger = logging.getLogger(__name__)

TOKEN_PREFIX = "dit_"  # noqa: S105 - a marker that starts every token, not a secret
# A token is marked used at most this often, so authenticating a request rarely writes.
TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)
# The reactor trigger that opens each guild's next budget period at its boundary (gateway/triggers.py).
REFRESH_TRIGGER = "gateway.budget_refresh"


# Tenant tokens ------------------------------------------------------------------------------------


def token_hash(plaintext: str) -> str:
    """The stored form of a token: its sha256, hex."""
    return hashlib.sha256(plaintext.encode()).hexdigest()


def token_issue(token: GatewayToken) -> str:
    """Give an unsaved token row a fresh secret; returns the plain text, which is never stored."""
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token.token_hash = token_hash(plaintext)
    token.token_prefix = plaintext[:12]
    return plaintext


def gateway_token_create(*, bot_id: int, label: str = "") -> tuple[GatewayToken, str]:
    """Create a bot's tenant token; the plain text is returned once and cannot be recovered."""
    token = GatewayToken(bot_id=bot_id, label=label)
    plaintext = token_issue(token)
    token.full_clean()
    token.save()
    return token, plaintext


def gateway_token_revoke(*, token: GatewayToken) -> GatewayToken:
    """Revoke a token now; requests bearing it get 401 from then on."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def gateway_token_touch(*, token: GatewayToken, now: datetime) -> None:
    """Record that a token was used, at most once per TOKEN_TOUCH_INTERVAL."""
    if token.last_used_at is not None and now - token.last_used_at < TOKEN_TOUCH_INTERVAL:
        return
    GatewayToken.objects.filter(pk=token.pk).update(last_used_at=now)


# Budget envelopes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetReservation:
    """An estimate held on an envelope while a call runs; settled with the real cost when it ends."""

    envelope_id: int
    amount: Decimal


def budget_envelope_create(
    *, guild_id: str, period_start: datetime, period_end: datetime, allocated_usd: Decimal
) -> BudgetEnvelope:
    """Open a budget period for a guild."""
    envelope = BudgetEnvelope(
        guild_id=guild_id,
        period_start=period_start,
        period_end=period_end,
        refresh_at=period_end,
        allocated_usd=allocated_usd,
    )
    envelope.full_clean()
    envelope.save()
    budget_refresh_arm(guild_id=guild_id)
    return envelope


def budget_envelope_update(
    *,
    envelope: BudgetEnvelope,
    allocated_usd: Decimal | None = None,
    period_start: datetime | None = None,
    period_end: datetime | None = None,
) -> BudgetEnvelope:
    """Change an envelope's allocation or period; spent and reserved amounts are the gateway's alone."""
    fields = []
    if allocated_usd is not None:
        envelope.allocated_usd = allocated_usd
        fields.append("allocated_usd")
    if period_start is not None:
        envelope.period_start = period_start
        fields.append("period_start")
    if period_end is not None:
        envelope.period_end = period_end
        envelope.refresh_at = period_end
        fields += ["period_end", "refresh_at"]
    if not fields:
        return envelope
    envelope.full_clean()
    envelope.save(update_fields=[*fields, "updated_at"])
    if period_end is not None:
        budget_refresh_arm(guild_id=envelope.guild_id)
    return envelope


def budget_refresh_arm(*, guild_id: str) -> None:
    """(Re)schedule the reactor's refresh of a guild's budget at its latest envelope's period end."""
    latest = BudgetEnvelope.objects.filter(guild_id=guild_id).order_by("-period_start").first()
    if latest is None:
        return
    schedule(
        REFRESH_TRIGGER,
        due_at=latest.refresh_at,
        payload={"guild_id": guild_id},
        dedupe_key=f"{REFRESH_TRIGGER}:{guild_id}",
        on_conflict=REPLACE,
        guild_id=guild_id,
    )


def budget_refresh(*, envelope: BudgetEnvelope, now: datetime) -> BudgetEnvelope:
    """Open the period after `envelope` that contains `now`, with the same length and allocation.

    Two processes may refresh at once; the unique (guild, period start) constraint lets one create the
    row and the other read it.
    """
    length = envelope.period_end - envelope.period_start
    skipped = max(0, (now - envelope.period_end) // length)
    start = envelope.period_end + skipped * length
    try:
        with transaction.atomic():
            fresh, created = BudgetEnvelope.objects.get_or_create(
                guild_id=envelope.guild_id,
                period_start=start,
                defaults={
                    "period_end": start + length,
                    "refresh_at": start + length,
                    "allocated_usd": envelope.allocated_usd,
                },
            )
            if created:
                # In the same transaction: the next boundary's timer and the event exist iff the period does.
                budget_refresh_arm(guild_id=fresh.guild_id)
                emit_event(
                    EventKind.BUDGET_PERIOD_OPENED,
                    {"envelope_id": fresh.pk, "period_start": fresh.period_start, "period_end": fresh.period_end},
                    guild_id=fresh.guild_id,
                    channel_id="",
                    idempotency_key=f"{EventKind.BUDGET_PERIOD_OPENED}:{fresh.pk}",
                )
    except IntegrityError:
        fresh = BudgetEnvelope.objects.get(guild_id=envelope.guild_id, period_start=start)
    logger.info("gateway: budget of guild %s refreshed for %s to %s", fresh.guild_id, start, start + length)
    return fresh


def budget_refresh_due(*, now: datetime | None = None) -> list[BudgetEnvelope]:
    """Refresh every guild whose latest envelope has reached its refresh time (all guilds at once).

    The reactor refreshes each guild at its own boundary (`gateway.triggers`); this is the same for an
    operator catching up every guild by hand.
    """
    moment = now or timezone.now()
    latest = BudgetEnvelope.objects.order_by("guild_id", "-period_start").distinct("guild_id")
    return [budget_refresh(envelope=envelope, now=moment) for envelope in latest if envelope.refresh_at <= moment]


def budget_envelope_current(*, guild_id: str, now: datetime) -> BudgetEnvelope | None:
    """The guild's envelope for `now`, refreshing a finished period on first use; None: no budget set."""
    envelope = BudgetEnvelope.objects.filter(guild_id=guild_id, period_start__lte=now).order_by("-period_start").first()
    if envelope is None or now < envelope.refresh_at:
        return envelope
    return budget_refresh(envelope=envelope, now=now)


def budget_reserve(*, guild_id: str, amount: Decimal, now: datetime | None = None) -> BudgetReservation | None:
    """Hold `amount` on the guild's current envelope before a call, or raise BudgetExhausted.

    The race: many calls (in many processes) check the same envelope at once. Reading `spent` and then
    writing would let all of them see room for one more call. Instead the check is the WHERE clause of
    one UPDATE: Postgres takes the row lock, re-evaluates the condition against the latest committed
    row, and either adds the reservation or matches nothing. Reservations of calls in flight count
    against the allocation, so concurrent calls overspend only by what their real cost exceeds their
    estimate, never by whole calls.
    """
    if amount < 0:
        raise BadRequest(f"A budget hold cannot be negative ({amount})")
    moment = now or timezone.now()
    envelope_id = _reserve_on_current_period(guild_id=guild_id, amount=amount, now=moment)
    if envelope_id is not None:
        return BudgetReservation(envelope_id=envelope_id, amount=amount)
    # No room, no envelope, or a period that has ended: the slower path tells them apart.
    envelope = budget_envelope_current(guild_id=guild_id, now=moment)
    if envelope is None:
        return None
    committed = F("spent_usd") + F("reserved_usd")
    held = (
        BudgetEnvelope.objects.filter(pk=envelope.pk)
        .filter(allocated_usd__gt=committed, allocated_usd__gte=committed + Value(amount))
        .update(reserved_usd=F("reserved_usd") + Value(amount), updated_at=moment)
    )
    if held != 1:
        envelope.refresh_from_db(fields=["spent_usd", "reserved_usd", "allocated_usd"])
        raise BudgetExhausted(
            f"The budget of guild {guild_id} is used up until {envelope.refresh_at.isoformat()}: "
            f"{envelope.spent_usd:.6f} of {envelope.allocated_usd:.6f} USD spent, "
            f"{envelope.reserved_usd:.6f} held by calls in flight, about {amount:.6f} needed",
            guild_id=guild_id,
            refresh_at=envelope.refresh_at.isoformat(),
            retry_after=max(1, math.ceil((envelope.refresh_at - moment).total_seconds())),
        )
    return BudgetReservation(envelope_id=envelope.pk, amount=amount)


_RESERVE_CURRENT = """
UPDATE gateway_budgetenvelope
   SET reserved_usd = reserved_usd + %(amount)s, updated_at = %(now)s
 WHERE id = (SELECT id FROM gateway_budgetenvelope
              WHERE guild_id = %(guild_id)s AND period_start <= %(now)s
              ORDER BY period_start DESC LIMIT 1)
   AND refresh_at > %(now)s
   AND allocated_usd > spent_usd + reserved_usd
   AND allocated_usd >= spent_usd + reserved_usd + %(amount)s
RETURNING id
"""


def _reserve_on_current_period(*, guild_id: str, amount: Decimal, now: datetime) -> int | None:
    """The common case of budget_reserve in one statement: a current period with room. None otherwise.

    Raw SQL because the ORM's update() cannot return the row it changed; the WHERE clause is the same
    race-free check as in budget_reserve.
    """
    with connection.cursor() as cursor:
        cursor.execute(_RESERVE_CURRENT, {"amount": amount, "now": now, "guild_id": guild_id})
        row = cursor.fetchone()
    return int(row[0]) if row else None


def budget_settle(*, reservation: BudgetReservation, actual_usd: Decimal) -> None:
    """Release a reservation and charge the real cost, in one statement so no reader sees half of it."""
    BudgetEnvelope.objects.filter(pk=reservation.envelope_id).update(
        reserved_usd=Greatest(F("reserved_usd") - Value(reservation.amount), Value(Decimal(0))),
        spent_usd=F("spent_usd") + Value(actual_usd),
        updated_at=timezone.now(),
    )


# Usage --------------------------------------------------------------------------------------------


def call_finish(*, events: Sequence[UsageEvent], reservation: BudgetReservation | None, actual_usd: Decimal) -> None:
    """Settle a call's budget reservation with its real cost, then record its usage events.

    Two statements, each atomic on its own: the charge is one UPDATE; no transaction around both, which
    would cost two more round trips on every call and protect nothing the charge needs.
    """
    if reservation is not None:
        budget_settle(reservation=reservation, actual_usd=actual_usd)
    if events:
        UsageEvent.objects.bulk_create(events)


def validate_guild_id(guild_id: str | None) -> str | None:
    """A guild id as the gateway keys it: stripped, None when empty; too long is a BadRequest."""
    if guild_id is None:
        return None
    value = guild_id.strip()
    if len(value) > 64:
        raise BadRequest("x-dit-guild (guild_id) must be at most 64 characters")
    return value or None


def record_tool_calls(
    calls: Sequence[ToolCallRecord],
    *,
    purpose: str,
    bot_id: int | None = None,
    guild_id: str | None = None,
    decision_id: int | None = None,
    task_id: int | None = None,
) -> list[ToolInvocation]:
    """Store the tool calls of one reply or task step, in one INSERT (nothing when there were none)."""
    if not calls:
        return []
    rows = [
        ToolInvocation(
            bot_id=bot_id,
            guild_id=guild_id or "",
            purpose=purpose,
            decision_id=decision_id,
            task_id=task_id,
            step=call.step,
            tool=call.tool[:64],
            arguments=call.arguments if isinstance(call.arguments, dict) else {"raw": str(call.arguments)},
            ok=call.ok,
            error=call.error,
            result_chars=len(call.result),
            latency_ms=call.latency_ms,
        )
        for call in calls
    ]
    return ToolInvocation.objects.bulk_create(rows)
