"""Plays one situation for one seed: a fresh local Discord and guild, the real host on the real discord.py client,
the local model server, then a record of everything the run produced.

Every run gets its own local Discord, guild, bot row and Redis keys (they are per bot), so runs never see each
other's state. Waiting is always polling with a deadline (`Settle`): every message on the platform reached the
bot, and every turn it started has ended. The router's seed comes from the run's seed: the host draws each
decision's seed from `random.Random(run seed)`, handed to the host as its seed source.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from asgiref.sync import sync_to_async
from django.utils import timezone
from redis.asyncio import Redis

from bots.adapters.base import (
    ChannelKind,
    ChannelRef,
    GuildRef,
    InboundMessage,
    InboundReaction,
    ReadyEvent,
    ThreadSpec,
    TypingEvent,
)
from bots.adapters.discord import DiscordAdapter
from bots.bot_settings import BotSettings
from bots.host.config import HostConfig
from bots.host.host import Host, HostBot
from bots.host.models import ChannelMute, OutboundBeat
from bots.host.tests.situations.model import (
    BotLoop,
    BotStartsThread,
    DropConnection,
    Earlier,
    Edit,
    GatewayReconnect,
    ModelCall,
    Pause,
    QuietHours,
    Regular,
    Restart,
    RunRecord,
    Say,
    SeenBeat,
    SeenDecision,
    SeenMessage,
    SeenReaction,
    SendFault,
    Settle,
    Situation,
    Step,
    Typing,
    Unprompted,
    WhileAway,
    WhileGenerating,
)
from bots.host.tests.situations.model_server import SituationModelServer, read_prompt
from bots.models import Bot, Guild
from bots.services import guild_quiet_hours_set
from dispositions.models import DispositionDecision
from gateway.services import budget_envelope_create, budget_reserve, budget_settle
from memory.choices import TranscriptRole
from memory.ingest import IngestMessage, ingest_message
from tests.servers.local_discord import LocalDiscord, LocalGuild, LocalUser

logger = logging.getLogger(__name__)

BOT_NAME = "Sol"
TWIN_NAME = "Luna"
SETTLE_TIMEOUT = 20.0
# What every run starts from: the shipped defaults, except windows short enough for a test run.
BASE_SETTINGS: dict[str, str] = {
    "FRAGMENT_WINDOW_SECONDS": "0.05",
    "FRAGMENT_MAX_SECONDS": "2",
    "DISCORD_GUILD_READY_TIMEOUT": "0.05",
    "DRAIN_GRACE_SECONDS": "5",
}
_PLACEHOLDER = re.compile(r"\{(bot|twin|secret|user:[\w-]+|role:[\w-]+|id:[\w-]+)\}")
_MENTION = re.compile(r"<@!?(\d+)>")
DISCORD_EPOCH_MS = 1420070400000


class SituationError(AssertionError):
    """The run could not be played as written (a wait timed out, a label is unknown)."""


class Tap:
    """The host's inbound handler, noting what reached it (the adapter calls it in gateway order)."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self.delivered: set[str] = set()
        self.edits = 0
        self.readies = 0
        self.resumes = 0

    async def on_ready(self, event: ReadyEvent) -> None:
        """Ready: the host syncs guilds and fetches missed history before this returns."""
        await self.host.on_ready(event)
        self.readies += 1

    async def on_resumed(self) -> None:
        """Resumed: replayed events follow."""
        await self.host.on_resumed()
        self.resumes += 1

    async def on_message(self, message: InboundMessage) -> None:
        """A message reached the host (ingested, addressed, merged or queued by the time this returns)."""
        await self.host.on_message(message)
        if message.is_edit:
            self.edits += 1
        else:
            self.delivered.add(message.message.id)

    async def on_reaction(self, reaction: InboundReaction) -> None:
        """Reactions pass straight through."""
        await self.host.on_reaction(reaction)

    async def on_typing(self, event: TypingEvent) -> None:
        """Typing passes straight through."""
        await self.host.on_typing(event)


@dataclass
class _Instance:
    """One of our bots running: its row, host, adapter and tap."""

    bot: Bot
    user: LocalUser
    token: str
    config: HostConfig
    host: Host
    adapter: DiscordAdapter
    tap: Tap


