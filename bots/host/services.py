"""Writes of the host harness: platform accounts, inbound claims, outbound beats and channel mutes."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from bots.adapters.base import InboundMessage, inbound_from_json, inbound_to_json
from bots.host.choices import BeatKind, BeatStatus, MuteSource
from bots.host.errors import MuteNotFound
from bots.host.models import BotAccount, ChannelMute, InboundClaim, OutboundBeat
from dispositions.choices import TriggerKind
from dispositions.models import DispositionDecision
from dit_project import stamps

logger = logging.getLogger(__name__)

ABANDONED = "the process stopped before the platform confirmed this beat"
# How long a moderator may mute a channel for, in minutes (admin and API alike).
MUTE_MINUTES_MIN = 0.1
MUTE_MINUTES_MAX = 60 * 24 * 30


def bot_account_record(*, bot_id: int, platform: str, user_id: str, display_name: str) -> BotAccount:
    """Remember that `bot_id` logs in as `user_id` on `platform` (a moved token moves the account)."""
    account, _ = BotAccount.objects.update_or_create(
        platform=platform,
        user_id=user_id,
        defaults={"bot_id": bot_id, "display_name": display_name[:200], "seen_at": timezone.now()},
    )
    return account


def mutes_stamp(bot_id: int) -> str:
    """The change stamp of one bot's channel mutes (a running host reloads them when it moves)."""
    return f"mutes:{bot_id}"


def inbound_claim(*, bot_id: int, platform: str, message_id: str, message: InboundMessage | None = None) -> bool:
    """Claim an inbound message for a bot: True the first time, False for every later delivery.

    With `message`, the claim keeps it until settled, so a turn a stopped process owed can still be given.
    """
    # One INSERT ... ON CONFLICT DO NOTHING: two deliveries racing on one message cannot both win. A message
    # that already has this bot's reactive decision (another process answered it) is not claimed either.
    payload = json.dumps(inbound_to_json(message), cls=DjangoJSONEncoder) if message is not None else None
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {InboundClaim._meta.db_table} "  # noqa: S608 - table names come from the models
            "(bot_id, platform, message_id, claimed_at, payload, settled_at, settled_reason) "
            "SELECT %s, %s, %s, %s, %s::jsonb, %s, %s "
            f"WHERE NOT EXISTS (SELECT 1 FROM {DispositionDecision._meta.db_table} "
            "WHERE bot_id = %s AND inbound_message_id = %s AND trigger_kind = %s) "
            "ON CONFLICT DO NOTHING RETURNING id",
            [
                bot_id,
                platform,
                message_id,
                now,
                payload,
                None if message is not None else now,
                "" if message is not None else "claimed without a turn owed",
                bot_id,
                message_id,
                TriggerKind.REACTIVE,
            ],
        )
        return cursor.fetchone() is not None


def claims_settle(*, bot_id: int, platform: str, message_ids: Sequence[str], reason: str) -> int:
    """Settle claimed messages that were let go without a decision; returns how many were still open."""
    return InboundClaim.objects.filter(
        bot_id=bot_id, platform=platform, message_id__in=list(message_ids), settled_at__isnull=True
    ).update(settled_at=timezone.now(), settled_reason=reason[:200], payload=None)


def claims_unsettled(*, bot_id: int, since: datetime) -> list[InboundMessage]:
    """The messages a bot claimed after `since` and still owes a turn, oldest first."""
    found = []
    rows = InboundClaim.objects.filter(bot_id=bot_id, settled_at__isnull=True, claimed_at__gte=since).order_by(
        "claimed_at", "id"
    )
    for claim in rows:
        try:
            found.append(inbound_from_json(claim.payload or {}))
        except (KeyError, TypeError, ValueError) as exc:
            logger.warning("claim %s holds no readable message (%s); settling it", claim.pk, exc)
            claims_settle(bot_id=bot_id, platform=claim.platform, message_ids=[claim.message_id], reason="unreadable")
    return found


def claims_expire(*, bot_id: int, before: datetime) -> int:
    """Settle a bot's claims older than `before` that no process answered: too old to answer now."""
    count = InboundClaim.objects.filter(bot_id=bot_id, settled_at__isnull=True, claimed_at__lt=before).update(
        settled_at=timezone.now(), settled_reason="too old to answer after a restart", payload=None
    )
    if count:
        logger.warning("bot %s: %s messages owed a turn were too old to answer after the restart", bot_id, count)
    return count


def claims_purge(*, before: datetime, batch_size: int = 5000) -> int:
    """Delete claims taken before `before` (purged with their transcripts), in batches; returns how many."""
    purged = 0
    while True:
        ids = list(InboundClaim.objects.filter(claimed_at__lt=before).values_list("id", flat=True)[:batch_size])
        if not ids:
            return purged
        purged += InboundClaim.objects.filter(id__in=ids).delete()[0]


def beat_prepare(
    *,
    decision_id: int,
    index: int,
    text: str,
    platform: str,
    channel_id: str,
    kind: BeatKind = BeatKind.MESSAGE,
    is_correction: bool = False,
    target_message_id: str = "",
) -> OutboundBeat:
    """Record a beat before sending it; an existing row for the same key comes back unchanged."""
    beat, _ = OutboundBeat.objects.get_or_create(
        decision_id=decision_id,
        index=index,
        defaults={
            "kind": kind,
            "text": text,
            "is_correction": is_correction,
            "platform": platform,
            "channel_id": channel_id,
            "target_message_id": target_message_id,
        },
    )
    return beat


def beat_mark_sent(*, beat: OutboundBeat, message_ids: Sequence[str]) -> OutboundBeat:
    """The platform accepted the beat."""
    beat.status = BeatStatus.SENT
    beat.platform_message_ids = list(message_ids)
    beat.sent_at = timezone.now()
    beat.last_error = ""
    beat.save(update_fields=["status", "platform_message_ids", "sent_at", "last_error"])
    return beat


