"""The host's one door to the database: every read and write a turn makes, listed here and nowhere else.

The host is asyncio; the ORM is not. Every call below runs on the host's own database threads (a small,
fixed pool, each thread keeping its connection open for the life of the process), so a hundred turns in
flight do not queue behind one thread, and no module of the host calls `sync_to_async` itself.

A one-line reactive turn costs six statements (see docs/architecture.md, "A turn's round trips"); the first
turn of a member this process has not met yet adds one, the indexed read of their familiarity (and their threat
standing, `steward.security`):

1. ingest: the transcript row and its `message.ingested` event           (memory, one transaction with 2)
2.         the bot's claim on the message, with the message itself          (same transaction)
3. read:   the channel's recent messages and the guild's, in one query      (router inputs and live context)
4. record: the decision, its beats, the settled claims (and its research runs), in one statement (before
           anything is sent), with the member's threat score when the turn carried a signal
5. finish: the outcome, with every beat the platform accepted, in one statement

What changes rarely and is read every turn (a persona's dispositions, a bot's mutes, its guilds' quiet hours,
a guild's budget fraction) is cached here and checked against a change stamp in Redis (`dit_project.stamps`)
or a short age. How familiar a member is (messages seen, first seen) is one indexed query the first time a
process meets them, then kept up to date from what this process ingests.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, replace
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
from bots.host.threads import DatabaseThreads
from bots.host.values import HostBot, PlannedBeat, ThreatUpdate, TurnOutcome, TurnPlan
from bots.models import Bot
from bots.selectors import BotRevision, bot_revision
from bots.signals import bot_stamp
from bots.task_workers import TaskLimits, task_post_claim, task_run_create
from bots.turn_settings import FollowupConfig
from dispositions.models import DispositionDecision, SubagentRun
from dispositions.research.material import gather_material
from dispositions.research.types import Material, ResearchPersonaDef
from dispositions.research.uptake import measure
from dispositions.selectors import load_routing_candidates
from dispositions.services import ROUTING_STAMP, decision_fields
from dispositions.signals import decision_finished, decision_recorded
from dispositions.specs import DispositionSpec, PersonaSpec
from dit_project import stamps
from gateway.client import budget_remaining_fraction
from gateway.services import record_tool_calls
from gateway.tools import TOOLS, ToolBox, ToolCallRecord, ToolScope
from memory import selectors as memory_selectors
from memory.context import AssembledContext, ContextScope, assemble_context
from memory.forgetting import request_forget
from memory.ingest import IngestMessage, IngestResult, ingest_message
from memory.live import RecentActivity, recent_activity
from memory.models import Dossier, Transcript
from memory.reactions import ReactionChange, record_reaction
from memory.selectors import CALLBACK_STAMP, ChannelTopic, RouterMemoryInputs
from memory.tools import MEMORY_TOOLS
from steward.models import MemberThreat
from steward.security import MAX_REASONS, UNKNOWN, Standing, half_life

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Without a stamp change, cached rows are still re-read after this long (a lost bump cannot pin them).
CACHE_MAX_AGE_SECONDS = 30.0
# The budget fraction is a routing input, not the budget itself (the gateway enforces that per call).
BUDGET_MAX_AGE_SECONDS = 5.0
# Members whose familiarity one process keeps; the least recently met are forgotten first.
FAMILIARITY_CACHE_SIZE = 20_000
# Messages are counted up to this many: the router only needs to know whether a member is a regular.
FAMILIARITY_COUNT_CAP = 1000


def _memory_inputs(
    scope: ContextScope, message_text: str, topic: ChannelTopic, *, known_material: bool
) -> RouterMemoryInputs | None:
    """Router inputs with a primed callback; None when the scope has no material to prime.

    Without `known_material` one cheap query asks first, so a scope with nothing pays no embedding.
    """
    guild_id, channel_id, is_dm, requester_id = scope.guild_id, scope.channel_id, scope.is_dm, scope.requester_id
    if not known_material and not memory_selectors.has_callback_material(
        guild_id=guild_id, channel_id=channel_id, is_dm=is_dm, requester_id=requester_id
    ):
        return None
    return memory_selectors.router_memory_inputs(
        guild_id=guild_id,
        channel_id=channel_id,
        is_dm=is_dm,
        requester_id=requester_id,
        message_text=message_text,
        topic=topic,
    )


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
class Familiarity:
    """How well the bot knows a member in one guild (or DM): their messages it has stored, and the first one's time."""

    messages: int
    first_seen: datetime | None
    # The member's threat standing in the guild (the security engine's stored score), read in the same query.
    standing: Standing = UNKNOWN


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
        self._quiet_hours: _Cached | None = None
        self._budgets: dict[str, _Cached] = {}
        self._callback_material: dict[str, _Cached] = {}
        self._familiar: OrderedDict[tuple[str, str], Familiarity] = OrderedDict()
        self._snapshot: dict[str, bytes | None] = {}
        self._snapshot_at = float("-inf")
        self._bot_seen: bytes | None = None
        self._bot_looked = False
        self._loading: dict[Hashable, asyncio.Future[Any]] = {}

    async def run_for_gateway(self, function: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """The gateway's database work of a turn (see `gateway.orm`), on the host's threads while they run.

        A settlement still in flight when the host closes (a cancelled turn's usage rows) runs on asgiref's
        thread instead, so it is never lost.
        """
        if self._threads.closed:
            return await sync_to_async(function)(*args, **kwargs)
        return await self._threads.run(function, *args, **kwargs)

    async def close(self) -> None:
        """Close the database threads (their connections with them), and asgiref's, where gateway calls
        made outside a turn run."""
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

    async def research_material(self, persona: ResearchPersonaDef, scope: ContextScope) -> Material:
        """What a research persona's memory reads find for a turn, within the privacy boundary."""
        return await self._threads.run(gather_material, persona, scope)

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
        return [
            ROUTING_STAMP,
            mutes_stamp(bot_id),
            bot_services.quiet_hours_stamp(bot_id),
            bot_stamp(bot_id),
            CALLBACK_STAMP,
        ]

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

    async def _load_once(self, key: Hashable, load: Callable[[], Awaitable[T]]) -> T:
        """`load()`, shared by every turn that finds the same cache entry stale while it runs.

        A hundred turns starting at once would otherwise each read the same rows (one statement each).
        """
        pending = self._loading.get(key)
        if pending is None:
            pending = self._loading[key] = asyncio.ensure_future(load())
            pending.add_done_callback(
                lambda done: self._loading.pop(key, None) if self._loading.get(key) is done else None
            )
        # Shielded: a turn cancelled while waiting does not cancel the read the others wait for.
        result: T = await asyncio.shield(pending)
        return result

    async def candidates(self, persona_id: int) -> tuple[PersonaSpec, list[DispositionSpec]]:
        """The persona and its enabled dispositions with their weights (cached until they change)."""
        stamp = await self._stamp(ROUTING_STAMP)
        cached = self._routing.get(persona_id)
        if not self._fresh(cached, stamp, CACHE_MAX_AGE_SECONDS):
            value = await self._load_once(
                ("routing", persona_id), lambda: self._threads.run(load_routing_candidates, persona_id)
            )
            cached = self._routing[persona_id] = _Cached(value, stamp, self._clock())
        assert cached is not None  # noqa: S101 - set just above
        persona, specs = cached.value
        return persona, list(specs)

    async def active_mute(self, channel_id: str) -> datetime | None:
        """Until when this bot is muted in a channel, or None (cached until a mute changes)."""
        stamp = await self._stamp(mutes_stamp(self._bot.bot_id))
        if not self._fresh(self._mutes, stamp, CACHE_MAX_AGE_SECONDS):
            mutes = await self._load_once(
                "mutes", lambda: self._threads.run(selectors.active_mute_ends, bot_id=self._bot.bot_id)
            )
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
            value = await self._load_once(
                ("budget", guild_id), lambda: self._threads.run(budget_remaining_fraction, guild_id)
            )
        except Exception:
            # The budget is a routing input, not a precondition: without it the turn routes as if unconstrained.
            logger.exception("budget of guild %s unavailable; routing without budget pressure", guild_id)
            return 1.0
        fraction = 1.0 if value is None else max(0.0, value)
        self._budgets[guild_id] = _Cached(fraction, None, self._clock())
        return fraction

    async def memory_inputs(self, *, scope: ContextScope, message_text: str) -> RouterMemoryInputs:
        """The router's inputs from memory: the channel's topic (from the turn's read) and a primed callback.

        Whether a scope has any highlight or fact to prime is remembered until one is added (the callback
        stamp): a guild without memory yet pays no query and no embedding, one with memory no extra check.
        """
        recent = scope.recent.channel if scope.recent is not None else ()
        topic = memory_selectors.topic_from_recent(recent)
        key = scope.guild_id or f"dm:{scope.channel_id}:{scope.requester_id}"
        stamp = await self._stamp(CALLBACK_STAMP)
        cached = self._callback_material.get(key)
        known = self._fresh(cached, stamp, CACHE_MAX_AGE_SECONDS)
        if known and cached is not None and not cached.value:
            return RouterMemoryInputs(callback_material=0.0, primed=None, topic=topic)
        inputs = await self._threads.run(_memory_inputs, scope, message_text, topic, known_material=known)
        if not known:
            self._callback_material[key] = _Cached(inputs is not None, stamp, self._clock())
        return inputs or RouterMemoryInputs(callback_material=0.0, primed=None, topic=topic)

    async def request_forget(self, *, guild_id: str, user_id: str) -> None:
        """A member asked the bot to forget them: the reactor forgets them, durably and once."""
        await self._threads.run(request_forget, guild_id=guild_id, user_id=user_id)

    async def quiet_hours(self, guild_id: str) -> bot_selectors.QuietHours | None:
        """The guild's quiet hours, if it has any (cached until they change in admin)."""
        if not guild_id:
            return None
        stamp = await self._stamp(bot_services.quiet_hours_stamp(self._bot.bot_id))
        if not self._fresh(self._quiet_hours, stamp, CACHE_MAX_AGE_SECONDS):
            hours = await self._threads.run(bot_selectors.quiet_hours_by_guild, bot_id=self._bot.bot_id)
            self._quiet_hours = _Cached(hours, stamp, self._clock())
        assert self._quiet_hours is not None  # noqa: S101 - set just above
        found: bot_selectors.QuietHours | None = self._quiet_hours.value.get(guild_id)
        return found

    async def familiarity(self, *, guild_id: str, channel_id: str, author_id: str) -> Familiarity:
        """How many of a member's messages are stored (the turn's own included) and since when.

        One query the first time this process meets the member in the guild; afterwards the count follows the
        messages this process stores (`accept`).
        """
        key = _member_key(guild_id, channel_id, author_id)
        known = self._familiar.get(key)
        if known is None:
            known = await self._threads.run(_familiarity, guild_id, channel_id, author_id)
            self._remember(key, known)
        else:
            self._familiar.move_to_end(key)
        return known

    def _remember(self, key: tuple[str, str], value: Familiarity) -> None:
        self._familiar[key] = value
        self._familiar.move_to_end(key)
        while len(self._familiar) > FAMILIARITY_CACHE_SIZE:
            self._familiar.popitem(last=False)

    def saw(self, message: InboundMessage) -> None:
        """A new message reached this process (stored by now): its author's familiarity, if cached, counts it."""
        guild_id = "" if message.is_dm else message.channel.guild_id
        self._saw_message(_member_key(guild_id, message.channel.id, message.author.id), message.created_at)

    def _saw_message(self, key: tuple[str, str], created_at: datetime) -> None:
        known = self._familiar.get(key)
        if known is None:
            return  # Not met yet: the first lookup counts what is stored, this message included.
        first = known.first_seen if known.first_seen is not None and known.first_seen <= created_at else created_at
        self._familiar[key] = replace(known, messages=min(known.messages + 1, FAMILIARITY_COUNT_CAP), first_seen=first)

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

    def tool_box(self, scope: ContextScope) -> ToolBox:
        """Memory's tools for a synthesizer call in this turn's scope, their reads on the host's threads."""
        tool_scope = ToolScope(
            guild_id=scope.guild_id or None,
            channel_id=scope.channel_id,
            is_dm=scope.is_dm,
            requester_id=scope.requester_id,
            bot_id=self._bot.bot_id,
        )
        return TOOLS.box(MEMORY_TOOLS, tool_scope, run_sync=self._threads.run)

    async def record_tool_calls(
        self, calls: Sequence[ToolCallRecord], *, purpose: str, guild_id: str, decision_id: int
    ) -> None:
        """The tool calls a turn's synthesizer made, stored with its decision (one INSERT)."""
        await self._threads.run(
            record_tool_calls,
            calls,
            purpose=purpose,
            bot_id=self._bot.bot_id,
            guild_id=guild_id,
            decision_id=decision_id,
        )

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

        Raises IntegrityError when the message already had its reactive turn (another delivery won). When the
        turn's messages carried threat signals, the member's new score is stored in the same statement.
        """
        recorded = await self._threads.run(
            _record_decision, self._bot, plan, list(beats), beat_kind, platform, target_message_id, outcome
        )
        update = plan.reading.threat_update
        if update is not None:
            # What this process knows of the member from now on: the score it just stored.
            key = _member_key(update.guild_id, "", update.user_id)
            known = self._familiar.get(key)
            if known is not None:
                standing = Standing(score=update.score, scored_at=update.scored_at, known=True)
                self._familiar[key] = replace(known, standing=standing)
        return recorded

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

    async def delegate_task(
        self,
        *,
        decision_id: int,
        guild_id: str,
        channel_id: str,
        goal: str,
        limits: TaskLimits,
        requested_by: str,
        request_message_id: str,
    ) -> int:
        """Write a task for a worker and its reactor trigger, in one transaction; the task's id."""
        task = await self._threads.run(
            task_run_create,
            bot_id=self._bot.bot_id,
            guild_id=guild_id,
            channel_id=channel_id,
            goal=goal,
            limits=limits,
            decision_id=decision_id,
            requested_by=requested_by,
            request_message_id=request_message_id,
        )
        return task.pk

    async def claim_task_post(self, task_id: int) -> bool:
        """Take a task's result for posting, once (False: it was taken already)."""
        return await self._threads.run(task_post_claim, task_id=task_id)

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


def _member_key(guild_id: str, channel_id: str, author_id: str) -> tuple[str, str]:
    """A member's key: per guild, or per DM channel outside guilds."""
    return (guild_id or f"dm:{channel_id}", author_id)


def _familiarity(guild_id: str, channel_id: str, author_id: str) -> Familiarity:
    # One statement: a capped count and the first message's time, both off the (guild, author, created) index
    # (a DM's off the channel index), and the member's threat standing in the guild (its unique index).
    rows = Transcript.objects.filter(author_id=author_id)
    rows = rows.filter(guild_id=guild_id, is_dm=False) if guild_id else rows.filter(is_dm=True, channel_id=channel_id)
    capped = rows.order_by().values("id")[:FAMILIARITY_COUNT_CAP]
    sql, params = capped.query.sql_with_params()
    first_sql, first_params = rows.order_by("created_at").values("created_at")[:1].query.sql_with_params()
    threat = MemberThreat._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT count(*) FROM ({sql}) AS seen), ({first_sql}), t.score, t.scored_at "  # noqa: S608 - both subqueries are built by the ORM, values are parameters
            f"FROM (SELECT 1) AS one LEFT JOIN {threat} AS t ON t.guild_id = %s AND t.user_id = %s",
            [*params, *first_params, guild_id or "-", author_id],
        )
        row = cursor.fetchone()
    assert row is not None  # noqa: S101 - an aggregate always returns one row
    standing = Standing(score=float(row[2]), scored_at=row[3], known=True) if row[3] is not None else UNKNOWN
    return Familiarity(messages=int(row[0]), first_seen=row[1], standing=standing)


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
    if plan.research is not None:
        decision.subagents_fired = list(plan.research.fired)
    if outcome is not None:
        _apply_outcome(decision, outcome)
    update = plan.reading.threat_update
    threat_sql, threat_params = _threat_write(update) if update is not None else ("", [])
    columns, params = _insert_parts(decision)
    beat_table = OutboundBeat._meta.db_table
    claim_table = InboundClaim._meta.db_table
    now = timezone.now()
    # The fan-out's runs go in with the decision they belong to: a turn with research costs no extra
    # statement, and one without inserts nothing here.
    runs = _subagent_runs(plan, beats if beat_kind == BeatKind.MESSAGE else [])
    sql = f"""
        WITH d AS (
            INSERT INTO {DispositionDecision._meta.db_table} ({", ".join(columns)})
            VALUES ({", ".join(["%s"] * len(columns))}) RETURNING id
        ), r AS (
            INSERT INTO {SubagentRun._meta.db_table} (decision_id, persona, input_payload, output_payload, latency_ms,
                                                      cost_usd, model_used, error, uptake, ignored, created_at)
            SELECT d.id, run.persona, run.input_payload, run.output_payload, run.latency_ms, run.cost_usd,
                   run.model_used, run.error, run.uptake, run.ignored, %s
            FROM d, jsonb_to_recordset(%s::jsonb) AS run(persona varchar, input_payload jsonb, output_payload jsonb,
                 latency_ms double precision, cost_usd numeric, model_used varchar, error text,
                 uptake double precision, ignored boolean)
            RETURNING 1
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
        ){threat_sql}
        SELECT d.id, (SELECT array_agg(b.id ORDER BY b.index) FROM b) FROM d
    """  # noqa: S608 - table and column names come from the models, values are parameters
    params += [
        now,
        _json(runs),
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
        *threat_params,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    assert row is not None  # noqa: S101 - INSERT ... RETURNING always returns the new row
    decision_id = int(row[0])
    decision.pk = decision_id
    decision_recorded.send(sender=DispositionDecision, decision=decision)
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


def _subagent_runs(plan: TurnPlan, beats: Sequence[PlannedBeat]) -> list[dict[str, Any]]:
    """The fan-out's runs as rows, each with how much of its payload the message beats about to be sent used."""
    if plan.research is None:
        return []
    reply = "\n".join(beat.text for beat in beats)
    answered = plan.request.text
    rows = []
    for run in plan.research.runs:
        uptake = measure(run.payload, reply=reply, answered=answered)
        rows.append(
            {
                "persona": run.persona,
                "input_payload": dict(run.input_payload),
                "output_payload": dict(run.payload or {}),
                "latency_ms": round(run.latency_ms, 3),
                "cost_usd": str(run.cost_usd.quantize(Decimal("0.000001"))),
                "model_used": run.model[:100],
                "error": run.error,
                "uptake": uptake.uptake,
                "ignored": uptake.ignored,
            }
        )
    return rows


def _threat_write(update: ThreatUpdate) -> tuple[str, list[Any]]:
    """The member's threat score and its reasons, and the dossier's copy, as parts of the decision's statement.

    The stored score is decayed to this turn and the turn's points added in SQL, so two processes scoring one
    member both count; a message already counted (by another bot of the guild) is not counted again.
    """
    table = MemberThreat._meta.db_table
    dossier = Dossier._meta.db_table
    sql = f""", t AS (
            INSERT INTO {table} AS m (guild_id, user_id, display_name, score, scored_at, reasons, last_message_at,
                                     first_scored_at)
            VALUES (%s, %s, %s, LEAST(1.0, %s), %s, %s::jsonb, %s, %s)
            ON CONFLICT ON CONSTRAINT steward_memberthreat_one_per_member DO UPDATE SET
                score = LEAST(1.0, EXCLUDED.score + m.score
                        * power(0.5, GREATEST(0, extract(epoch FROM EXCLUDED.scored_at - m.scored_at)) / %s)),
                scored_at = EXCLUDED.scored_at,
                display_name = EXCLUDED.display_name,
                reasons = jsonb_path_query_array(EXCLUDED.reasons || m.reasons, '$[0 to {MAX_REASONS - 1}]'),
                last_message_at = EXCLUDED.last_message_at
            WHERE m.last_message_at < EXCLUDED.last_message_at
            RETURNING m.score, m.scored_at, m.reasons
        ), dz AS (
            UPDATE {dossier} AS z
            SET signals = jsonb_set(
                z.signals, '{{threat}}',
                jsonb_build_object('score', t.score, 'scored_at', t.scored_at, 'reasons', t.reasons)
            )
            FROM t WHERE z.guild_id = %s AND z.subject_user_id = %s RETURNING 1
        )"""  # noqa: S608 - table names come from the models, values are parameters
    reasons = [
        {"signal": s.name, "points": round(s.points, 3), "reason": s.reason, "at": update.scored_at.isoformat()}
        for s in update.signals
    ]
    params: list[Any] = [
        update.guild_id,
        update.user_id,
        update.display_name[:200],
        update.points,
        update.scored_at,
        _json(reasons),
        update.message_at,
        update.scored_at,
        half_life().total_seconds(),
        update.guild_id,
        update.user_id,
    ]
    return sql, params


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
    decision_finished.send(sender=DispositionDecision, decision=decision)


def since_seconds(seconds: float) -> datetime:
    """The moment `seconds` ago."""
    return timezone.now() - timedelta(seconds=seconds)