@dataclass
class _Run:
    """The state of a run in progress."""

    situation: Situation
    record: RunRecord
    discord: LocalDiscord
    guild: LocalGuild
    server: SituationModelServer
    redis: Redis
    redis_prefix: str
    persona_id: int
    people: dict[str, LocalUser]
    main: _Instance | None = None
    twin: _Instance | None = None
    dm_channels: dict[str, str] = field(default_factory=dict)
    away: set[str] = field(default_factory=set)
    edits: int = 0
    history_counter: int = 0
    seeds: random.Random = field(default_factory=random.Random)


async def play(
    situation: Situation,
    *,
    seed: int,
    persona_id: int,
    server: SituationModelServer,
    redis: Redis,
    redis_prefix: str,
) -> RunRecord:
    """Play `situation` once with the router seeded from `seed`; return what happened."""
    record = RunRecord(
        situation=situation.id,
        category=situation.category,
        seed=seed,
        expect=situation.expect,
        judged_channel=situation.judged_channel,
        held_back=situation.held_back,
    )
    server.configure(
        model_says=situation.model_says,
        classifier_says=situation.classifier_says,
        register_says=situation.register_says,
    )
    discord = LocalDiscord(bot_name=BOT_NAME.lower()).start()
    run: _Run | None = None
    try:
        twin_user = discord.add_bot(TWIN_NAME.lower()) if situation.twin else None
        foreign = [discord.add_user(name, bot=True) for name in situation.foreign_bots]
        guild = discord.add_guild(
            f"Situation {situation.id}",
            channels=("general", "random"),
            roles=situation.roles,
            members=[*situation.members, *foreign],
        )
        for role_name in situation.roles:
            # "The bot's role" is a role the bot holds: named like it here, and given to it.
            if role_name.lower() == BOT_NAME.lower():
                discord.grant_role(guild, discord.bot, role_name)
        people = {user.username: user for user in (guild.user(name) for name in situation.members)}
        people.update({user.username: user for user in foreign})
        for username, display in situation.display_names.items():
            # Set before anything is posted or cached: the payloads built afterwards carry the display name.
            people[username].global_name = display
        run = _Run(
            situation=situation,
            record=record,
            discord=discord,
            guild=guild,
            server=server,
            redis=redis,
            redis_prefix=redis_prefix,
            persona_id=persona_id,
            people=people,
        )
        record.users = {name: user.id for name, user in people.items()}
        record.channels = {channel.name: channel.id for channel in guild.channels.values()}
        record.bot_user_id = discord.bot.id
        record.users[BOT_NAME.lower()] = discord.bot.id
        if twin_user is not None:
            record.twin_user_id = twin_user.id
            record.users[TWIN_NAME.lower()] = twin_user.id
        with _seeded(run, seed):
            run.main = await _start(run, name=BOT_NAME, user=discord.bot, token=discord.bot_token)
            if twin_user is not None:
                run.twin = await _start(run, name=TWIN_NAME, user=twin_user, token=discord.token_for(twin_user))
            elif situation.replica:
                # A second process of the same bot (a deploy overlapping the old one): same row, same token.
                main = run.main
                run.twin = await _start(run, name=BOT_NAME, user=main.user, token=main.token, bot=main.bot)
            record.chain_max = run.main.config.bot_reply_chain_max
            record.bot_ids = tuple(dict.fromkeys(i.bot.pk for i in (run.main, run.twin) if i is not None))
            await _guild_settings(run)
            for step in situation.setup:
                await _perform(run, step)
            await _settle(run)
            mark = await _mark(run)
            for step in situation.script:
                await _perform(run, step)
            await _settle(run)
        await _collect(run, mark)
    except SituationError as exc:
        record.problems.append(str(exc))
        if run is not None:
            await _collect(run, None)
    finally:
        if run is not None:
            await _stop(run)
        discord.stop()
    return record


@contextmanager
def _seeded(run: _Run, seed: int) -> Iterator[None]:
    """Every decision of the run draws its router seed from one generator seeded by the run."""
    run.seeds = random.Random(seed)
    yield


def _settings(run: _Run) -> dict[str, str]:
    values = {**BASE_SETTINGS, **run.situation.settings}
    return {key: _fill(run, value, author=None) for key, value in values.items()}


