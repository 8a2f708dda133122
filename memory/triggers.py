"""Memory's reactor triggers: archiving, epochs, moment extraction, consolidation, forget-me, retention.

Registered by MemoryConfig.ready; the work lives in `memory.archive`, `memory.epochs`, `memory.moments`,
`memory.forgetting` and `memory.services`, and this module says when each runs. Every one follows the
data, never a clock grid:

- archiving: a few seconds after a message is stored (one waiting row for the deployment; a burst joins
  it), and at once for an edited message;
- epoch close: a channel silent for its gap (debounced on every message of the channel);
- moment extraction: a while after a bot spoke in a channel, over that exchange, once replies and
  reactions had time to come;
- consolidation: an hour after the first human message since the guild was last consolidated;
- epoch summaries and forget-me: scheduled by the code that closes the epoch or hears the request, in
  its transaction;
- retention: transcripts past DIT_TRANSCRIPT_RETENTION_DAYS, and each guild's archive retention, due when
  the oldest row comes of age.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Min
from django.db.models.signals import post_save
from django.utils import timezone

from memory import archive, epochs, forgetting, moments
from memory.choices import ForgetRequester
from memory.models import GuildMemoryPolicy, Reaction, Transcript
from memory.services import purge_transcripts_batch
from reactor.choices import EventKind
from reactor.declare import Next, Outcome, TriggerRun, after, arming, everywhere, on, per_channel, per_guild, trigger
from reactor.models import ReactorEvent
from reactor.services import EARLIEST, schedule

ARCHIVE_TRIGGER = "memory.archive"
REFRESH_TRIGGER = "memory.refresh_archive"
EPOCH_CLOSE_TRIGGER = "memory.epoch_close"
EXTRACT_TRIGGER = "memory.extract_exchange"
CONSOLIDATE_TRIGGER = "memory.consolidate"
GUILD_RETENTION_TRIGGER = "memory.guild_retention"
GUILD_RETENTION_KEY = f"{GUILD_RETENTION_TRIGGER}:*"
# Archiving waits this long after the first new message, so a burst is embedded as one batch.
ARCHIVE_DELAY = timedelta(seconds=3)
# Extraction waits after the bot spoke: replies, reactions and the silence after a message are its signals.
EXTRACT_DELAY = timedelta(minutes=3)
# The messages before the bot's first word that belong to the exchange it answered.
EXCHANGE_LOOKBACK = timedelta(minutes=15)
EXCHANGE_MAX_MESSAGES = 60
CONSOLIDATE_DELAY = timedelta(hours=1)

RETENTION_TRIGGER = "memory.retention"
RETENTION_KEY = f"{RETENTION_TRIGGER}:*"


def retention_period() -> timedelta | None:
    """How long transcripts are kept; None keeps them forever."""
    days = float(settings.DIT_TRANSCRIPT_RETENTION_DAYS)
    return timedelta(days=days) if days > 0 else None


def _next_purge(period: timedelta, now: datetime) -> datetime:
    oldest = Transcript.objects.order_by("created_at").values_list("created_at", flat=True).first()
    return max(now, oldest + period) if oldest is not None else now + period


@trigger(RETENTION_TRIGGER)
def purge_old_transcripts(run: TriggerRun) -> Outcome:
    """Purge one batch of transcripts past retention; come back at once for more, else when the next is due."""
    period = retention_period()
    if period is None:
        return Outcome(result={"retention": "off"})
    now = timezone.now()
    batch = purge_transcripts_batch(before=now - period, limit=int(settings.DIT_RETENTION_BATCH_SIZE))
    due = now if batch.more else _next_purge(period, now)
    return Outcome(result={"purged": batch.purged, "more": batch.more}, then=Next(due_at=due))


@arming
def arm_retention() -> None:
    """With retention on, the retention timer exists, due when the oldest transcript comes of age."""
    period = retention_period()
    if period is None:
        return
    schedule(
        RETENTION_TRIGGER, due_at=_next_purge(period, timezone.now()), dedupe_key=RETENTION_KEY, on_conflict=EARLIEST
    )


# Archiving and embedding, off the reply path.


@trigger(ARCHIVE_TRIGGER, after(delay=ARCHIVE_DELAY, on=EventKind.MESSAGE_INGESTED, key=everywhere))
def archive_new(run: TriggerRun) -> Outcome:
    """Archive and embed what arrived since the last run; come back at once while a backlog remains."""
    limit = 10 * archive.ARCHIVE_BATCH
    done = archive.archive_new_transcripts(limit=limit)
    more = done.archived >= limit
    result = {"archived": done.archived, "embedded": done.embedded, "more": more}
    return Outcome(result=result, then=Next(due_at=timezone.now()) if more else None)


def _edited_transcript(event: ReactorEvent) -> str | None:
    return str(event.payload.get("transcript_id") or "") or None


@trigger(REFRESH_TRIGGER, on(EventKind.MESSAGE_EDITED, key=_edited_transcript))
def refresh_edited(run: TriggerRun) -> Outcome:
    """An edited message is archived again with its new words and a new vector."""
    events = ReactorEvent.objects.filter(pk=run.parent_event_id) if run.parent_event_id is not None else None
    event = events.values_list("payload", flat=True).first() if events is not None else None
    if not event or "transcript_id" not in event:
        return Outcome(result={"changed": 0, "reason": "the edit's event is gone"})
    transcript_id = int(event["transcript_id"])
    changed = archive.archive_transcripts([transcript_id])
    embedded = archive.embed_pending(limit=max(changed, 1))
    return Outcome(result={"changed": changed, "embedded": embedded})


# Epochs: a channel silent for its gap closes its window; the summary is scheduled as it closes.


def _epoch_silence(event: ReactorEvent) -> timedelta:
    # Timing reads the event only (never the database): the deployment's gap. A guild whose own gap is
    # longer is honoured when the trigger runs; a shorter one closes at the deployment's gap.
    return timedelta(seconds=int(settings.DIT_EPOCH_GAP_SECONDS))


@trigger(
    EPOCH_CLOSE_TRIGGER,
    after(silence=_epoch_silence, on=EventKind.MESSAGE_INGESTED, key=per_channel),
)
def close_epoch(run: TriggerRun) -> Outcome:
    """The channel fell silent: close its epoch, unless its guild's gap has not passed yet."""
    rows = epochs.channel_transcripts(run.guild_id, run.channel_id)
    newest = rows.order_by("-created_at", "-seq").values_list("created_at", flat=True).first()
    if newest is None:
        return Outcome(result={"epoch": "no messages"})
    due = newest + epochs.epoch_gap(run.guild_id)
    if due > timezone.now():
        return Outcome(result={"epoch": "not silent long enough"}, then=Next(due_at=due))
    epoch = epochs.epoch_close(guild_id=run.guild_id, channel_id=run.channel_id, silent_since=newest)
    return Outcome(result={"epoch_id": epoch.pk if epoch is not None else None})


