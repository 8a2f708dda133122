"""Writes of the host harness: platform accounts, inbound claims, outbound beats and channel mutes."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db import connection, transaction
from django.utils import timezone

from bots.host.choices import BeatKind, BeatStatus, MuteSource
from bots.host.errors import MuteNotFound
from bots.host.models import BotAccount, ChannelMute, InboundClaim, OutboundBeat

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


def inbound_claim(*, bot_id: int, platform: str, message_id: str) -> bool:
    """Claim an inbound message for a bot: True the first time, False for every later delivery."""
    # One INSERT ... ON CONFLICT DO NOTHING: two deliveries racing on one message cannot both win.
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {InboundClaim._meta.db_table} (bot_id, platform, message_id, claimed_at) "  # noqa: S608
            "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING id",
            [bot_id, platform, message_id, timezone.now()],
        )
        return cursor.fetchone() is not None


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