async def _start(run: _Run, *, name: str, user: LocalUser, token: str, bot: Bot | None = None) -> _Instance:
    """Start one of our bots: a bot row, the host and the Discord adapter, connected and ready."""
    if bot is None:
        bot = await Bot.objects.acreate(slug=f"{name.lower()}-{uuid.uuid4().hex[:8]}", name=name)
    config = HostConfig.from_settings(BotSettings(), environ=_settings(run))
    adapter = DiscordAdapter(
        token=token,
        api_base=run.discord.api_base,
        gateway_url=run.discord.gateway_url,
        guild_ready_timeout=config.discord_guild_ready_timeout,
        identify_delay=0,
        retry_backoff=0.01,
        ready_timeout=10,
    )
    host = Host(
        bot=HostBot(bot_id=bot.pk, slug=bot.slug, name=bot.name, persona_id=run.persona_id),
        config=config,
        adapter=adapter,
        redis=run.redis,
        redis_prefix=run.redis_prefix,
        seed_source=lambda: run.seeds.getrandbits(63),
    )
    tap = Tap(host)
    await host.prepare()
    await adapter.start(tap)
    return _Instance(bot=bot, user=user, token=token, config=config, host=host, adapter=adapter, tap=tap)


async def _stop(run: _Run) -> None:
    # The second instance stops first: each adapter puts back the endpoints it found, so they stop in reverse order.
    for instance in (run.twin, run.main):
        if instance is None:
            continue
        try:
            await instance.host.drain(0)
        finally:
            await instance.adapter.stop()


# Steps.


async def _perform(run: _Run, step: Step) -> None:
    if isinstance(step, Say):
        _say(run, step)
    elif isinstance(step, Typing):
        run.discord.start_typing(_channel_id(run, step.channel, step.author), run.people[step.author])
    elif isinstance(step, Earlier):
        await _earlier(run, step)
    elif isinstance(step, Regular):
        await _regular(run, step)
    elif isinstance(step, Pause):
        await asyncio.sleep(step.seconds)
    elif isinstance(step, Settle):
        await _settle(run)
    elif isinstance(step, Edit):
        message_id = run.record.labels[step.label]
        channel_id = _channel_of(run, message_id)
        run.discord.edit_message(channel_id, message_id, _fill(run, step.text, author=None))
        run.edits += 1
    elif isinstance(step, BotStartsThread):
        await _start_thread(run, step)
    elif isinstance(step, Unprompted):
        await _settle(run)
        main = _main(run)
        channel_id = run.record.channels[step.channel]
        guild = GuildRef(id=run.guild.id, name=run.guild.name)
        await main.host.unprompted_turn(
            ChannelRef(id=channel_id, name=step.channel, guild=guild, kind=ChannelKind.TEXT), trigger=step.trigger
        )
    elif isinstance(step, DropConnection):
        await _settle(run)
        await _reconnect(
            run,
            lambda: run.discord.disconnect(resume=step.resume, replay_overlap=step.replay_overlap),
            resumed=step.resume,
        )
    elif isinstance(step, GatewayReconnect):
        await _settle(run)
        await _reconnect(run, run.discord.send_reconnect, resumed=True)
    elif isinstance(step, WhileAway):
        await _settle(run)
        await _while_away(run, step)
    elif isinstance(step, Restart):
        await _restart(run, step)
    elif isinstance(step, WhileGenerating):
        await _while_generating(run, step)
    elif isinstance(step, BotLoop):
        await _bot_loop(run, step)
    elif isinstance(step, SendFault):
        run.discord.inject_rest_fault(
            "POST /channels/*/messages", step.status, count=step.count, after_commit=step.after_commit, retry_after=0.05
        )
    else:  # pragma: no cover - the Step union is closed
        raise SituationError(f"unknown step {step!r}")


async def _guild_settings(run: _Run) -> None:
    """What people set for the guild: its quiet hours (around the run's own time) and its model budget."""
    situation = run.situation
    if situation.quiet_hours is not None:
        start, end = quiet_window(situation.quiet_hours, timezone.now())
        for instance in (run.main, run.twin):
            if instance is None:
                continue
            guild = await Guild.objects.aget(bot=instance.bot, external_id=run.guild.id)
            await sync_to_async(guild_quiet_hours_set)(
                guild=guild, time_zone=situation.quiet_hours.time_zone, start=start, end=end
            )
    if situation.budget_left is not None:
        await sync_to_async(_spend_budget)(run.guild.id, situation.budget_left)