def beat_mark_failed(*, beat: OutboundBeat, error: str) -> OutboundBeat:
    """The platform refused the beat (or sending it failed past the adapter's retries)."""
    beat.status = BeatStatus.FAILED
    beat.last_error = error[:2000]
    beat.save(update_fields=["status", "last_error"])
    return beat


def beats_cancel(*, decision_id: int, from_index: int) -> int:
    """Cancel the decision's beats not yet sent from `from_index` on (an interrupted burst); returns how many."""
    return OutboundBeat.objects.filter(
        decision_id=decision_id, index__gte=from_index, status=BeatStatus.PENDING
    ).update(status=BeatStatus.CANCELLED)


def beats_abandon_pending(*, bot_id: int) -> int:
    """Mark a previous process's unconfirmed beats failed, so none is ever sent again; returns how many."""
    count = OutboundBeat.objects.filter(decision__bot_id=bot_id, status=BeatStatus.PENDING).update(
        status=BeatStatus.FAILED, last_error=ABANDONED
    )
    if count:
        logger.warning("bot %s: %s beats left pending by a previous run marked failed", bot_id, count)
    return count


def turns_abandon_unfinished(*, bot_id: int) -> int:
    """A previous process's turns that recorded beats and never their outcome: beats failed, turns ended."""
    pending = OutboundBeat.objects.filter(decision__bot_id=bot_id, status=BeatStatus.PENDING)
    decision_ids = set(pending.values_list("decision_id", flat=True))
    count = beats_abandon_pending(bot_id=bot_id)
    unfinished = DispositionDecision.objects.filter(pk__in=decision_ids, latency_ms__isnull=True)
    for decision in unfinished.only("pk", "outcome"):
        decision.outcome = {**decision.outcome, "end": "error", "error": ABANDONED}
        decision.save(update_fields=["outcome"])
    return count


def staff_name(user: AbstractBaseUser | AnonymousUser) -> str:
    """How a moderator acting through admin or the API is named in the mute log."""
    return f"staff:{user.get_username()}"


def mute_create(
    *,
    bot_id: int,
    channel_id: str,
    source: MuteSource | str,
    muted_by: str,
    minutes: float,
    reason: str = "",
    platform: str = "discord",
    guild_id: str = "",
    muted_by_user: Any = None,
    message_id: str = "",
    now: datetime | None = None,
) -> ChannelMute:
    """Mute the bot's unprompted turns in a channel for `minutes`; logged with who and why."""
    if minutes <= 0:
        raise ValueError("a mute lasts more than 0 minutes")
    moment = now or timezone.now()
    mute = ChannelMute(
        bot_id=bot_id,
        platform=platform,
        guild_id=guild_id,
        channel_id=channel_id,
        source=source,
        reason=reason[:2000],
        muted_by=muted_by[:200],
        muted_by_user=muted_by_user,
        message_id=message_id,
        created_at=moment,
        until=moment + timedelta(minutes=minutes),
    )
    mute.full_clean(exclude=["bot", "muted_by_user", "lifted_by_user"])
    mute.save()
    stamps.bump(mutes_stamp(bot_id))
    logger.info(
        "bot %s muted in channel %s by %s (%s) until %s: %s",
        bot_id,
        channel_id,
        muted_by,
        source,
        mute.until.isoformat(),
        reason,
    )
    return mute


def mute_lift(*, mute: ChannelMute, lifted_by: str, reason: str, lifted_by_user: Any = None) -> ChannelMute:
    """Lift a mute now; lifting one already lifted or over is a no-op."""
    now = timezone.now()
    # Conditional update: two lifts racing (a moderator and a member addressing the bot) record one lift.
    updated = ChannelMute.objects.filter(pk=mute.pk, lifted_at__isnull=True, until__gt=now).update(
        lifted_at=now, lifted_by=lifted_by[:200], lifted_by_user=lifted_by_user, lift_reason=reason[:200]
    )
    mute.refresh_from_db()
    if updated:
        stamps.bump(mutes_stamp(mute.bot_id))
        logger.info("bot %s unmuted in channel %s by %s: %s", mute.bot_id, mute.channel_id, lifted_by, reason)
    return mute


def mutes_lift_for_channel(
    *, bot_id: int, channel_id: str, lifted_by: str, reason: str, lifted_by_user: Any = None
) -> int:
    """Lift every active mute of the bot in a channel; returns how many were lifted."""
    now = timezone.now()
    with transaction.atomic():
        count = ChannelMute.objects.filter(
            bot_id=bot_id, channel_id=channel_id, lifted_at__isnull=True, until__gt=now
        ).update(lifted_at=now, lifted_by=lifted_by[:200], lifted_by_user=lifted_by_user, lift_reason=reason[:200])
    if count:
        stamps.bump(mutes_stamp(bot_id))
        logger.info("bot %s unmuted in channel %s by %s: %s", bot_id, channel_id, lifted_by, reason)
    return count


def mute_lift_by_id(
    *, bot_id: int, mute_id: int, lifted_by: str, reason: str, lifted_by_user: Any = None
) -> ChannelMute:
    """Lift one mute of a bot by id; MuteNotFound when the bot has no such mute."""
    try:
        mute = ChannelMute.objects.get(pk=mute_id, bot_id=bot_id)
    except ChannelMute.DoesNotExist:
        raise MuteNotFound(f"Bot {bot_id} has no mute {mute_id}.") from None
    return mute_lift(mute=mute, lifted_by=lifted_by, reason=reason, lifted_by_user=lifted_by_user)
