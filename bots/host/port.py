"""The host's one door to the database: every read and write a turn makes, listed here and nowhere else.

The host is asyncio; the ORM is not. Every call below runs on the host's own database threads (a small,
fixed pool, each thread keeping its connection open for the life of the process), so a hundred turns in
flight do not queue behind one thread, and no module of the host calls `sync_to_async` itself.

A one-line reactive turn costs six statements (see docs/architecture.md, "A turn's round trips"):

1. ingest: the transcript row and its `message.ingested` event           (memory, one transaction with 2)
2.         the bot's claim on the message, with the message itself          (same transaction)
3. read:   the channel's recent messages and the guild's, in one query      (router inputs and live context)
4. record: the decision, its beats and the settled claims, in one statement (before anything is sent)
5. finish: the outcome, with every beat the platform accepted, in one statement

What changes rarely and is read every turn (a persona's dispositions, a bot's mutes, a guild's budget
fraction) is cached here and checked against a change stamp in Redis (`dit_project.stamps`) or a short age.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from asgiref.sync import sync_to_async
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, connections, models, transaction
from django.utils import timezone
from redis.asyncio import Redis

from bots import selectors as bot_selectors
from bots import services as bot_services
from bots.adapters.base import ChannelKind, InboundMessage, InboundReaction
from bots.bot_settings import BotSettings
from bots.choices import Platform
from bots.followups import FinishedTurn, schedule_followup
from bots.host import selectors, services
from bots.host.choices import BeatKind, BeatStatus, MuteSource
from bots.host.models import ChannelMute, InboundClaim, OutboundBeat
from bots.host.services import mutes_stamp
from bots.host.values import HostBot, PlannedBeat, TurnOutcome, TurnPlan
from bots.models import Bot
from bots.selectors import BotRevision, bot_revision
from bots.signals import bot_stamp
from bots.turn_settings import FollowupConfig
from dispositions.models import DispositionDecision
from dispositions.selectors import load_routing_candidates
from dispositions.services import ROUTING_STAMP, decision_fields
from dispositions.specs import DispositionSpec, PersonaSpec
from dit_project import stamps
from gateway.client import budget_remaining_fraction
from memory.context import AssembledContext, ContextScope, assemble_context
from memory.ingest import IngestMessage, IngestResult, ingest_message
from memory.live import RecentActivity, recent_activity
from memory.reactions import ReactionChange, record_reaction

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Without a stamp change, cached rows are still re-read after this long (a lost bump cannot pin them).
CACHE_MAX_AGE_SECONDS = 30.0
# The budget fraction is a routing input, not the budget itself (the gateway enforces that per call).
BUDGET_MAX_AGE_SECONDS = 5.0
DEFAULT_THREADS = 4


class DatabaseThreads:
    """A fixed pool of threads for ORM work; each keeps its connection and closes it when the pool shuts."""

    def __init__(self, size: int = DEFAULT_THREADS, *, name: str = "host-db") -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[[], Any], asyncio.Future[Any], asyncio.AbstractEventLoop] | None]
        self._jobs = queue.SimpleQueue()
        self._threads = [threading.Thread(target=self._work, name=f"{name}-{n}", daemon=True) for n in range(size)]
        for thread in self._threads:
            thread.start()
        self._closed = False

    def _work(self) -> None:
        try:
            while True:
                job = self._jobs.get()
                if job is None:
                    return
                call, future, loop = job
                try:
                    result = call()
                except BaseException as exc:  # noqa: BLE001 - handed to the awaiting coroutine, which raises it
                    loop.call_soon_threadsafe(_settle_future, future, None, exc)
                else:
                    loop.call_soon_threadsafe(_settle_future, future, result, None)
        finally:
            connections.close_all()

    async def run(self, function: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run `function(*args, **kwargs)` on a database thread (with this task's context) and await it."""
        if self._closed:
            raise RuntimeError("the host's database threads are shut down")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        context = contextvars.copy_context()
        self._jobs.put((lambda: context.run(function, *args, **kwargs), future, loop))
        return await future

    async def close(self) -> None:
        """Finish queued work, close every thread's connection and stop the threads."""
        if self._closed:
            return
        self._closed = True
        for _ in self._threads:
            self._jobs.put(None)
        await asyncio.to_thread(self._join)

    def _join(self) -> None:
        for thread in self._threads:
            thread.join(10)