def quiet_window(hours: QuietHours, now: datetime) -> tuple[Any, Any]:
    """Local start and end of quiet hours that hold `now` (or, `now_inside=False`, begin an hour after it)."""
    local = now.astimezone(ZoneInfo(hours.time_zone)).replace(second=0, microsecond=0)
    if hours.now_inside:
        return (local - timedelta(hours=1)).time(), (local + timedelta(hours=2)).time()
    return (local + timedelta(hours=1)).time(), (local + timedelta(hours=4)).time()


def _spend_budget(guild_id: str, left: float) -> None:
    """A budget for the guild this month, spent down to `left` of it."""
    now = timezone.now()
    envelope = budget_envelope_create(
        guild_id=guild_id,
        period_start=now - timedelta(days=1),
        period_end=now + timedelta(days=29),
        allocated_usd=Decimal(1),
    )
    spent = (Decimal(1) - Decimal(str(left))).quantize(Decimal("0.000001"))
    if spent > 0:
        reservation = budget_reserve(guild_id=envelope.guild_id, amount=spent, now=now)
        if reservation is None:
            raise SituationError(f"could not spend the budget of guild {guild_id} down to {left}")
        budget_settle(reservation=reservation, actual_usd=spent)


def _backdated_id(moment: datetime, counter: int) -> str:
    """A platform message id as the platform would have given it at `moment` (ids sort by time)."""
    return str(((int(moment.timestamp() * 1000) - DISCORD_EPOCH_MS) << 22) | (counter & 0x3FFFFF))


async def _earlier(run: _Run, step: Earlier) -> None:
    moment = timezone.now() - timedelta(minutes=step.minutes_ago)
    reply_id = run.record.labels[step.reply_to] if step.reply_to else ""
    reply_author = run.record.history_authors.get(reply_id, "")
    message_id = await sync_to_async(_remember)(
        run, step.author, step.text, step.channel, moment, reply_id, reply_author
    )
    if step.label:
        run.record.labels[step.label] = message_id


async def _regular(run: _Run, step: Regular) -> None:
    now = timezone.now()
    # Spread from `days` ago to a day ago: familiar, but not part of the conversation now.
    span = max(0.0, step.days - 1.0)
    for index in range(step.messages):
        moment = now - timedelta(days=step.days) + timedelta(days=span * index / max(1, step.messages - 1))
        await sync_to_async(_remember)(
            run, step.author, f"(an old message, #{index + 1})", step.channel, moment, "", ""
        )


def _remember(
    run: _Run, author: str, text: str, channel: str, moment: datetime, reply_id: str, reply_author: str
) -> str:
    """Store one message in memory as ingest would have when it was said; its id."""
    is_bot = author == BOT_NAME.lower()
    if is_bot:
        user_id, display, is_bot_author = run.discord.bot.id, BOT_NAME, True
    else:
        person = run.people.get(author)
        if person is None:
            raise SituationError(f"{author!r} is not in situation {run.situation.id}")
        user_id, display, is_bot_author = person.id, person.global_name or person.username, bool(person.bot)
    content = _fill(run, text, author=author)
    run.history_counter += 1
    if is_bot:
        # The bot's own earlier words live in memory only: no beat of this run sent them.
        message_id = _backdated_id(moment, run.history_counter)
    else:
        # A person's earlier words are on the platform too (the bot can reply to them), dated then.
        posted = run.discord.add_history(run.record.channels[channel], run.people[author], content, created_at=moment)
        message_id = str(posted["id"])
        run.away.add(message_id)  # said before the bot was there to hear it: no event will reach it
    ingest_message(
        IngestMessage(
            platform="discord",
            message_id=message_id,
            channel_id=run.record.channels[channel],
            author_id=user_id,
            author_display_name=display,
            content=content,
            created_at=moment,
            guild_id=run.guild.id,
            channel_name=channel,
            author_is_bot=is_bot_author,
            role=TranscriptRole.BOT if is_bot_author else TranscriptRole.USER,
            reply_to_message_id=reply_id,
            reply_to_author_id=reply_author,
            mentions=tuple(dict.fromkeys(_MENTION.findall(content))),
        )
    )
    run.record.history_authors[message_id] = user_id
    return message_id


