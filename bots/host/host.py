"""The host: the adapter's InboundHandler, and every turn from inbound message to the beats it sends.

Inbound (adapter order, quick): ingest into memory (idempotent on the platform message id), note the arrival
in the channel ledger, read the address, preflight, and put the message in its fragment group. A closed
group becomes a turn in its channel's lane (one turn in flight per channel, channels in parallel).

A turn: mute and bot-chain gates, late addressing, router inputs from the channel, the decision (routed and
recorded; at most one reactive decision per inbound message, enforced by the database), context assembly
within the privacy boundary, the synthesizer, a re-check of the channel, then the dispatcher. Whatever
happens, the decision's outcome records how the turn ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from asgiref.sync import sync_to_async
from django.db import IntegrityError
from django.utils import timezone
from redis.asyncio import Redis

from bots import services as bot_services
from bots.adapters.base import (
    AdapterError,
    ChannelKind,
    ChannelRef,
    InboundMessage,
    InboundReaction,
    MessageRef,
    PlatformAdapter,
    ReadyEvent,
    TypingEvent,
)
from bots.choices import ChannelKind as StoredChannelKind
from bots.choices import Platform
from bots.host import selectors, services
from bots.host.addressing import Address, BotIdentity, detect_address
from bots.host.botchain import BotChainLimiter
from bots.host.choices import MuteSource, RecheckOutcome, TurnEnd
from bots.host.config import HostConfig
from bots.host.cues import has_new_content, is_question, strip_address
from bots.host.dispatcher import (
    DispatchResult,
    Interruption,
    InterruptionVerdict,
    OutputDispatcher,
    PlannedBeat,
)
from bots.host.fragments import FragmentBuffer, FragmentGroup
from bots.host.interruption import route_interruption
from bots.host.lanes import ChannelLanes, DrainReport
from bots.host.ledger import Arrival, ChannelLedger
from bots.host.mutes import Classifier, gateway_mute_classifier, read_mute_request
from bots.host.observers import DecisionMade, ScoredOption, TurnEnded, TurnObserver
from bots.host.preflight import preflight
from bots.host.signals import channel_signals, find_late_question
from bots.host.turns import TurnRequest, ingest_message_for, line_for_arrival, line_for_item, line_for_message
from dispositions.choices import AddressKind, InterruptionHandling, OutputShape, TriggerKind
from dispositions.models import DispositionDecision
from dispositions.router import aroute_turn
from dispositions.selectors import aload_routing_candidates
from dispositions.services import new_seed, record_decision, record_turn_outcome
from dispositions.specs import DispositionSpec, Moment, PersonaSpec, RoutingResult
from dispositions.synthesis import (
    ConversationLine,
    FoldIn,
    SynthesisRequest,
    SynthesisResult,
    SynthesizeFn,
    synthesize,
)
from dispositions.tiebreak import make_gateway_tiebreaker
from memory.context import TurnScope, aassemble_context
from memory.errors import InvalidIngestMessage
from memory.ingest import aingest_message
from memory.live import narrow_live

logger = logging.getLogger(__name__)

MUTE_ACK_EMOJI = "🤐"
RECENT_ITEMS = 50
REMEMBERED_OWN_MESSAGES = 2000


@dataclass(frozen=True, slots=True)
class HostBot:
    """The bot a host runs: its database id, names and the persona it speaks as."""

    bot_id: int
    slug: str
    name: str
    persona_id: int


@dataclass
class _Turn:
    """A turn in progress: what it answers, where, and what it has found out so far."""

    channel: ChannelRef
    trigger: str
    request: TurnRequest | None
    started: float
    outcome: dict[str, Any]
    decision: DispositionDecision | None = None
    chosen: DispositionSpec | None = None
    persona: PersonaSpec | None = None
    cost: Decimal = Decimal(0)
    model: str = ""

    @property
    def guild_id(self) -> str:
        return self.channel.guild_id


class Host:
    """Runs one bot's turns on one platform adapter."""

    def __init__(
        self,
        *,
        bot: HostBot,
        config: HostConfig,
        adapter: PlatformAdapter,
        redis: Redis | None = None,
        redis_prefix: str = "dit:host",
        synthesizer: SynthesizeFn | None = None,
        mute_classifier: Classifier | None = None,
        observers: Iterable[TurnObserver] = (),
        clock: Callable[[], float] = time.monotonic,
        seed_source: Callable[[], int] = new_seed,
    ) -> None:
        self.bot = bot
        self.config = config
        self.adapter = adapter
        self.ledger = ChannelLedger()
        self.lanes: ChannelLanes[TurnRequest] = ChannelLanes(self._run_turn)
        self.fragments = FragmentBuffer(
            window=config.fragment_window_seconds, max_seconds=config.fragment_max_seconds, clock=clock
        )
        self.dispatcher = OutputDispatcher(adapter)
        self.observers = list(observers)
        self._clock = clock
        # Where each decision's router seed comes from: fresh randomness by default; a seeded generator
        # makes a whole run replayable (the seed is logged on every decision either way).
        self._seed_source = seed_source
        self._synthesize = synthesizer or synthesize
        self._mute_classifier = mute_classifier
        self._limiter = (
            BotChainLimiter(
                redis,
                prefix=redis_prefix,
                bot_id=bot.bot_id,
                chain_max=config.bot_reply_chain_max,
                per_minute=config.bot_replies_per_minute,
                cooldown_seconds=config.bot_cooldown_seconds,
            )
            if redis is not None
            else None
        )
        self.identity: BotIdentity | None = None
        self._wake_words: tuple[str, ...] = ()
        self._own_ids: frozenset[str] = frozenset()
        # Other bots' accounts already looked up and found not ours: their messages need no second look.
        self._foreign_bot_ids: set[str] = set()
        self._own_messages: OrderedDict[str, None] = OrderedDict()
        self._wake = asyncio.Event()
        self._timer: asyncio.Task[None] | None = None
        self._accepting = True

    # Life cycle.

    async def prepare(self) -> None:
        """Before connecting: the persona's names, our bots' accounts, and beats a previous run left pending."""
        persona, _ = await aload_routing_candidates(self.bot.persona_id)
        self._wake_words = persona.wake_words
        self._own_ids = await sync_to_async(selectors.own_user_ids)()
        await sync_to_async(services.beats_abandon_pending)(bot_id=self.bot.bot_id)

    async def drain(self, grace: float | None = None) -> DrainReport:
        """Stop taking turns, give in-flight ones the grace period, cancel what is left."""
        self._accepting = False
        dropped_groups = self.fragments.flush()
        if self._timer is not None:
            self._timer.cancel()
            await asyncio.gather(self._timer, return_exceptions=True)
            self._timer = None
        report = await self.lanes.drain(self.config.drain_grace_seconds if grace is None else grace)
        logger.info(
            "bot %s drained: %s turns finished, %s cancelled, %s dropped before starting (%s fragment groups)",
            self.bot.slug,
            report.finished,
            report.cancelled,
            report.dropped,
            len(dropped_groups),
        )
        return report

    async def idle(self) -> None:
        """Wait until no fragment group is open and no turn is queued or running (tests, benchmarks)."""
        while True:
            await self.lanes.wait_idle()
            if not len(self.fragments) and not self.lanes.in_flight and not self.lanes.pending:
                return
            await asyncio.sleep(0.005)

    def _ensure_timer(self) -> None:
        if self._timer is None or self._timer.done():
            self._timer = asyncio.create_task(self._fragment_timer(), name=f"fragments-{self.bot.slug}")

    async def _fragment_timer(self) -> None:
        while self._accepting:
            # Cleared before reading the deadline: an add() after this point wakes the wait below.
            self._wake.clear()
            deadline = self.fragments.next_deadline()
            timeout = None if deadline is None else max(0.0, deadline - self._clock())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
            for group in self.fragments.due():
                self._submit(group)

    # InboundHandler.

    async def on_ready(self, event: ReadyEvent) -> None:
        """A fresh session: remember who the bot is, sync its guilds, fetch what was missed."""
        user = event.bot_user
        role_ids = {
            role.id
            for snapshot in event.guilds
            for role in snapshot.roles
            if role.name.lower() in {self.bot.name.lower(), user.display_name.lower()}
        }
        self.identity = BotIdentity.build(
            user_id=user.id, names=[self.bot.name, user.display_name, *self._wake_words], role_ids=role_ids
        )
        platform = _stored_platform(event.platform)
        await sync_to_async(services.bot_account_record)(
            bot_id=self.bot.bot_id, platform=platform, user_id=user.id, display_name=user.display_name
        )
        self._own_ids = await sync_to_async(selectors.own_user_ids)() | {user.id}
        for snapshot in event.guilds:
            await sync_to_async(bot_services.guild_sync)(
                bot_id=self.bot.bot_id,
                external_id=snapshot.guild.id,
                name=snapshot.guild.name or snapshot.guild.id,
                channels=[
                    bot_services.ChannelSnapshot(external_id=c.id, name=c.name, kind=_stored_kind(c.kind))
                    for c in snapshot.channels
                    if c.kind is not ChannelKind.DM
                ],
                roles=[bot_services.RoleSnapshot(external_id=r.id, name=r.name) for r in snapshot.roles],
                platform=platform,
            )
        logger.info("bot %s ready as %s (%s guilds)", self.bot.slug, user.id, len(event.guilds))
        self._ensure_timer()
        await self._catch_up(event)

    async def on_resumed(self) -> None:
        """The session resumed: the platform replays what was missed (ingest keeps it exactly once)."""
        logger.info("bot %s resumed its session", self.bot.slug)

    async def on_message(self, message: InboundMessage) -> None:
        """A message arrived (or was edited)."""
        await self._accept(message, catchup=False)

    async def on_reaction(self, reaction: InboundReaction) -> None:
        """Reactions are not turns; they are left to moment extraction."""
        logger.debug("reaction %s on %s by %s", reaction.emoji, reaction.message.id, reaction.user.id)

    async def on_typing(self, event: TypingEvent) -> None:
        """Someone is typing: an open fragment group of theirs waits a little longer."""
        if self.fragments.typing(event.channel.id, event.user.id):
            self._wake.set()

    # Inbound path.

    async def _catch_up(self, event: ReadyEvent) -> None:
        channels = [
            channel
            for snapshot in event.guilds
            for channel in snapshot.channels
            if channel.kind in (ChannelKind.TEXT, ChannelKind.THREAD)
        ]
        last_seen = await sync_to_async(selectors.last_seen_message_ids)(
            platform=event.platform, channel_ids=[c.id for c in channels]
        )
        fetched = 0
        for channel in channels:
            last_id = last_seen.get(channel.id)
            if last_id is None:
                continue
            try:
                missed = await self.adapter.fetch_history(
                    channel, after=MessageRef(channel=channel, id=last_id), limit=self.config.catchup_limit
                )
            except AdapterError as exc:
                logger.warning("could not fetch missed messages of channel %s: %s", channel.id, exc.message)
                continue
            for message in missed:
                fetched += 1
                await self._accept(message, catchup=True)
        if fetched:
            logger.info("bot %s caught up on %s missed messages", self.bot.slug, fetched)

    async def _accept(self, message: InboundMessage, *, catchup: bool) -> None:
        author_id = message.author.id
        if message.author.is_bot and author_id not in self._own_ids and author_id not in self._foreign_bot_ids:
            # Another of our bots may have logged in since we last looked: re-read the accounts before
            # this bot could take its message for a stranger's and start a loop between the two. A bot
            # records its account before it can speak, so one look per unknown bot is enough.
            self._own_ids = await sync_to_async(selectors.own_user_ids)() | self._own_ids
            if author_id not in self._own_ids:
                self._foreign_bot_ids.add(author_id)
        is_own = message.author.id in self._own_ids
        try:
            await aingest_message(ingest_message_for(message))
        except InvalidIngestMessage as exc:
            logger.warning("message %s not ingested: %s", message.message.id, exc.message)
            return
        arrival = self.ledger.record(message, is_own=is_own)
        if message.is_edit or arrival is None:
            return
        # Memory stores a message once for every bot of the guild; whether *this* bot has already taken
        # it (a replay, a resume overlap, a previous run) is its own claim.
        if not await sync_to_async(services.inbound_claim)(
            bot_id=self.bot.bot_id, platform=message.platform, message_id=message.message.id
        ):
            return
        if self._limiter is not None and not message.author.is_bot and not message.is_dm:
            await self._limiter.human_spoke(message.channel.id)
        identity = self.identity
        if identity is None or not self._accepting:
            return
        address = detect_address(
            message,
            bot=identity,
            bot_message_ids=self._own_messages,
            address_on_everyone=self.config.address_on_everyone,
            address_on_role_ping=self.config.address_on_role_ping,
        )
        verdict = preflight(message, address=address, own_user_ids=self._own_ids, config=self.config)
        if not verdict.accepted:
            logger.debug("message %s starts no turn: %s", message.message.id, verdict.reason)
            return
        if catchup:
            age = (timezone.now() - message.created_at).total_seconds()
            if age > self.config.catchup_max_age_seconds:
                logger.info("missed message %s is %.0fs old: kept as context only", message.message.id, age)
                return
        group = self.fragments.add(message, address=address, seq=arrival.seq)
        if group is not None:
            self._submit(group)
        else:
            self._ensure_timer()
            self._wake.set()

    def _submit(self, group: FragmentGroup) -> None:
        request = TurnRequest(
            channel=group.messages[-1].channel,
            messages=tuple(group.messages),
            address=group.address,
            last_seq=max(group.seqs),
        )
        if not self.lanes.submit(request.channel.id, request):
            logger.info("not taking the turn for %s: draining", request.answered.message.id)

    # Turns.

    async def _run_turn(self, request: TurnRequest) -> None:
        live = tuple(m for m in request.messages if not self.ledger.is_consumed(m.message.id))
        if not live:
            return
        if len(live) != len(request.messages):
            request = replace(request, messages=live)
        if not self._accepting:
            return
        turn = _Turn(
            channel=request.channel,
            trigger=TriggerKind.REACTIVE,
            request=request,
            started=time.perf_counter(),
            outcome={"address": request.address.as_dict(), "fragments": list(request.message_ids)},
        )
        answered = request.answered
        identity = self.identity
        assert identity is not None  # noqa: S101 - turns are only submitted after on_ready
        addressed = request.address.addressed
        stripped = strip_address(request.text, names=identity.names, bot_user_id=identity.user_id)
        mute = await sync_to_async(selectors.active_mute)(bot_id=self.bot.bot_id, channel_id=request.channel.id)
        if addressed and await self._handle_mute_request(request, stripped):
            return
        if mute is not None:
            if addressed:
                await sync_to_async(services.mutes_lift_for_channel)(
                    bot_id=self.bot.bot_id,
                    channel_id=request.channel.id,
                    lifted_by=_who(answered),
                    reason="addressed the bot again",
                )
                mute = None
                turn.outcome["mute_lifted"] = True
            else:
                logger.info("channel %s is muted: message %s starts no turn", request.channel.id, answered.message.id)
                return
        sender_is_bot = answered.author.is_bot
        if sender_is_bot and self._limiter is not None and not answered.is_dm:
            chain = await self._limiter.check(request.channel.id)
            if not chain.allowed:
                logger.info("not answering bot %s in %s: %s", answered.author.id, request.channel.id, chain.reason)
                return
        items = await sync_to_async(narrow_live)(request.channel.id, RECENT_ITEMS)
        answering = [line_for_message(m) for m in request.messages]
        reply_to: MessageRef | None = None
        question_text = stripped
        if addressed and not has_new_content(stripped):
            late = find_late_question(
                items,
                author_id=answered.author.id,
                nudge_message_ids=set(request.message_ids),
                own_user_ids=self._own_ids,
                now=timezone.now(),
                window_seconds=self.config.late_address_minutes * 60,
                names=identity.names,
            )
            if late is not None:
                answering = [line_for_item(late)]
                reply_to = MessageRef(channel=request.channel, id=late.message_id)
                question_text = late.content
                turn.outcome["late_address_of"] = late.message_id
                logger.info("message %s points back at unanswered question %s", answered.message.id, late.message_id)
        signals = channel_signals(
            items, turn_message_ids=set(request.message_ids), own_user_ids=self._own_ids, now=timezone.now()
        )
        context = Moment(
            trigger=TriggerKind.REACTIVE,
            message_text=request.text[:2000],
            addressed=addressed,
            address_kind=request.address.kind,
            said_to_someone_else=request.address.others_targeted,
            question_detected=is_question(question_text),
            unanswered_questions=signals.unanswered_questions,
            activity_per_minute=signals.activity_per_minute,
            lull_seconds=signals.lull_seconds,
            present_users=signals.present_users,
            seconds_since_bot_spoke=signals.seconds_since_bot_spoke,
            sender_is_bot=sender_is_bot,
            bot_chain_allowed=sender_is_bot and answered.author.id in self.config.allowed_bots,
            budget_remaining=await self._budget(turn.guild_id),
            unprompted_muted=mute is not None,
            is_dm=answered.is_dm,
        )
        if not await self._decide(turn, context, inbound_message_id=answered.message.id):
            return
        scope = TurnScope(
            guild_id=turn.guild_id,
            channel_id=request.channel.id,
            is_dm=answered.is_dm,
            requester_id=answered.author.id,
            present_user_ids=frozenset(signals.present_users) if not answered.is_dm else frozenset(),
        )
        await self._speak(turn, scope=scope, answering=answering, reply_to=reply_to, react_to=answered.message)

    async def unprompted_turn(
        self, channel: ChannelRef, *, trigger: str = TriggerKind.SPECULATIVE, followup_bias: str | None = None
    ) -> DispositionDecision | None:
        """A turn nobody asked for (speculative or self-followup); silent while the channel is muted."""
        identity = self.identity
        if identity is None or not self._accepting:
            return None
        turn = _Turn(channel=channel, trigger=trigger, request=None, started=time.perf_counter(), outcome={})
        mute = await sync_to_async(selectors.active_mute)(bot_id=self.bot.bot_id, channel_id=channel.id)
        items = await sync_to_async(narrow_live)(channel.id, RECENT_ITEMS)
        signals = channel_signals(items, turn_message_ids=set(), own_user_ids=self._own_ids, now=timezone.now())
        context = Moment(
            trigger=trigger,
            activity_per_minute=signals.activity_per_minute,
            lull_seconds=signals.lull_seconds,
            present_users=signals.present_users,
            seconds_since_bot_spoke=signals.seconds_since_bot_spoke,
            unanswered_questions=signals.unanswered_questions,
            budget_remaining=await self._budget(turn.guild_id),
            unprompted_muted=mute is not None,
            is_dm=channel.kind is ChannelKind.DM,
            followup_bias=followup_bias,
        )
        if not await self._decide(turn, context, inbound_message_id=""):
            return turn.decision
        scope = TurnScope(
            guild_id=turn.guild_id,
            channel_id=channel.id,
            is_dm=channel.kind is ChannelKind.DM,
            requester_id=identity.user_id,
            present_user_ids=frozenset(signals.present_users),
        )
        last = items[-1] if items else None
        react_to = MessageRef(channel=channel, id=last.message_id) if last is not None else None
        await self._speak(turn, scope=scope, answering=[], reply_to=None, react_to=react_to)
        return turn.decision

    async def _handle_mute_request(self, request: TurnRequest, stripped: str) -> bool:
        classify = self._mute_classifier
        if classify is None and self.config.mute_classifier:
            classify = gateway_mute_classifier(bot_id=self.bot.bot_id, guild_id=request.channel.guild_id or None)
        reading = await read_mute_request(stripped, config=self.config, classify=classify)
        if not reading.mute or self.config.mute_minutes <= 0:
            return False
        answered = request.answered
        await sync_to_async(services.mute_create)(
            bot_id=self.bot.bot_id,
            platform=_stored_platform(answered.platform),
            guild_id=request.channel.guild_id,
            channel_id=request.channel.id,
            source=reading.source or MuteSource.PHRASE,
            reason=request.text[:500],
            muted_by=_who(answered),
            message_id=answered.message.id,
            minutes=self.config.mute_minutes,
        )
        try:
            await self.adapter.react(answered.message, MUTE_ACK_EMOJI)
        except AdapterError as exc:
            logger.warning("could not acknowledge the mute in %s: %s", request.channel.id, exc.message)
        self._notify_end(TurnEnded(None, request.channel.id, TurnEnd.SILENT, f"muted ({reading.matched})"))
        return True

    async def _budget(self, guild_id: str) -> float:
        if not guild_id:
            return 1.0
        from gateway.client import abudget_remaining_fraction

        try:
            fraction = await abudget_remaining_fraction(guild_id)
        except Exception:
            # The budget is a routing input, not a precondition: without it the turn routes as if unconstrained.
            logger.exception("budget of guild %s unavailable; routing without budget pressure", guild_id)
            return 1.0
        return 1.0 if fraction is None else max(0.0, fraction)

    async def _decide(self, turn: _Turn, context: Moment, *, inbound_message_id: str) -> bool:
        """Route and record the decision; False when the turn ends here (silent, or answered before)."""
        persona, candidates = await aload_routing_candidates(self.bot.persona_id)
        tiebreaker = (
            make_gateway_tiebreaker(bot_id=self.bot.bot_id, guild_id=turn.guild_id)
            if self.config.router.tiebreak_enabled
            else None
        )
        started = time.perf_counter()
        result: RoutingResult = await aroute_turn(
            context, persona, candidates, self.config.router, seed=self._seed_source(), tiebreaker=tiebreaker
        )
        latency_ms = (time.perf_counter() - started) * 1000
        try:
            decision = await sync_to_async(record_decision)(
                context=context,
                persona=persona,
                candidates=candidates,
                config=self.config.router,
                result=result,
                guild_id=turn.guild_id,
                channel_id=turn.channel.id,
                bot_id=self.bot.bot_id,
                inbound_message_id=inbound_message_id,
                router_latency_ms=latency_ms,
            )
        except IntegrityError:
            # The database's one-reactive-turn-per-message constraint: another delivery got here first.
            logger.info("message %s already had its turn; not answering it twice", inbound_message_id)
            return False
        turn.decision, turn.chosen, turn.persona = decision, result.chosen, persona
        top = sorted(result.scores, key=lambda row: row.score, reverse=True)[:3]
        logger.info(
            "decision %s in %s (%s, address %s): %s -> %s, top %s",
            decision.pk,
            turn.channel.id,
            turn.trigger,
            context.address_kind if context.addressed else "none",
            result.chosen.slug,
            result.chosen.output_shape,
            ", ".join(f"{row.slug}={row.score:.2f}" for row in top),
        )
        event = DecisionMade(
            decision_id=decision.pk,
            channel_id=turn.channel.id,
            channel_name=turn.channel.name,
            chosen_slug=result.chosen.slug,
            output_shape=result.chosen.output_shape,
            address_kind=context.address_kind if context.addressed else AddressKind.NONE,
            top=tuple(ScoredOption(row.slug, row.score, row.probability) for row in top),
            gates=result.gates,
        )
        for observer in self.observers:
            observer.decision_made(event)
        if result.chosen.output_shape == OutputShape.SILENT:
            await self._finish(turn, TurnEnd.SILENT)
            return False
        return True

    async def _speak(
        self,
        turn: _Turn,
        *,
        scope: TurnScope,
        answering: Sequence[ConversationLine],
        reply_to: MessageRef | None,
        react_to: MessageRef | None,
    ) -> None:
        decision, chosen, persona = turn.decision, turn.chosen, turn.persona
        # Set by _decide, which runs first.
        assert decision is not None  # noqa: S101
        assert chosen is not None  # noqa: S101
        assert persona is not None  # noqa: S101
        try:
            # The scope carries the boundary: a guild turn never sees DM material, a DM turn only its own.
            assembled = await aassemble_context(strategy=decision.context_strategy_used, turn=scope)
            turn.outcome["context"] = {"strategy": assembled.strategy_used.value, "items": len(assembled.items)}
            base = SynthesisRequest(
                persona=persona,
                disposition=chosen,
                output_shape=chosen.output_shape,
                context_text=assembled.text,
                bot_name=self.bot.name,
                bot_id=self.bot.bot_id,
                guild_id=turn.guild_id or None,
                answering=tuple(answering),
                is_dm=scope.is_dm,
            )
            synth = await self._run_synthesis(turn, base)
            if not synth.ok:
                await self._finish(turn, TurnEnd.ERROR, error=synth.error)
                return
            if chosen.output_shape == OutputShape.REACT_ONLY:
                if react_to is None or synth.emoji is None:
                    await self._finish(turn, TurnEnd.SILENT, error="nothing to react to")
                    return
                result = await self.dispatcher.react(decision_id=decision.pk, target=react_to, emoji=synth.emoji)
                turn.outcome["dispatch"] = result.outcome()
                end = TurnEnd.REACTED if result.reaction else TurnEnd.ERROR
                await self._finish(turn, end, beats=1 if result.reaction else 0, error=result.error)
                return
            beats = [PlannedBeat(b.text, b.is_correction) for b in synth.beats]
            if turn.request is not None:
                recheck, reply_to, beats = await self._recheck(turn, base, beats, reply_to)
                turn.outcome["recheck"] = str(recheck)
                if recheck == RecheckOutcome.STALE:
                    await self._finish(turn, TurnEnd.STALE)
                    return
            result = await self._dispatch(turn, base, beats, reply_to)
            turn.outcome["dispatch"] = result.outcome()
            if turn.request is not None and turn.request.answered.author.is_bot and result.sent and self._limiter:
                turn.outcome["bot_chain"] = await self._limiter.replied(turn.channel.id)
            end = TurnEnd.SPOKE if result.sent else (TurnEnd.ERROR if result.error else TurnEnd.SILENT)
            await self._finish(turn, end, beats=result.sent, error=result.error, interruption=result.interruption)
        except asyncio.CancelledError:
            await asyncio.shield(self._finish(turn, TurnEnd.CANCELLED, error="cancelled while draining"))
            raise
        except Exception as exc:
            logger.exception("turn of decision %s failed", decision.pk)
            await self._finish(turn, TurnEnd.ERROR, error=f"{type(exc).__name__}: {exc}")

    async def _run_synthesis(self, turn: _Turn, request: SynthesisRequest) -> SynthesisResult:
        result: SynthesisResult = await self._synthesize(request)
        turn.cost += result.cost_usd
        turn.model = result.model or turn.model
        turn.outcome.setdefault("synthesis", []).append(result.outcome())
        return result

    async def _recheck(
        self, turn: _Turn, base: SynthesisRequest, beats: list[PlannedBeat], reply_to: MessageRef | None
    ) -> tuple[RecheckOutcome, MessageRef | None, list[PlannedBeat]]:
        """Look at the channel again before sending: send, reply, fold new words in, or drop as stale."""
        request = turn.request
        assert request is not None  # noqa: S101 - reactive turns only
        turn_ids = set(request.message_ids)
        after = [a for a in self.ledger.since(request.channel.id, request.last_seq) if a.message_id not in turn_ids]
        humans = [a for a in after if a.is_human and not self.ledger.is_consumed(a.message_id)]
        answered = request.answered
        target = reply_to or answered.message
        directly = request.address.addressed or answered.is_dm
        if not after:
            return RecheckOutcome.SEND, reply_to, beats
        if not directly and len(humans) >= self.config.recheck_stale_messages:
            logger.info("turn for %s is stale: %s messages arrived meanwhile", answered.message.id, len(humans))
            return RecheckOutcome.STALE, None, beats
        same_author = [a for a in humans if a.author_id == answered.author.id]
        if directly and same_author:
            self.ledger.consume([a.message_id for a in same_author])
            turn.outcome["folded"] = [a.message_id for a in same_author]
            more = tuple(line_for_arrival(a, request.channel) for a in same_author)
            again = await self._run_synthesis(
                turn,
                replace(
                    base,
                    answering=base.answering + more,
                    note="They added more while you were answering; answer all of it.",
                ),
            )
            if again.ok and again.beats:
                beats = [PlannedBeat(b.text, b.is_correction) for b in again.beats]
            return RecheckOutcome.FOLD, target, beats
        return RecheckOutcome.REPLY, target, beats

    async def _dispatch(
        self, turn: _Turn, base: SynthesisRequest, beats: list[PlannedBeat], reply_to: MessageRef | None
    ) -> DispatchResult:
        decision = turn.decision
        chosen = turn.chosen
        # Set by _decide, which runs first.
        assert decision is not None  # noqa: S101
        assert chosen is not None  # noqa: S101
        channel = turn.channel
        turn_ids = set(turn.request.message_ids) if turn.request is not None else set()
        cursor = [self.ledger.last_seq]

        def watch() -> list[Arrival]:
            arrivals = [
                a
                for a in self.ledger.since(channel.id, cursor[0])
                if a.is_human and a.message_id not in turn_ids and not self.ledger.is_consumed(a.message_id)
            ]
            cursor[0] = self.ledger.last_seq
            return arrivals

        async def resolve(interruption: Interruption) -> InterruptionVerdict:
            identity = self.identity
            addresses = [
                detect_address(
                    a.message,
                    bot=identity,
                    bot_message_ids=self._own_messages,
                    address_on_everyone=self.config.address_on_everyone,
                    address_on_role_ping=self.config.address_on_role_ping,
                )
                if a.message is not None and identity is not None
                else Address(False, AddressKind.NONE, "unknown")
                for a in interruption.arrivals
            ]
            handling = route_interruption(
                interrupting=interruption.arrivals, addresses=addresses, remaining=len(interruption.remaining)
            )
            turn.outcome["interruption"] = {
                "handling": str(handling),
                "by": [a.message_id for a in interruption.arrivals],
            }
            if handling != InterruptionHandling.FOLDED:
                return InterruptionVerdict(handling)
            fold = FoldIn(
                remaining=tuple(b.text for b in interruption.remaining),
                interrupting=tuple(line_for_arrival(a, channel) for a in interruption.arrivals),
            )
            synth = await self._run_synthesis(turn, replace(base, output_shape=OutputShape.BURST, fold_in=fold))
            if not synth.ok or not synth.beats:
                return InterruptionVerdict(InterruptionHandling.ABORTED)
            # The interruption is answered inside this turn: it starts no turn of its own.
            self.ledger.consume([a.message_id for a in interruption.arrivals])
            return InterruptionVerdict(handling, tuple(PlannedBeat(b.text, b.is_correction) for b in synth.beats))

        def on_sent(refs: Sequence[MessageRef], text: str) -> None:
            identity = self.identity
            for ref in refs:
                self._own_messages[ref.id] = None
                self.ledger.record_own(
                    channel.id,
                    ref.id,
                    text=text,
                    author_id=identity.user_id if identity else "",
                    author_name=self.bot.name,
                )
            while len(self._own_messages) > REMEMBERED_OWN_MESSAGES:
                self._own_messages.popitem(last=False)

        return await self.dispatcher.send(
            decision_id=decision.pk,
            channel=channel,
            shape=chosen.output_shape,
            beats=beats,
            reply_to=reply_to,
            watch=watch,
            resolve=resolve,
            on_sent=on_sent,
        )

    async def _finish(
        self,
        turn: _Turn,
        end: TurnEnd,
        *,
        beats: int = 0,
        error: str = "",
        interruption: InterruptionHandling = InterruptionHandling.NOT_INTERRUPTED,
    ) -> None:
        decision = turn.decision
        turn.outcome["end"] = str(end)
        if error:
            turn.outcome["error"] = error
        latency_ms = (time.perf_counter() - turn.started) * 1000
        if decision is not None:
            await sync_to_async(record_turn_outcome)(
                decision=decision,
                beat_count=beats,
                latency_ms=latency_ms,
                cost_usd=turn.cost,
                model_used=turn.model or None,
                interruption=str(interruption),
                outcome=turn.outcome,
            )
        if end == TurnEnd.ERROR:
            logger.error("turn of decision %s ended silent after an error: %s", getattr(decision, "pk", None), error)
        else:
            logger.info(
                "turn of decision %s ended: %s (%s beats, %.0f ms)",
                getattr(decision, "pk", None),
                end,
                beats,
                latency_ms,
            )
        self._notify_end(TurnEnded(decision.pk if decision is not None else None, turn.channel.id, end, error))

    def _notify_end(self, event: TurnEnded) -> None:
        for observer in self.observers:
            observer.turn_ended(event)


def _who(message: InboundMessage) -> str:
    """A member as the mute log names them: display name and stable id."""
    return f"{message.author.display_name or message.author.id} (u:{message.author.id})"


def _stored_platform(platform: str) -> Platform:
    """The stored platform of an adapter's platform name (platforms without a record of their own count as Discord)."""
    return Platform(platform) if platform in Platform.values else Platform.DISCORD


def _stored_kind(kind: ChannelKind) -> StoredChannelKind:
    return {
        ChannelKind.TEXT: StoredChannelKind.TEXT,
        ChannelKind.THREAD: StoredChannelKind.THREAD,
        ChannelKind.CATEGORY: StoredChannelKind.CATEGORY,
    }.get(kind, StoredChannelKind.OTHER)
