"""The host: one bot's turns on one platform adapter. It assembles the stages and feeds them events.

`Host` is the adapter's InboundHandler. It builds the parts every stage shares (`HostParts`), turns inbound
messages into turn requests (intake, fragments, one lane per channel) and runs each turn through
`bots.host.pipeline.take_turn`. What a turn does is in the pipeline and its stages, not here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from django.conf import settings
from django.utils import timezone
from redis.asyncio import Redis

from bots import services as bot_services
from bots.adapters.base import (
    AdapterError,
    ChannelKind,
    ChannelRef,
    GuildRef,
    InboundMessage,
    InboundReaction,
    MessageRef,
    OutputBeat,
    PlatformAdapter,
    ReadyEvent,
    TypingEvent,
)
from bots.host import pipeline
from bots.host.botchain import BotChainLimiter
from bots.host.config import HostConfig
from bots.host.dispatcher import OutputDispatcher
from bots.host.fragments import FragmentBuffer, FragmentGroup
from bots.host.lanes import ChannelLanes, DrainReport
from bots.host.ledger import ChannelLedger
from bots.host.lines import stored_channel_kind, stored_platform
from bots.host.mutes import Classifier
from bots.host.observers import HostObserver
from bots.host.parts import HostParts
from bots.host.port import HostPort, since_seconds
from bots.host.presence import Presence
from bots.host.stages import intake
from bots.host.threads import DatabaseThreads
from bots.host.values import HostBot, TurnRequest
from bots.inbox import TurnInbox
from bots.scheduled_turns import ScheduledTurn
from bots.task_workers import TaskResult
from bots.turn_settings import FollowupConfig
from dispositions.choices import TriggerKind
from dispositions.models import DispositionDecision
from dispositions.services import new_seed
from dispositions.synthesis import SynthesisRequest, SynthesisResult, SynthesizeFn, synthesize
from dit_project.errors import ApplicationError
from gateway import orm as gateway_orm
from gateway.client import GATEWAY, ModelClient

logger = logging.getLogger(__name__)

__all__ = ["Host", "HostBot"]


@dataclass
class _Job:
    """A turn request in a lane, with the future its caller may wait on."""

    request: TurnRequest
    done: asyncio.Future[int | None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


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
        model: ModelClient = GATEWAY,
        synthesizer: SynthesizeFn | None = None,
        mute_classifier: Classifier | None = None,
        observers: Iterable[HostObserver] = (),
        clock: Callable[[], float] = time.monotonic,
        seed_source: Callable[[], int] = new_seed,
        db_threads: int | None = None,
        followups: FollowupConfig | None = None,
        scheduled_turns: TurnInbox | None = None,
    ) -> None:
        self.bot = bot
        self.config = config
        self.adapter = adapter
        self.fragments = FragmentBuffer(
            window=config.fragment_window_seconds, max_seconds=config.fragment_max_seconds, clock=clock
        )
        self.lanes: ChannelLanes[_Job] = ChannelLanes(self._work)
        port = HostPort(
            bot=bot, redis=redis, threads=DatabaseThreads(db_threads or settings.DIT_HOST_DB_THREADS, name=bot.slug)
        )
        limiter = None
        if redis is not None:
            limiter = BotChainLimiter(
                redis,
                prefix=redis_prefix,
                bot_id=bot.bot_id,
                chain_max=config.bot_reply_chain_max,
                per_minute=config.bot_replies_per_minute,
                cooldown_seconds=config.bot_cooldown_seconds,
            )

        async def synthesize_with_model(request: SynthesisRequest) -> SynthesisResult:
            return await synthesize(request, model=model)

        self.parts = HostParts(
            bot=bot,
            config=config,
            adapter=adapter,
            port=port,
            ledger=ChannelLedger(),
            presence=Presence(name=bot.name, config=config),
            dispatcher=OutputDispatcher(adapter, port),
            model=model,
            synthesize=synthesizer or synthesize_with_model,
            classify_mute=mute_classifier,
            limiter=limiter,
            observers=list(observers),
            seed_source=seed_source,
            followups=followups or FollowupConfig.build(),
            bot_gone=asyncio.Event(),
        )
        self._inbox = scheduled_turns
        self._inbox_task: asyncio.Task[None] | None = None
        # Scheduled turns in the lanes, each with the task that reports how it ended.
        self._reports: dict[asyncio.Task[None], _Job] = {}
        self._clock = clock
        self._wake = asyncio.Event()
        self._timer: asyncio.Task[None] | None = None
        self._accepting = True
        self._sessions = 0

    @property
    def persona_id(self) -> int:
        """The persona the bot speaks as (known once `prepare` has run)."""
        if self.bot.persona_id is None:
            raise RuntimeError("the host has not been prepared: its persona is not known yet")
        return self.bot.persona_id

    @property
    def identity(self) -> object:
        """Who the bot is on its platform (None before its first session)."""
        return self.parts.presence.identity

    # Life cycle.

    async def prepare(self) -> None:
        """Before connecting: the persona's names, our bots' accounts, and beats a previous run left pending."""
        port = self.parts.port
        if self.bot.persona_id is None:
            persona_id = await port.persona_for(bot_name=self.bot.name, persona_name=self.config.persona)
            self.bot = replace(self.bot, persona_id=persona_id)
            self.parts = replace(self.parts, bot=self.bot)
        persona, _ = await port.candidates(self.persona_id)
        presence = self.parts.presence
        presence.wake_words = persona.wake_words
        presence.learn_accounts(await port.own_user_ids(), looked_up="")
        # Whether a pending beat reached the platform before the stop cannot be known: never send it again.
        await port.abandon_unfinished()

    async def drain(self, grace: float | None = None) -> DrainReport:
        """Stop taking turns, give in-flight ones the grace period, cancel what is left, close the database."""
        self._accepting = False
        dropped_groups = self.fragments.flush()
        for task in (self._timer, self._inbox_task):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        self._timer = self._inbox_task = None
        report = await self.lanes.drain(self.config.drain_grace_seconds if grace is None else grace)
        # Scheduled turns dropped before they started are reported as ending without a decision.
        for job in self._reports.values():
            if not job.done.done():
                job.done.set_result(None)
        await asyncio.gather(*self._reports, return_exceptions=True)
        await self.parts.port.close()
        logger.info(
            "bot %s drained: %s turns finished, %s cancelled, %s dropped before starting (%s fragment groups)",
            self.bot.slug,
            report.finished,
            report.cancelled,
            report.dropped,
            len(dropped_groups),
        )
        return report

    def watch(self, observer: HostObserver) -> None:
        """Tell `observer` about every decision and every turn's end from now on."""
        self.parts.observers.append(observer)

    async def close(self) -> None:
        """Release the host's database threads (drain does this too; closing twice is fine)."""
        await self.parts.port.close()

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
        """A fresh session: who the bot is, its guilds, and the turns owed from before and while away."""
        presence = self.parts.presence
        port = self.parts.port
        user = event.bot_user
        presence.ready(event)
        platform = stored_platform(event.platform)
        await port.record_account(platform=platform, user_id=user.id, display_name=user.display_name)
        presence.learn_accounts(await port.own_user_ids(), looked_up="")
        for snapshot in event.guilds:
            await port.sync_guild(
                platform=platform,
                external_id=snapshot.guild.id,
                name=snapshot.guild.name or snapshot.guild.id,
                channels=[
                    bot_services.ChannelSnapshot(external_id=c.id, name=c.name, kind=stored_channel_kind(c.kind))
                    for c in snapshot.channels
                    if c.kind is not ChannelKind.DM
                ],
                roles=[bot_services.RoleSnapshot(external_id=r.id, name=r.name) for r in snapshot.roles],
            )
        logger.info("bot %s ready as %s (%s guilds)", self.bot.slug, user.id, len(event.guilds))
        self._sessions += 1
        self._ensure_timer()
        if self._sessions == 1:
            await self._give_owed_turns()
            if self._inbox is not None:
                self._inbox_task = asyncio.create_task(self._take_scheduled_turns(), name=f"inbox-{self.bot.slug}")
        await self._catch_up(event)

    async def on_resumed(self) -> None:
        """The session resumed: the platform replays what was missed (ingest keeps it exactly once)."""
        logger.info("bot %s resumed its session", self.bot.slug)

    async def on_message(self, message: InboundMessage) -> None:
        """A message arrived (or was edited)."""
        await self._take(message, catchup=False)

    async def on_reaction(self, reaction: InboundReaction) -> None:
        """A reaction was added or removed: remembered (once, even when a resume replays it), starting no turn."""
        try:
            await self.parts.port.record_reaction(reaction)
        except Exception:
            logger.exception("reaction %s on %s could not be recorded", reaction.emoji, reaction.message.id)

    async def on_typing(self, event: TypingEvent) -> None:
        """Someone is typing: an open fragment group of theirs waits a little longer."""
        if self.fragments.typing(event.channel.id, event.user.id):
            self._wake.set()

    # Turns nobody asked for.

    async def unprompted_turn(
        self, channel: ChannelRef, *, trigger: str = TriggerKind.SPECULATIVE, followup_bias: str | None = None
    ) -> DispositionDecision | None:
        """A turn nobody asked for (speculative or self-followup), in the channel's lane; its decision."""
        if self.parts.presence.identity is None or not self._accepting:
            return None
        job = _Job(TurnRequest(channel=channel, trigger=trigger, followup_bias=followup_bias))
        if not self.lanes.submit(channel.id, job):
            return None
        decision_id = await job.done
        return None if decision_id is None else await self.parts.port.decision(decision_id)

    # Inbound path.

    async def _take(self, message: InboundMessage, *, catchup: bool) -> None:
        if self._accepting:
            # A setting changed in admin (REQUIRE_MENTION, say) applies from the next message on.
            await self._follow_the_bot()
        if not message.is_edit:
            # Someone else speaking ends the open fragments of the others there: their turns queue first.
            for group in self.fragments.someone_spoke(message.channel.id, message.author.id):
                self._submit(group)
        taken = await intake.take(message, self.parts, accepting=self._accepting, catchup=catchup)
        if taken is not None:
            self._group(taken)

    def _group(self, taken: intake.Taken) -> None:
        group = self.fragments.add(taken.message, address=taken.address, seq=taken.seq)
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
        if not self.lanes.submit(request.channel.id, _Job(request)):
            logger.info("not taking the turn for %s: draining", request.answered.message.id)

    async def wait_gone(self) -> None:
        """Return once the bot's row has been found deleted while the host runs."""
        await self.parts.bot_gone.wait()

    async def _follow_the_bot(self) -> None:
        """Before a turn: a bot row that changed is read again (settings, name, persona); a deleted one stops us."""
        state = await self.parts.port.begin_turn()
        if state.gone:
            self._stop_for_good()
            return
        if not state.changed or state.revision is None:
            return
        revision = state.revision
        try:
            settings = await self.parts.port.bot_settings()
            config = HostConfig.from_settings(settings)
            followups = FollowupConfig.from_settings(settings)
            persona_id = await self.parts.port.persona_for(bot_name=revision.name, persona_name=config.persona)
        except ApplicationError as exc:
            # A bad value saved in admin must not take a running bot down: it keeps what it had, and says why.
            logger.error(
                "bot %s changed, but its new settings cannot be used (%s); keeping the old ones",
                revision.slug,
                exc.message,
            )
            return
        self.bot = HostBot(bot_id=self.bot.bot_id, slug=revision.slug, name=revision.name, persona_id=persona_id)
        self.config = config
        self.parts.presence.name = revision.name
        self.parts.presence.config = config
        self.fragments.window = config.fragment_window_seconds
        self.fragments.max_seconds = max(config.fragment_max_seconds, config.fragment_window_seconds)
        limiter = self.parts.limiter
        if limiter is not None:
            limiter.chain_max = config.bot_reply_chain_max
            limiter.per_minute = config.bot_replies_per_minute
            limiter.cooldown_seconds = config.bot_cooldown_seconds
        self.parts = replace(self.parts, bot=self.bot, config=config, followups=followups)
        logger.info("bot %s changed while running: settings, name and persona read again", revision.slug)

    def _stop_for_good(self) -> None:
        if not self.parts.bot_gone.is_set():
            logger.error(
                "bot %s (id %s) was deleted while running: taking no more turns", self.bot.slug, self.bot.bot_id
            )
        self._accepting = False
        self.parts.bot_gone.set()

    async def _work(self, job: _Job) -> None:
        try:
            if self._accepting:
                await self._follow_the_bot()
            decision_id = None
            if self._accepting:
                with gateway_orm.database_threads(self.parts.port.run_for_gateway):
                    decision_id = await pipeline.take_turn(job.request, self.parts)
        except asyncio.CancelledError:
            job.done.cancel()
            raise
        except Exception:
            # The lane logs the failure with its channel; a caller waiting on the turn learns it gave nothing.
            job.done.set_result(None)
            raise
        job.done.set_result(decision_id)

    async def _take_scheduled_turns(self) -> None:
        """Turns the reactor hands this bot (self-followups, speculative turns), each in its channel's lane,
        and the results of its task workers, each posted once."""
        inbox = self._inbox
        assert inbox is not None  # noqa: S101 - started only with an inbox
        await inbox.start()
        try:
            async for turn in inbox:
                if not self._accepting:
                    return
                if isinstance(turn, TaskResult):
                    try:
                        await self._post_task_result(inbox, turn)
                    except Exception:
                        # One result that cannot be posted must not stop the inbox; its delivery stays claimed.
                        logger.exception("task %s: posting its result failed", turn.task_id)
                    continue
                if turn.expires_at <= timezone.now():
                    await inbox.finish(turn, decision_id=None, end="expired")
                    continue
                guild = GuildRef(id=turn.guild_id) if turn.guild_id else None
                name = await self.parts.port.channel_name(guild_id=turn.guild_id, channel_id=turn.channel_id)
                channel = ChannelRef(
                    id=turn.channel_id, name=name, guild=guild, kind=ChannelKind.TEXT if guild else ChannelKind.DM
                )
                job = _Job(
                    TurnRequest(
                        channel=channel,
                        trigger=turn.trigger_kind,
                        followup_bias=turn.bias,
                        trigger_id=turn.trigger_id,
                        seed=turn.seed,
                        previous=turn.previous,
                    )
                )
                if not self.lanes.submit(channel.id, job):
                    return
                reporting = asyncio.create_task(self._report_scheduled_turn(inbox, turn, job))
                self._reports[reporting] = job
                reporting.add_done_callback(self._reports.pop)
        finally:
            await inbox.stop()

    async def _post_task_result(self, inbox: TurnInbox, result: TaskResult) -> None:
        """Post a task worker's result in its channel, once (see `bots.task_workers`, "Exactly once")."""
        port = self.parts.port
        if not await port.claim_task_post(result.task_id):
            logger.info("task %s was posted already; not posting it twice", result.task_id)
            await inbox.finish_task(result, message_id="", end="already posted")
            return
        guild = GuildRef(id=result.guild_id) if result.guild_id else None
        name = await port.channel_name(guild_id=result.guild_id, channel_id=result.channel_id)
        channel = ChannelRef(
            id=result.channel_id, name=name, guild=guild, kind=ChannelKind.TEXT if guild else ChannelKind.DM
        )
        reply_to = MessageRef(channel=channel, id=result.reply_to) if result.reply_to else None
        beat = OutputBeat(text=result.text, idempotency_key=result.idempotency_key, reply_to=reply_to)
        try:
            refs = await self.adapter.send(channel, beat)
        except AdapterError as exc:
            # Taken for posting and refused: never tried again (at most once); the row and delivery say why.
            logger.error("task %s: its result could not be posted: %s", result.task_id, exc.message)
            await inbox.finish_task(result, message_id="", end=f"send failed: {exc.message}"[:500])
            return
        self.parts.presence.sent(self.parts.ledger, channel.id, refs, result.text)
        message_id = refs[0].id if refs else ""
        logger.info("task %s: result posted in %s as %s", result.task_id, channel.id, message_id)
        await inbox.finish_task(result, message_id=message_id, end="posted")

    async def _report_scheduled_turn(self, inbox: TurnInbox, turn: ScheduledTurn, job: _Job) -> None:
        """Tell the reactor how a turn it handed over ended (its decision, or none)."""
        # A turn that failed or was dropped gives None (the lane logged why); one cancelled by draining too.
        await asyncio.wait([job.done])
        decision_id = None if job.done.cancelled() else job.done.result()
        try:
            await inbox.finish(turn, decision_id=decision_id, end="decided" if decision_id else "no decision")
        except Exception:
            # The turn itself is over; its trigger's expiry settles a delivery left unreported.
            logger.exception("could not report the end of scheduled turn %s", turn.trigger_id)

    async def _give_owed_turns(self) -> None:
        """Once per process: give the turns a stopped process owed (messages it claimed and never answered)."""
        port = self.parts.port
        horizon = since_seconds(self.config.catchup_max_age_seconds)
        await port.expire_unsettled(before=horizon)
        owed = await port.unsettled_inbound(since=horizon)
        for message in owed:
            taken = await intake.retake(message, self.parts)
            if taken is not None:
                self._group(taken)
        if owed:
            logger.info("bot %s took up %s messages a stopped process owed a turn", self.bot.slug, len(owed))

    async def _catch_up(self, event: ReadyEvent) -> None:
        channels = [
            channel
            for snapshot in event.guilds
            for channel in snapshot.channels
            if channel.kind in (ChannelKind.TEXT, ChannelKind.THREAD)
        ]
        last_seen = await self.parts.port.last_seen_message_ids(
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
                await self._take(message, catchup=True)
        if fetched:
            logger.info("bot %s caught up on %s missed messages", self.bot.slug, fetched)