def _main(run: _Run) -> _Instance:
    if run.main is None:
        raise SituationError("the bot is not running")
    return run.main


def _say(run: _Run, step: Say) -> str:
    author = run.people.get(step.author)
    if author is None:
        raise SituationError(f"{step.author!r} is not in situation {run.situation.id}")
    channel_id = _channel_id(run, step.channel, step.author)
    reply_to = None
    if step.reply_to == "bot":
        sent = run.discord.sent_messages(channel_id)
        if not sent:
            raise SituationError(f"{step.author} wants to reply to the bot in {step.channel}, which said nothing")
        reply_to = sent[-1]["id"]
    elif step.reply_to is not None:
        reply_to = run.record.labels[step.reply_to]
    text = _fill(run, step.text, author=step.author)
    posted = run.discord.post_message(channel_id, author, text, reply_to=reply_to)
    if step.label:
        run.record.labels[step.label] = posted["id"]
    return str(posted["id"])


def _fill(run: _Run, text: str, *, author: str | None) -> str:
    """A step's text with its placeholders filled for this run."""

    def one(match: re.Match[str]) -> str:
        kind, _, name = match.group(1).partition(":")
        if kind == "bot":
            return f"<@{run.discord.bot.id}>"
        if kind == "twin":
            return f"<@{run.record.twin_user_id}>"
        if kind in ("user", "id"):
            user_id = run.record.users.get(name)
            if user_id is None:
                raise SituationError(f"placeholder names {name!r}, who is not in situation {run.situation.id}")
            return f"<@{user_id}>" if kind == "user" else user_id
        if kind == "role":
            return f"<@&{run.guild.role(name).id}>"
        secret = f"SECRET-{uuid.uuid4().hex[:10].upper()}"
        run.record.dm_secrets[secret] = author or ""
        return secret

    return _PLACEHOLDER.sub(one, text)


def _channel_id(run: _Run, channel: str, author: str) -> str:
    if channel == "dm":
        name = f"dm:{author}"
        if name not in run.dm_channels:
            run.dm_channels[name] = run.discord.open_dm(run.people[author]).id
            run.record.channels[name] = run.dm_channels[name]
        return run.dm_channels[name]
    try:
        return run.record.channels[channel]
    except KeyError:
        raise SituationError(f"no channel {channel!r} in situation {run.situation.id}") from None


def _channel_of(run: _Run, message_id: str) -> str:
    for channel_id in run.record.channels.values():
        if any(m["id"] == message_id for m in run.discord.messages(channel_id)):
            return channel_id
    raise SituationError(f"message {message_id} is in no channel")


async def _start_thread(run: _Run, step: BotStartsThread) -> None:
    main = _main(run)
    parent_id = run.record.channels[step.channel]
    parent = ChannelRef(
        id=parent_id, name=step.channel, guild=GuildRef(id=run.guild.id, name=run.guild.name), kind=ChannelKind.TEXT
    )
    thread = await main.adapter.create_thread(parent, ThreadSpec(name=step.name))
    run.record.channels[step.name] = thread.id
    # The thread's creation reaches the client's cache over the gateway; messages in it need that to be threads.
    await _wait(lambda: _client_knows_thread(main, thread.id), f"the client to learn of thread {step.name}")


def _client_knows_thread(instance: _Instance, thread_id: str) -> bool:
    client = instance.adapter._client
    return client is not None and client.get_channel(int(thread_id)) is not None


async def _reconnect(run: _Run, act: Callable[[], None], *, resumed: bool) -> None:
    main = _main(run)
    before = (main.tap.resumes, main.tap.readies)
    act()
    if resumed:
        await _wait(lambda: main.tap.resumes > before[0], "the session to resume")
    else:
        await _wait(lambda: main.tap.readies > before[1], "a fresh session to be ready")


async def _while_away(run: _Run, step: WhileAway) -> None:
    main = _main(run)
    before = (main.tap.resumes, main.tap.readies)
    with run.discord.gateway_held():
        run.discord.send_invalid_session(resumable=step.resumable)
        for say in step.steps:
            posted = _say(run, say)
            if not step.resumable:
                run.away.add(posted)
    if step.resumable:
        await _wait(lambda: main.tap.resumes > before[0], "the session to resume")
    else:
        await _wait(lambda: main.tap.readies > before[1], "a fresh session to be ready (history fetched)")