@trigger(epochs.SUMMARY_TRIGGER)
def summarize_epoch(run: TriggerRun) -> Outcome:
    """Write a closed epoch's summary, topics, participants and embedding."""
    epoch = epochs.summarize_epoch_by_id(int(run.payload["epoch_id"]))
    return Outcome(result={"summarized": epoch is not None and bool(epoch.summary_text)})


# Moment extraction after the bot spoke; consolidation of a guild's dossiers and lore.


def _bot_spoke(event: ReactorEvent) -> bool:
    return bool(event.payload.get("author_is_bot"))


def _human_in_guild(event: ReactorEvent) -> bool:
    return not event.payload.get("author_is_bot") and not event.payload.get("is_dm")


@trigger(
    EXTRACT_TRIGGER,
    after(delay=EXTRACT_DELAY, on=EventKind.MESSAGE_INGESTED, match=_bot_spoke, key=per_channel),
)
def extract_exchange(run: TriggerRun) -> Outcome:
    """Moments of the exchange the bot took part in: cheap signals first, then the model check."""
    since = run.created_at - EXCHANGE_LOOKBACK
    rows = epochs.channel_transcripts(run.guild_id, run.channel_id).filter(created_at__gte=since)
    exchange = list(rows.order_by("seq").values_list("pk", "message_id")[:EXCHANGE_MAX_MESSAGES])
    if not exchange:
        return Outcome(result={"considered": 0})
    counts = (
        Reaction.objects.filter(message_id__in=[message_id for _, message_id in exchange], present=True)
        .values("message_id")
        .annotate(n=Count("pk"))
    )
    reactions = {row["message_id"]: int(row["n"]) for row in counts}
    report = moments.extract_exchange(transcript_ids=[pk for pk, _ in exchange], reactions=reactions)
    return Outcome(
        result={
            "considered": report.considered,
            "checked": report.checked,
            "highlights": report.highlights,
            "facts": report.facts,
        }
    )


