"""Reads of the host harness: our bots' platform accounts, active mutes, last seen messages, personas."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db.models import Max, QuerySet
from django.utils import timezone

from bots.host.errors import PersonaNotConfigured
from bots.host.models import BotAccount, ChannelMute
from dispositions.models import Persona
from memory.models import Transcript


def own_user_ids() -> frozenset[str]:
    """Every platform user id any of our bots logs in as."""
    return frozenset(BotAccount.objects.values_list("user_id", flat=True))


def active_mute(*, bot_id: int, channel_id: str, now: datetime | None = None) -> ChannelMute | None:
    """The mute holding in a channel now (the one ending last), or None."""
    moment = now or timezone.now()
    return (
        ChannelMute.objects.filter(bot_id=bot_id, channel_id=channel_id, lifted_at__isnull=True, until__gt=moment)
        .order_by("-until")
        .first()
    )


def active_mute_ends(*, bot_id: int, now: datetime | None = None) -> dict[str, datetime]:
    """When each of a bot's active mutes ends, by channel (the latest end where several hold)."""
    moment = now or timezone.now()
    ends: dict[str, datetime] = {}
    rows = ChannelMute.objects.filter(bot_id=bot_id, lifted_at__isnull=True, until__gt=moment).values_list(
        "channel_id", "until"
    )
    for channel_id, until in rows:
        if channel_id not in ends or until > ends[channel_id]:
            ends[channel_id] = until
    return ends


def mute_list(*, bot_id: int, active_only: bool = False) -> QuerySet[ChannelMute]:
    """A bot's mutes, newest first; only those holding now with `active_only`."""
    mutes = ChannelMute.objects.filter(bot_id=bot_id).select_related("muted_by_user", "lifted_by_user")
    if active_only:
        mutes = mutes.filter(lifted_at__isnull=True, until__gt=timezone.now())
    return mutes.order_by("-created_at", "-id")


def last_seen_message_ids(*, platform: str, channel_ids: Iterable[str]) -> dict[str, str]:
    """The id of the latest transcript per channel (the point to fetch missed history from)."""
    ids = list(channel_ids)
    if not ids:
        return {}
    latest = (
        Transcript.objects.filter(platform=platform, channel_id__in=ids)
        .values("channel_id")
        .annotate(last_seq=Max("seq"))
        .values_list("last_seq", flat=True)
    )
    rows = Transcript.objects.filter(seq__in=list(latest)).values_list("channel_id", "message_id")
    return dict(rows)


def persona_id_for_bot(*, bot_name: str, persona_name: str = "") -> int:
    """The persona a bot speaks as: the PERSONA setting, else the persona named like the bot, else the only one."""
    if persona_name:
        found = Persona.objects.filter(name__iexact=persona_name).values_list("pk", flat=True).first()
        if found is None:
            raise PersonaNotConfigured(
                f"PERSONA is {persona_name!r} but no persona has that name; create it in admin or fix the setting",
                key="PERSONA",
            )
        return found
    same_name = Persona.objects.filter(name__iexact=bot_name).values_list("pk", flat=True).first()
    if same_name is not None:
        return same_name
    only = list(Persona.objects.values_list("pk", flat=True)[:2])
    if len(only) == 1:
        return only[0]
    raise PersonaNotConfigured(
        f"cannot tell which persona bot {bot_name!r} speaks as: set PERSONA to a persona's name, or name a "
        "persona like the bot (`manage.py loaddata default_persona` ships one called Dit)",
        key="PERSONA",
    )