async def _restart(run: _Run, step: Restart) -> None:
    await _settle(run)
    main = _main(run)
    await main.host.drain()
    await main.adapter.stop()
    run.main = None
    for say in step.while_down:
        run.away.add(_say(run, say))
    restarted = await _start(run, name=BOT_NAME, user=main.user, token=main.token, bot=main.bot)
    # What reached the previous process counts as delivered: the new one only hears of what came since.
    restarted.tap.delivered |= main.tap.delivered
    restarted.tap.edits += main.tap.edits
    run.main = restarted


async def _while_generating(run: _Run, step: WhileGenerating) -> None:
    run.server.hold_next()
    _say(run, step.trigger)
    try:
        await _wait(run.server.held, "the bot to start writing its answer")
        posted = []
        for inner in step.meanwhile:
            if isinstance(inner, Say):
                posted.append(_say(run, inner))
            else:
                await _perform(run, inner)
        main = _main(run)
        await _wait(lambda: set(posted) <= main.tap.delivered, "the messages said meanwhile to reach the bot")
    finally:
        run.server.release()
    await _settle(run)


async def _bot_loop(run: _Run, step: BotLoop) -> None:
    bot = run.people[step.bot]
    channel_id = run.record.channels[step.channel]
    answered: set[str] = set()
    for round_number in range(step.rounds):
        await _settle(run)
        ours = [m for m in run.discord.sent_messages(channel_id) if m["id"] not in answered]
        if not ours:
            return
        answered.update(m["id"] for m in ours)
        text = f"<@{run.discord.bot.id}> beep {round_number}: and what do you make of that?"
        run.discord.post_message(channel_id, bot, text, reply_to=ours[-1]["id"])
    await _settle(run)


# Waiting.