def _settle_future(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


@dataclass(frozen=True, slots=True)
class Accepted:
    """What taking an inbound message did: stored it (first delivery anywhere) and claimed it for this bot."""

    ingest: IngestResult
    claimed: bool


@dataclass(frozen=True, slots=True)
class RecordedDecision:
    """A decision row and its beat rows, as written before anything is sent."""

    decision_id: int
    beats: tuple[OutboundBeat, ...]


@dataclass(frozen=True, slots=True)
class BotState:
    """Whether the bot's row moved since the host last looked, and its revision now (None: the row is gone)."""

    changed: bool
    revision: BotRevision | None = None

    @property
    def gone(self) -> bool:
        """The bot was deleted while it runs."""
        return self.changed and self.revision is None


UNCHANGED = BotState(changed=False)
# A turn's look at the change stamps serves every cache the turn reads (one MGET per turn).
STAMP_SNAPSHOT_SECONDS = 1.0


@dataclass
class _Cached:
    value: Any
    stamp: bytes | None
    loaded: float


class HostPort:
    """Every database read and write of one bot's host, as async calls."""

    def __init__(
        self,
        *,
        bot: HostBot,
        redis: Redis | None,
        threads: DatabaseThreads | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._bot = bot
        self._redis = redis
        self._threads = threads or DatabaseThreads()
        self._clock = clock
        self._routing: dict[int, _Cached] = {}
        self._mutes: _Cached | None = None
        self._budgets: dict[str, _Cached] = {}
        self._snapshot: dict[str, bytes | None] = {}
        self._snapshot_at = float("-inf")
        self._bot_seen: bytes | None = None
        self._bot_looked = False

    async def close(self) -> None:
        """Close the database threads (their connections with them), and asgiref's, where gateway calls run."""
        await self._threads.close()
        await sync_to_async(connections.close_all)()

    # Start-up.

    async def own_user_ids(self) -> frozenset[str]:
        """Every platform user id any of our bots logs in as."""
        return await self._threads.run(selectors.own_user_ids)

    async def record_account(self, *, platform: str, user_id: str, display_name: str) -> None:
        """Remember the platform account this bot logged in as."""
        await self._threads.run(
            services.bot_account_record,
            bot_id=self._bot.bot_id,
            platform=platform,
            user_id=user_id,
            display_name=display_name,
        )

    async def sync_guild(
        self,
        *,
        platform: Platform,
        external_id: str,
        name: str,
        channels: Sequence[bot_services.ChannelSnapshot],
        roles: Sequence[bot_services.RoleSnapshot],
    ) -> None:
        """Upsert a guild's record with its channels and roles as the platform reports them."""
        await self._threads.run(
            bot_services.guild_sync,
            bot_id=self._bot.bot_id,
            external_id=external_id,
            name=name,
            channels=channels,
            roles=roles,
            platform=platform,
        )

    async def last_seen_message_ids(self, *, platform: str, channel_ids: Iterable[str]) -> dict[str, str]:
        """The latest stored message per channel: where to fetch missed history from."""
        ids = list(channel_ids)
        return await self._threads.run(selectors.last_seen_message_ids, platform=platform, channel_ids=ids)

    async def unsettled_inbound(self, *, since: datetime) -> list[InboundMessage]:
        """Messages this bot claimed after `since` and never settled (a stopped process owed them a turn)."""
        return await self._threads.run(services.claims_unsettled, bot_id=self._bot.bot_id, since=since)

    async def expire_unsettled(self, *, before: datetime) -> int:
        """Settle claims too old to be answered now; returns how many."""
        return await self._threads.run(services.claims_expire, bot_id=self._bot.bot_id, before=before)

    async def abandon_unfinished(self) -> int:
        """Fail the beats a stopped process left pending (and end their decisions), so none is ever sent."""
        return await self._threads.run(services.turns_abandon_unfinished, bot_id=self._bot.bot_id)

    # Inbound.

    async def accept(self, message: IngestMessage, *, claim: InboundMessage | None) -> Accepted:
        """Store a message (idempotently) and, when `claim` is given, claim it for this bot: one transaction."""
        return await self._threads.run(_accept, message, self._bot.bot_id, claim)

    async def settle(self, message_ids: Sequence[str], *, platform: str, reason: str) -> None:
        """Mark claimed messages as dealt with without a decision (muted, a mute request, too old...)."""
        if message_ids:
            await self._threads.run(
                services.claims_settle,
                bot_id=self._bot.bot_id,
                platform=platform,
                message_ids=list(message_ids),
                reason=reason,
            )

    # What a turn reads.

    async def recent(self, *, guild_id: str, channel_id: str, is_dm: bool) -> RecentActivity:
        """The channel's recent messages and the rest of the guild's, in one query."""
        return await self._threads.run(recent_activity, guild_id=guild_id, channel_id=channel_id, is_dm=is_dm)

    async def assemble_context(self, *, strategy: str, scope: ContextScope) -> AssembledContext:
        """The context block of a strategy for a turn, within the privacy boundary."""
        return await self._threads.run(assemble_context, strategy=strategy, turn=scope)

    async def _stamps(self, names: Sequence[str]) -> tuple[bytes | None, ...]:
        if self._redis is None:
            return tuple(None for _ in names)
        try:
            return await stamps.read(self._redis, names)
        except Exception as exc:  # noqa: BLE001 - any Redis failure means "cannot tell": reload
            logger.warning("change stamps unavailable (%s); reloading cached rows", exc)
            return tuple(f"unavailable:{time.monotonic_ns()}".encode() for _ in names)

    def _stamp_names(self) -> list[str]:
        bot_id = self._bot.bot_id
        return [ROUTING_STAMP, mutes_stamp(bot_id), bot_stamp(bot_id)]

    async def _stamp(self, name: str) -> bytes | None:
        """A stamp from this turn's snapshot, or from a fresh look at all of them."""
        if self._clock() - self._snapshot_at > STAMP_SNAPSHOT_SECONDS or name not in self._snapshot:
            names = self._stamp_names()
            self._snapshot = dict(zip(names, await self._stamps(names), strict=True))
            self._snapshot_at = self._clock()
        return self._snapshot.get(name)

    async def begin_turn(self) -> BotState:
        """Look at every change stamp once for the turn; read the bot's revision only when its stamp moved."""
        names = self._stamp_names()
        self._snapshot = dict(zip(names, await self._stamps(names), strict=True))
        self._snapshot_at = self._clock()
        seen = self._snapshot[bot_stamp(self._bot.bot_id)]
        if not self._bot_looked:
            self._bot_looked, self._bot_seen = True, seen
            return UNCHANGED
        if seen == self._bot_seen:
            return UNCHANGED
        self._bot_seen = seen
        revision = await self._threads.run(bot_revision, bot_id=self._bot.bot_id)
        return BotState(changed=True, revision=revision)

    async def bot_settings(self) -> BotSettings:
        """The bot's typed settings view as stored now (overrides, manifest)."""
        return await self._threads.run(_bot_settings, self._bot.bot_id)

    async def persona_for(self, *, bot_name: str, persona_name: str) -> int:
        """The persona the bot speaks as (the PERSONA setting, else named like the bot, else the only one)."""
        return await self._threads.run(selectors.persona_id_for_bot, bot_name=bot_name, persona_name=persona_name)

    def _fresh(self, cached: _Cached | None, stamp: bytes | None, max_age: float) -> bool:
        return cached is not None and cached.stamp == stamp and self._clock() - cached.loaded < max_age

    async def candidates(self, persona_id: int) -> tuple[PersonaSpec, list[DispositionSpec]]:
        """The persona and its enabled dispositions with their weights (cached until they change)."""
        stamp = await self._stamp(ROUTING_STAMP)
        cached = self._routing.get(persona_id)
        if not self._fresh(cached, stamp, CACHE_MAX_AGE_SECONDS):
            value = await self._threads.run(load_routing_candidates, persona_id)
            cached = self._routing[persona_id] = _Cached(value, stamp, self._clock())
        assert cached is not None  # noqa: S101 - set just above
        persona, specs = cached.value
        return persona, list(specs)

    async def active_mute(self, channel_id: str) -> datetime | None:
        """Until when this bot is muted in a channel, or None (cached until a mute changes)."""
        stamp = await self._stamp(mutes_stamp(self._bot.bot_id))
        if not self._fresh(self._mutes, stamp, CACHE_MAX_AGE_SECONDS):
            mutes = await self._threads.run(selectors.active_mute_ends, bot_id=self._bot.bot_id)
            self._mutes = _Cached(mutes, stamp, self._clock())
        assert self._mutes is not None  # noqa: S101 - set just above
        until: datetime | None = self._mutes.value.get(channel_id)
        return until if until is not None and until > timezone.now() else None

    async def budget_fraction(self, guild_id: str) -> float:
        """The share of the guild's model budget left (1.0 without a budget or when it cannot be read)."""
        if not guild_id:
            return 1.0
        cached = self._budgets.get(guild_id)
        if cached is not None and self._clock() - cached.loaded < BUDGET_MAX_AGE_SECONDS:
            fraction: float = cached.value
            return fraction
        try:
            value = await self._threads.run(budget_remaining_fraction, guild_id)
        except Exception:
            # The budget is a routing input, not a precondition: without it the turn routes as if unconstrained.
            logger.exception("budget of guild %s unavailable; routing without budget pressure", guild_id)
            return 1.0
        fraction = 1.0 if value is None else max(0.0, value)
        self._budgets[guild_id] = _Cached(fraction, None, self._clock())
        return fraction

    async def channel_name(self, *, guild_id: str, channel_id: str) -> str:
        """A guild channel's name as last synced ("" when unknown, or in a DM)."""
        if not guild_id:
            return ""
        return await self._threads.run(
            bot_selectors.channel_name, bot_id=self._bot.bot_id, guild_id=guild_id, channel_id=channel_id
        )

    async def decision(self, decision_id: int) -> DispositionDecision:
        """A decision row (for callers that asked for a turn and want to see how it was decided)."""
        return await self._threads.run(DispositionDecision.objects.get, pk=decision_id)

    # Reactions.

    async def record_reaction(self, reaction: InboundReaction) -> bool:
        """Remember a reaction being added or removed (once, however often it is delivered); True if it changed."""
        change = ReactionChange(
            platform=reaction.platform,
            message_id=reaction.message.id,
            guild_id=reaction.message.channel.guild_id,
            channel_id=reaction.message.channel.id,
            is_dm=reaction.message.channel.kind is ChannelKind.DM,
            user_id=reaction.user.id,
            user_is_bot=reaction.user.is_bot,
            emoji=reaction.emoji,
            added=reaction.added,
            message_author_id=reaction.message_author_id or "",
        )
        return await self._threads.run(record_reaction, change)

    # Mutes.

    async def create_mute(
        self,
        *,
        platform: str,
        guild_id: str,
        channel_id: str,
        source: MuteSource,
        reason: str,
        muted_by: str,
        message_id: str,
        minutes: float,
    ) -> ChannelMute:
        """Mute the bot in a channel (logged with who and why)."""
        return await self._threads.run(
            services.mute_create,
            bot_id=self._bot.bot_id,
            platform=platform,
            guild_id=guild_id,
            channel_id=channel_id,
            source=source,
            reason=reason,
            muted_by=muted_by,
            message_id=message_id,
            minutes=minutes,
        )

    async def lift_mutes(self, *, channel_id: str, lifted_by: str, reason: str) -> int:
        """Lift every active mute of the bot in a channel."""
        return await self._threads.run(
            services.mutes_lift_for_channel,
            bot_id=self._bot.bot_id,
            channel_id=channel_id,
            lifted_by=lifted_by,
            reason=reason,
        )

    # What a turn writes.

    async def record_decision(
        self,
        plan: TurnPlan,
        *,
        beats: Sequence[PlannedBeat] = (),
        beat_kind: BeatKind = BeatKind.MESSAGE,
        platform: str,
        target_message_id: str = "",
        outcome: TurnOutcome | None = None,
    ) -> RecordedDecision:
        """Write the decision with the beats it will send and settle the messages it answers, in one statement.

        Raises IntegrityError when the message already had its reactive turn (another delivery won).
        """
        return await self._threads.run(
            _record_decision, self._bot, plan, list(beats), beat_kind, platform, target_message_id, outcome
        )

    async def prepare_beats(
        self,
        *,
        decision_id: int,
        beats: Sequence[PlannedBeat],
        start: int,
        platform: str,
        channel_id: str,
    ) -> list[OutboundBeat]:
        """Record more beats of a decision before sending them (an interruption folded in); existing rows return."""
        return await self._threads.run(_prepare_beats, decision_id, list(beats), start, platform, channel_id)

    async def schedule_followup(self, turn: FinishedTurn, *, config: FollowupConfig) -> int | None:
        """Schedule a self-followup of a turn whose hint landed; the schedule row's id, or None."""
        scheduled = await self._threads.run(schedule_followup, turn, config=config)
        return scheduled.pk if scheduled is not None else None

    async def fail_beat(self, beat: OutboundBeat, *, error: str) -> None:
        """The platform refused a beat."""
        await self._threads.run(services.beat_mark_failed, beat=beat, error=error)

    async def cancel_beats(self, *, decision_id: int, from_index: int) -> int:
        """Cancel a decision's beats not yet sent from `from_index` on; returns how many."""
        return await self._threads.run(services.beats_cancel, decision_id=decision_id, from_index=from_index)

    async def finish(self, decision_id: int, outcome: TurnOutcome, *, folded_platform: str = "") -> None:
        """Write how the turn ended, with every beat the platform accepted, in one statement."""
        await self._threads.run(_finish, self._bot.bot_id, decision_id, outcome, folded_platform)


# The statements, run on a database thread.


def _accept(message: IngestMessage, bot_id: int, claim: InboundMessage | None) -> Accepted:
    # One transaction: a message stored is a message claimed, so a process that dies after it still owes
    # the turn, and the next one finds the claim unsettled (see `claims_unsettled`).
    with transaction.atomic(savepoint=False):
        result = ingest_message(message)
        claimed = False
        if claim is not None:
            claimed = services.inbound_claim(
                bot_id=bot_id, platform=message.platform, message_id=message.message_id, message=claim
            )
    return Accepted(ingest=result, claimed=claimed)


def _bot_settings(bot_id: int) -> BotSettings:
    return Bot.objects.select_related("current_manifest").get(pk=bot_id).settings


def _json(value: Any) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder)


def _insert_parts(instance: models.Model) -> tuple[list[str], list[Any]]:
    """Column names and adapted values of a new row, as the ORM would insert it."""
    quote = connection.ops.quote_name
    columns: list[str] = []
    params: list[Any] = []
    for field in instance._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(quote(field.column))
        params.append(field.get_db_prep_save(field.pre_save(instance, add=True), connection))
    return columns, params


def _record_decision(
    bot: HostBot,
    plan: TurnPlan,
    beats: list[PlannedBeat],
    beat_kind: BeatKind,
    platform: str,
    target_message_id: str,
    outcome: TurnOutcome | None,
) -> RecordedDecision:
    request = plan.request
    decision = DispositionDecision(
        **decision_fields(
            inputs=plan.inputs,
            result=plan.routing,
            guild_id=request.guild_id,
            channel_id=request.channel.id,
            bot_id=bot.bot_id,
            inbound_message_id=request.answered.message.id if request.reactive else "",
            router_latency_ms=plan.router_latency_ms,
            trigger_id=request.trigger_id,
        )
    )
    if outcome is not None:
        _apply_outcome(decision, outcome)
    columns, params = _insert_parts(decision)
    beat_table = OutboundBeat._meta.db_table
    claim_table = InboundClaim._meta.db_table
    now = timezone.now()
    sql = f"""
        WITH d AS (
            INSERT INTO {DispositionDecision._meta.db_table} ({", ".join(columns)})
            VALUES ({", ".join(["%s"] * len(columns))}) RETURNING id
        ), b AS (
            INSERT INTO {beat_table} (decision_id, index, kind, text, is_correction, status, platform, channel_id,
                                      target_message_id, platform_message_ids, last_error, created_at)
            SELECT d.id, beat.index - 1, %s, beat.text, beat.is_correction, %s, %s, %s,
                   CASE WHEN beat.index = 1 THEN %s ELSE '' END, '{{}}', '', %s
            FROM d, unnest(%s::text[], %s::boolean[]) WITH ORDINALITY AS beat(text, is_correction, index)
            RETURNING id, index
        ), c AS (
            UPDATE {claim_table} SET decision_id = d.id, settled_at = %s, settled_reason = 'answered', payload = NULL
            FROM d WHERE bot_id = %s AND platform = %s AND message_id = ANY(%s) RETURNING 1
        )
        SELECT d.id, (SELECT array_agg(b.id ORDER BY b.index) FROM b) FROM d
    """  # noqa: S608 - table and column names come from the models, values are parameters
    params += [
        str(beat_kind),
        BeatStatus.PENDING,
        platform,
        request.channel.id,
        target_message_id,
        now,
        [beat.text for beat in beats],
        [beat.is_correction for beat in beats],
        now,
        bot.bot_id,
        platform,
        list(request.message_ids),
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    assert row is not None  # noqa: S101 - INSERT ... RETURNING always returns the new row
    decision_id = int(row[0])
    # The rows as inserted, built here rather than read back (a round trip saved on every turn that speaks).
    rows = [
        OutboundBeat(
            pk=beat_id,
            decision_id=decision_id,
            index=index,
            kind=beat_kind,
            text=beat.text,
            is_correction=beat.is_correction,
            status=BeatStatus.PENDING,
            platform=platform,
            channel_id=request.channel.id,
            target_message_id=target_message_id if index == 0 else "",
            platform_message_ids=[],
            created_at=now,
        )
        for index, (beat_id, beat) in enumerate(zip(row[1] or [], beats, strict=True))
    ]
    for built in rows:
        built._state.adding = False
    return RecordedDecision(decision_id=decision_id, beats=tuple(rows))


def _prepare_beats(
    decision_id: int, beats: list[PlannedBeat], start: int, platform: str, channel_id: str
) -> list[OutboundBeat]:
    rows = [
        OutboundBeat(
            decision_id=decision_id,
            index=start + offset,
            text=beat.text,
            is_correction=beat.is_correction,
            platform=platform,
            channel_id=channel_id,
        )
        for offset, beat in enumerate(beats)
    ]
    OutboundBeat.objects.bulk_create(rows, ignore_conflicts=True)
    indexes = [row.index for row in rows]
    return list(OutboundBeat.objects.filter(decision_id=decision_id, index__in=indexes).order_by("index"))


def _apply_outcome(decision: DispositionDecision, outcome: TurnOutcome) -> None:
    decision.beat_count = outcome.beats
    decision.latency_ms = outcome.latency_ms
    decision.cost_usd = outcome.cost_usd.quantize(Decimal("0.000001"))
    decision.model_used = outcome.model[:100]
    decision.interruption = str(outcome.interruption_handling)
    decision.outcome = outcome.as_json()


def _finish(bot_id: int, decision_id: int, outcome: TurnOutcome, platform: str) -> None:
    decision = DispositionDecision(pk=decision_id)
    _apply_outcome(decision, outcome)
    sent = [{"id": beat.beat_id, "ids": list(beat.message_ids)} for beat in outcome.sent_beats]
    folded = list(outcome.folded or ())
    if outcome.interruption and outcome.interruption_handling == "folded":
        folded += [str(item) for item in outcome.interruption.get("by", [])]
    now = timezone.now()
    sql = f"""
        WITH s AS (
            UPDATE {OutboundBeat._meta.db_table} AS beat
            SET status = %s, platform_message_ids = v.ids, sent_at = %s, last_error = ''
            FROM jsonb_to_recordset(%s::jsonb) AS v(id bigint, ids varchar(64)[])
            WHERE beat.id = v.id RETURNING 1
        ), c AS (
            UPDATE {InboundClaim._meta.db_table}
            SET decision_id = %s, settled_at = %s, settled_reason = 'folded', payload = NULL
            WHERE bot_id = %s AND platform = %s AND message_id = ANY(%s) AND settled_at IS NULL RETURNING 1
        )
        UPDATE {DispositionDecision._meta.db_table}
        SET beat_count = %s, latency_ms = %s, cost_usd = %s, model_used = %s, interruption = %s, outcome = %s::jsonb
        WHERE id = %s
    """  # noqa: S608 - table names come from the models, values are parameters
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                BeatStatus.SENT,
                now,
                _json(sent),
                decision_id,
                now,
                bot_id,
                platform,
                folded,
                decision.beat_count,
                decision.latency_ms,
                decision.cost_usd,
                decision.model_used,
                decision.interruption,
                _json(decision.outcome),
                decision_id,
            ],
        )


def since_seconds(seconds: float) -> datetime:
    """The moment `seconds` ago."""
    return timezone.now() - timedelta(seconds=seconds)