@trigger(
    CONSOLIDATE_TRIGGER,
    after(delay=CONSOLIDATE_DELAY, on=EventKind.MESSAGE_INGESTED, match=_human_in_guild, key=per_guild),
)
def consolidate(run: TriggerRun) -> Outcome:
    """Fold the guild's recent words, highlights and facts into dossiers and lore."""
    report = moments.consolidate_guild(guild_id=run.guild_id)
    return Outcome(result={"report": str(report)})


# Forget-me: the host schedules this when a member asks; an admin's action runs forget_member directly.


@trigger(forgetting.FORGET_TRIGGER)
def forget_member(run: TriggerRun) -> Outcome:
    """Forget the member who asked, in chat."""
    log = forgetting.forget_member(
        guild_id=str(run.payload["guild_id"]),
        user_id=str(run.payload["user_id"]),
        requested_by=ForgetRequester.MEMBER,
    )
    return Outcome(result={"forget_request": log.pk})


# Each guild's archive retention (GuildMemoryPolicy.archive_retention_days).


def _next_guild_purge(now: datetime) -> datetime | None:
    due: datetime | None = None
    for policy in GuildMemoryPolicy.objects.filter(archive_retention_days__isnull=False):
        oldest = Transcript.objects.filter(guild_id=policy.guild_id).aggregate(oldest=Min("created_at"))["oldest"]
        if oldest is None:
            continue
        at = max(now, oldest + timedelta(days=int(policy.archive_retention_days or 0)))
        due = at if due is None else min(due, at)
    return due


@trigger(GUILD_RETENTION_TRIGGER)
def purge_guild_archives(run: TriggerRun) -> Outcome:
    """Purge each guild's transcripts (and archive rows) past its retention; due again when the next is."""
    now = timezone.now()
    removed = archive.apply_retention()
    due = _next_guild_purge(now + timedelta(seconds=1))
    return Outcome(result={"removed": removed}, then=Next(due_at=due) if due is not None else None)


@arming
def arm_guild_retention() -> None:
    """With a guild retention set, its timer exists, due when that guild's oldest transcript comes of age."""
    due = _next_guild_purge(timezone.now())
    if due is not None:
        schedule(GUILD_RETENTION_TRIGGER, due_at=due, dedupe_key=GUILD_RETENTION_KEY, on_conflict=EARLIEST)


def _policy_saved(sender: Any, instance: GuildMemoryPolicy, **kwargs: Any) -> None:
    # A retention set or shortened in admin takes effect without a restart.
    if instance.archive_retention_days is not None:
        arm_guild_retention()


post_save.connect(_policy_saved, sender=GuildMemoryPolicy, dispatch_uid="memory.triggers.policy_saved")