async def _wait(predicate: Callable[[], Any], what: str, timeout: float = SETTLE_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            raise SituationError(f"timed out after {timeout:g}s waiting for {what}")
        await asyncio.sleep(0.005)


def _visible_channels(run: _Run) -> dict[str, str]:
    """Channel id to name, for every channel the run has (threads and DMs included)."""
    return {channel_id: name for name, channel_id in run.record.channels.items()}


def _platform_ids(run: _Run, *, dms: bool) -> set[str]:
    ids: set[str] = set()
    for channel_id, name in _visible_channels(run).items():
        if name.startswith("dm:") and not dms:
            continue
        ids.update(m["id"] for m in run.discord.messages(channel_id))
    return ids


async def _settle(run: _Run) -> None:
    """Until nothing changes: every message on the platform reached each bot that sees it, and each host is idle."""
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while True:
        seen = _platform_ids(run, dms=True)
        if run.main is not None:
            await _quiet(run.main, seen - run.away, run.edits, deadline)
        if run.twin is not None:
            # Only the main instance is waited for in DMs and for edits.
            await _quiet(run.twin, _platform_ids(run, dms=False) - run.away, 0, deadline)
        if _platform_ids(run, dms=True) == seen:
            return
        if time.monotonic() >= deadline:
            raise SituationError(f"the conversation did not settle within {SETTLE_TIMEOUT:g}s")


async def _quiet(instance: _Instance, wanted: set[str], edits: int, deadline: float) -> None:
    """Wait until `wanted` and `edits` reached the instance's host and it has no turn left to run."""
    tap = instance.tap

    def delivered() -> bool:
        return wanted <= tap.delivered and tap.edits >= edits

    await _wait(delivered, "every message to reach the bot", max(0.1, deadline - time.monotonic()))
    try:
        await asyncio.wait_for(instance.host.idle(), max(0.1, deadline - time.monotonic()))
    except TimeoutError:
        raise SituationError(f"the host did not go idle within {SETTLE_TIMEOUT:g}s") from None


# Recording what happened.


@dataclass(frozen=True)
class _Mark:
    """Where the judged script starts."""

    message_ids: frozenset[str]
    reactions: int
    decision_id: int
    model_calls: int


async def _mark(run: _Run) -> _Mark:
    last = await DispositionDecision.objects.filter(bot_id__in=run.record.bot_ids).order_by("-id").afirst()
    return _Mark(
        message_ids=frozenset(_platform_ids(run, dms=True)),
        reactions=len(run.discord.reactions),
        decision_id=last.pk if last is not None else 0,
        model_calls=len(run.server.chat_requests),
    )


async def _collect(run: _Run, mark: _Mark | None) -> None:
    record = run.record
    names = _visible_channels(run)
    people_by_id = {user.id: name for name, user in run.people.items()}
    everyone = set(mark.message_ids) if mark is not None else set()
    for channel_id, channel_name in names.items():
        for payload in run.discord.messages(channel_id):
            author = payload["author"]
            reference = payload.get("message_reference") or {}
            record.messages.append(
                SeenMessage(
                    id=payload["id"],
                    channel=channel_name,
                    author=people_by_id.get(author["id"], author["username"]),
                    author_id=author["id"],
                    is_bot=bool(author.get("bot")),
                    content=payload["content"],
                    reply_to=reference.get("message_id"),
                    ours=author["id"] == record.bot_user_id,
                    twin=bool(record.twin_user_id) and author["id"] == record.twin_user_id,
                    in_script=mark is not None and payload["id"] not in everyone,
                )
            )
    record.messages.sort(key=lambda m: int(m.id))
    for index, (channel_id, message_id, user_id, emoji) in enumerate(run.discord.reactions):
        record.reactions.append(
            SeenReaction(
                channel=names.get(channel_id, channel_id),
                message_id=message_id,
                user_id=user_id,
                emoji=emoji,
                in_script=mark is not None and index >= mark.reactions,
            )
        )
    first_scripted = mark.decision_id if mark is not None else 1 << 62
    async for decision in DispositionDecision.objects.filter(bot_id__in=record.bot_ids).order_by("id"):
        outcome = decision.outcome or {}
        context = (decision.router_inputs or {}).get("context", {})
        dimensions = decision.dimensions_used or {}
        record.decisions.append(
            SeenDecision(
                id=decision.pk,
                bot_id=decision.bot_id,
                inbound_message_id=decision.inbound_message_id,
                trigger=decision.trigger_kind,
                chosen_slug=decision.chosen_slug,
                output_shape=decision.output_shape,
                seed=decision.stochasticity_seed,
                end=str(outcome.get("end", "")),
                fragments=tuple(outcome.get("fragments", ())),
                addressed=bool(context.get("addressed")),
                address_kind=str(context.get("address_kind", "")),
                late_address_of=str(outcome.get("late_address_of", "")),
                recheck=str(outcome.get("recheck", "")),
                in_script=decision.pk > first_scripted,
                risk=str(dimensions.get("risk_appetite", "")),
                voice=str(dimensions.get("voice", "")),
                moment=dict(context),
                probability=_chosen_probability(decision),
            )
        )
    decision_ids = [d.id for d in record.decisions]
    async for beat in OutboundBeat.objects.filter(decision_id__in=decision_ids).order_by("decision_id", "index"):
        record.beats.append(
            SeenBeat(
                decision_id=beat.decision_id,
                index=beat.index,
                kind=beat.kind,
                status=beat.status,
                message_ids=tuple(beat.platform_message_ids),
            )
        )
    for index, request in enumerate(run.server.chat_requests):
        prompt = read_prompt(request.body)
        record.model_calls.append(
            ModelCall(
                kind=prompt.kind,
                system=prompt.system,
                user=prompt.user,
                is_dm=prompt.is_dm,
                answering_id=prompt.answering_id,
                in_script=mark is not None and index >= mark.model_calls,
            )
        )
    if not record.bot_ids:
        return
    mutes = ChannelMute.objects.filter(bot_id=record.bot_ids[0], lifted_at__isnull=True, until__gt=timezone.now())
    record.active_mutes = {channel_id async for channel_id in mutes.values_list("channel_id", flat=True)}


def _chosen_probability(decision: DispositionDecision) -> float:
    """The chance the router gave the disposition it chose (1.0 when the decision lists none)."""
    for row in decision.candidate_scores or ():
        if isinstance(row, dict) and row.get("slug") == decision.chosen_slug:
            return float(row.get("probability", 1.0))
    return 1.0
