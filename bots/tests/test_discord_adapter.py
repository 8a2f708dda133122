"""The Discord adapter, with the real discord.py client talking to the local Discord."""

from __future__ import annotations

import asyncio

import pytest

from bots.adapters.base import (
    ChannelKind,
    ChannelRef,
    ChannelSpec,
    GuildRef,
    InboundMessage,
    InboundReaction,
    MessageRef,
    OutputBeat,
    ReadyEvent,
    ThreadSpec,
    TypingEvent,
    split_message,
)
from bots.adapters.discord import DiscordAdapter, current_endpoints, default_intents
from bots.adapters.errors import (
    AdapterAuthError,
    AdapterConnectionError,
    AdapterError,
    AdapterRateLimitedError,
    AdapterRequestError,
)

DEFAULT_ROUTE_BASE = "https://discord.com/api/v10"
DEFAULT_GATEWAY = "wss://gateway.discord.gg/"


class RecordingHandler:
    """An InboundHandler that keeps everything it receives."""

    def __init__(self) -> None:
        self.ready: list[ReadyEvent] = []
        self.resumed = 0
        self.messages: list[InboundMessage] = []
        self.reactions: list[InboundReaction] = []
        self.typing: list[TypingEvent] = []

    async def on_ready(self, event: ReadyEvent) -> None:
        self.ready.append(event)

    async def on_resumed(self) -> None:
        self.resumed += 1

    async def on_message(self, message: InboundMessage) -> None:
        self.messages.append(message)

    async def on_reaction(self, reaction: InboundReaction) -> None:
        self.reactions.append(reaction)

    async def on_typing(self, event: TypingEvent) -> None:
        self.typing.append(event)

    def contents(self) -> list[str]:
        return [m.content for m in self.messages if not m.is_edit]


@pytest.fixture
def guild(local_discord):
    return local_discord.add_guild("Test Guild", channels=("general", "random"), roles=("moderator", "regular"))


@pytest.fixture
def handler() -> RecordingHandler:
    return RecordingHandler()


@pytest.fixture
async def connect(local_discord, handler):
    """Start a DiscordAdapter against the local Discord (fast timings); every adapter is stopped afterwards."""
    started: list[DiscordAdapter] = []

    async def connect_(**options) -> DiscordAdapter:
        options.setdefault("token", local_discord.bot_token)
        adapter = DiscordAdapter(
            api_base=local_discord.api_base,
            gateway_url=local_discord.gateway_url,
            guild_ready_timeout=0.05,
            identify_delay=0,
            retry_backoff=0.01,
            ready_timeout=10,
            **options,
        )
        started.append(adapter)
        await adapter.start(handler)
        return adapter

    yield connect_
    for adapter in started:
        await adapter.stop()


def _channel(local_channel, guild) -> ChannelRef:
    return ChannelRef(id=local_channel.id, name=local_channel.name, guild=GuildRef(id=guild.id, name=guild.name))


async def test_adapter_connects_and_reports_the_guild_with_its_channels_and_roles(
    local_discord, guild, handler, connect
):
    adapter = await connect()

    assert len(handler.ready) == 1
    ready = handler.ready[0]
    assert ready.platform == "discord"
    assert ready.bot_user.id == local_discord.bot.id
    assert ready.bot_user.is_bot
    assert adapter.bot_user == ready.bot_user
    [snapshot] = ready.guilds
    assert snapshot.guild == GuildRef(id=guild.id, name="Test Guild")
    assert {(c.name, c.kind) for c in snapshot.channels} == {
        ("general", ChannelKind.TEXT),
        ("random", ChannelKind.TEXT),
    }
    assert {r.name for r in snapshot.roles} == {"moderator", "regular"}


async def test_the_guild_snapshot_lists_the_roles_the_bot_itself_holds(local_discord, guild, handler, connect):
    local_discord.grant_role(guild, local_discord.bot, "regular")

    await connect()

    [snapshot] = handler.ready[0].guilds
    assert snapshot.bot_role_ids == (guild.role("regular").id,)


async def test_a_resume_that_replays_reactions_does_not_deliver_them_twice(local_discord, guild, handler, connect):
    await connect()
    general = guild.channel("general")
    posted = local_discord.post_message(general.id, guild.user("bob"), "pizza?")
    local_discord.add_reaction(general.id, posted["id"], guild.user("alice"), "🍕")
    local_discord.remove_reaction(general.id, posted["id"], guild.user("alice"), "🍕")
    await local_discord.wait_for(lambda: len(handler.reactions) == 2)

    local_discord.disconnect(resume=True, replay_overlap=2)
    await local_discord.wait_for(lambda: handler.resumed >= 1)
    local_discord.add_reaction(general.id, posted["id"], guild.user("alice"), "🍕")
    await local_discord.wait_for(lambda: len(handler.reactions) >= 3)

    assert [r.added for r in handler.reactions] == [True, False, True]


async def test_adapter_identifies_with_the_intents_it_needs(local_discord, guild, connect):
    await connect()

    [identify] = local_discord.gateway_records("identify")
    intents = default_intents()
    assert identify.detail["intents"] == intents.value
    assert intents.guilds
    assert intents.members
    assert intents.guild_messages
    assert intents.dm_messages
    assert intents.message_content
    assert intents.guild_reactions
    assert intents.guild_typing
    assert not intents.presences


async def test_human_message_arrives_with_mentions_and_reply_parsed(local_discord, guild, handler, connect):
    await connect()
    general = guild.channel("general")
    alice, bob = guild.user("alice"), guild.user("bob")
    moderator = guild.role("moderator")
    original = local_discord.post_message(general.id, bob, "what do we think about friday?")
    local_discord.post_message(
        general.id,
        alice,
        f"<@{local_discord.bot.id}> you in? <@&{moderator.id}> @here",
        reply_to=original["id"],
    )

    await local_discord.wait_for(lambda: len(handler.messages) == 2)
    message = handler.messages[1]
    assert message.platform == "discord"
    assert message.content.startswith(f"<@{local_discord.bot.id}> you in?")
    assert message.author.id == alice.id
    assert message.author.display_name == "alice"
    assert not message.author.is_bot
    assert message.guild == GuildRef(id=guild.id, name="Test Guild")
    assert message.channel.id == general.id
    assert message.channel.kind is ChannelKind.TEXT
    assert not message.is_dm
    assert not message.is_thread
    assert set(message.mentioned_user_ids) == {local_discord.bot.id, bob.id}
    assert message.mentioned_role_ids == (moderator.id,)
    assert message.mentions_here
    assert not message.mentions_everyone
    assert message.reply_to is not None
    assert message.reply_to.message.id == original["id"]
    assert message.reply_to.author_id == bob.id
    assert message.created_at.tzinfo is not None
    assert not message.is_edit


async def test_message_in_a_thread_knows_its_parent_and_owner(local_discord, guild, handler, connect):
    adapter = await connect()
    general = _channel(guild.channel("general"), guild)
    thread = await adapter.create_thread(general, ThreadSpec(name="plans"))
    local_discord.post_message(thread.id, guild.user("alice"), "in the thread")

    await local_discord.wait_for(lambda: handler.messages)
    message = handler.messages[0]
    assert message.is_thread
    assert message.channel.parent_id == general.id
    assert message.thread_owner_id == local_discord.bot.id


async def test_direct_message_arrives_marked_as_dm(local_discord, guild, handler, connect):
    await connect()
    alice = guild.user("alice")
    dm = local_discord.open_dm(alice)
    local_discord.post_message(dm.id, alice, "psst", attachments=2)

    await local_discord.wait_for(lambda: handler.messages)
    message = handler.messages[0]
    assert message.is_dm
    assert message.guild is None
    assert message.attachment_count == 2
    assert message.author.role_ids == ()


async def test_edited_message_arrives_again_marked_as_edit(local_discord, guild, handler, connect):
    await connect()
    general = guild.channel("general")
    posted = local_discord.post_message(general.id, guild.user("alice"), "helo")
    await local_discord.wait_for(lambda: handler.messages)
    local_discord.edit_message(general.id, posted["id"], "hello")

    await local_discord.wait_for(lambda: len(handler.messages) == 2)
    edited = handler.messages[1]
    assert edited.is_edit
    assert edited.content == "hello"
    assert edited.message.id == posted["id"]


async def test_reactions_added_and_removed_arrive_as_inbound_reactions(local_discord, guild, handler, connect):
    await connect()
    general = guild.channel("general")
    alice = guild.user("alice")
    posted = local_discord.post_message(general.id, guild.user("bob"), "pizza?")
    local_discord.add_reaction(general.id, posted["id"], alice, "🍕")
    local_discord.remove_reaction(general.id, posted["id"], alice, "🍕")

    await local_discord.wait_for(lambda: len(handler.reactions) == 2)
    added, removed = handler.reactions
    assert (added.added, removed.added) == (True, False)
    assert added.emoji == removed.emoji == "🍕"
    assert added.user.id == alice.id
    assert added.user.display_name == "alice"
    assert added.message.id == posted["id"]
    assert added.message.channel.id == general.id
    assert added.message_author_id == guild.user("bob").id


async def test_typing_start_arrives_as_a_typing_event(local_discord, guild, handler, connect):
    await connect()
    general = guild.channel("general")
    local_discord.start_typing(general.id, guild.user("alice"))

    await local_discord.wait_for(lambda: handler.typing)
    event = handler.typing[0]
    assert event.user.id == guild.user("alice").id
    assert event.channel.id == general.id
    assert event.at.tzinfo is not None


async def test_long_beat_arrives_as_three_messages_in_order_split_at_sentences(local_discord, guild, connect):
    adapter = await connect()
    general = guild.channel("general")
    asked = local_discord.post_message(general.id, guild.user("alice"), "tell me everything")
    text = " ".join(f"Point {i} is that the plan holds up under a closer look." for i in range(80))[:4500]
    text = text[: text.rindex(".") + 1]
    assert len(text) > 4400

    refs = await adapter.send(
        _channel(general, guild),
        OutputBeat(
            text=text,
            idempotency_key="turn-1:beat-0",
            reply_to=MessageRef(channel=_channel(general, guild), id=asked["id"]),
        ),
    )

    sent = local_discord.sent_messages(general.id)
    assert len(sent) == 3
    assert [m["id"] for m in sent] == [r.id for r in refs]
    assert [m["content"] for m in sent] == split_message(text)
    assert all(len(m["content"]) <= 2000 and m["content"].endswith(".") for m in sent)
    assert " ".join(m["content"] for m in sent) == text
    assert sent[0]["message_reference"]["message_id"] == asked["id"]
    assert "message_reference" not in sent[1]
    assert "message_reference" not in sent[2]


async def test_sending_the_same_beat_again_sends_nothing_new(local_discord, guild, connect):
    adapter = await connect()
    channel = _channel(guild.channel("general"), guild)
    beat = OutputBeat(text="on my way", idempotency_key="turn-2:beat-0")

    first = await adapter.send(channel, beat)
    second, third = await asyncio.gather(adapter.send(channel, beat), adapter.send(channel, beat))

    assert first == second == third
    assert len(local_discord.sent_messages(guild.channel("general").id)) == 1


async def test_a_429_storm_on_sends_still_delivers_every_beat_exactly_once(local_discord, guild, connect):
    adapter = await connect()
    general = guild.channel("general")
    channel = _channel(general, guild)
    # 12 rate limits in a row: more than discord.py's 5 tries per request, so the adapter has to retry too.
    local_discord.inject_rest_fault("POST /channels/*/messages", 429, count=12, retry_after=0.01)
    beats = [OutputBeat(text=f"beat number {i}", idempotency_key=f"storm:{i}") for i in range(4)]

    for beat in beats:
        await adapter.send(channel, beat)

    limited = [r for r in local_discord.requests_matching("POST /channels/*/messages") if r.status == 429]
    assert len(limited) == 12
    assert [m["content"] for m in local_discord.sent_messages(general.id)] == [b.text for b in beats]


async def test_a_retried_beat_after_a_failed_chunk_sends_only_the_missing_chunks(local_discord, guild, connect):
    adapter = await connect(send_attempts=2)
    general = guild.channel("general")
    channel = _channel(general, guild)
    text = " ".join(f"Sentence {i} of a long answer that needs several messages." for i in range(90))
    # The first chunk goes through, then the second is refused twice (a 429 without Via is a hard failure).
    local_discord.inject_rest_fault("POST /channels/*/messages", 429, count=2, via=False, skip=1)
    beat = OutputBeat(text=text, idempotency_key="turn-3:beat-0")

    with pytest.raises(AdapterRateLimitedError) as caught:
        await adapter.send(channel, beat)
    assert caught.value.retryable
    assert len(local_discord.sent_messages(general.id)) == 1
    refs = await adapter.send(channel, beat)

    sent = local_discord.sent_messages(general.id)
    assert [m["content"] for m in sent] == split_message(text)
    assert [r.id for r in refs] == [m["id"] for m in sent]


async def test_a_send_whose_answer_was_lost_is_not_duplicated_when_the_adapter_retries(local_discord, guild, connect):
    adapter = await connect()
    general = guild.channel("general")
    # Discord stores the message but the connection drops before the answer arrives; the adapter retries the
    # chunk with the nonce derived from the beat key, so Discord hands back the stored message.
    local_discord.inject_rest_fault("POST /channels/*/messages", 502, count=1, after_commit=True, drop_connection=True)

    refs = await adapter.send(_channel(general, guild), OutputBeat(text="just once", idempotency_key="turn-4:beat-0"))

    sent = local_discord.sent_messages(general.id)
    assert [m["content"] for m in sent] == ["just once"]
    assert refs[0].id == sent[0]["id"]
    posts = local_discord.requests_matching("POST /channels/*/messages")
    assert len(posts) == 2
    assert posts[0].body["nonce"] == posts[1].body["nonce"]


async def test_react_adds_the_bots_reaction(local_discord, guild, connect):
    adapter = await connect()
    general = guild.channel("general")
    posted = local_discord.post_message(general.id, guild.user("alice"), "shipped it")

    await adapter.react(MessageRef(channel=_channel(general, guild), id=posted["id"]), "🎉")

    assert local_discord.reactions == [(general.id, posted["id"], local_discord.bot.id, "🎉")]


async def test_reacting_to_an_unknown_message_raises_a_request_error_that_is_not_retryable(guild, connect):
    adapter = await connect()

    with pytest.raises(AdapterRequestError) as caught:
        await adapter.react(MessageRef(channel=_channel(guild.channel("general"), guild), id="1234"), "🎉")

    assert caught.value.status == 404
    assert caught.value.code == "adapter_not_found"
    assert not caught.value.retryable


async def test_typing_context_triggers_the_typing_indicator(local_discord, guild, connect):
    adapter = await connect()
    general = guild.channel("general")

    async with adapter.typing(_channel(general, guild)):
        assert local_discord.typing_calls == [(general.id, local_discord.bot.id)]


async def test_pin_pins_the_message_and_the_pin_notice_is_not_delivered(local_discord, guild, handler, connect):
    adapter = await connect()
    general = guild.channel("general")
    posted = local_discord.post_message(general.id, guild.user("alice"), "remember this")
    await local_discord.wait_for(lambda: handler.messages)

    await adapter.pin(MessageRef(channel=_channel(general, guild), id=posted["id"]), reason="a moment")
    local_discord.post_message(general.id, guild.user("alice"), "after the pin")

    await local_discord.wait_for(lambda: len(handler.messages) == 2)
    assert local_discord.pinned(general.id) == [posted["id"]]
    assert [m["type"] for m in local_discord.messages(general.id)] == [0, 6, 0]
    assert handler.contents() == ["remember this", "after the pin"]


async def test_create_channel_makes_a_text_channel_under_a_category(local_discord, guild, connect):
    category = local_discord.add_category(guild.id, "Projects")
    adapter = await connect()

    created = await adapter.create_channel(
        GuildRef(id=guild.id), ChannelSpec(name="Road Trip", topic="the summer plan", category_id=category.id)
    )

    stored = local_discord.guild(guild.id).channel("road-trip")
    assert created.id == stored.id
    assert created.name == "road-trip"
    assert created.kind is ChannelKind.TEXT
    assert created.guild == GuildRef(id=guild.id, name="Test Guild")
    assert stored.parent_id == category.id
    assert stored.topic == "the summer plan"


async def test_create_thread_on_a_message_and_a_private_standalone_thread(local_discord, guild, connect):
    adapter = await connect()
    general = _channel(guild.channel("general"), guild)
    posted = local_discord.post_message(general.id, guild.user("alice"), "who is coming?")

    on_message = await adapter.create_thread(
        general, ThreadSpec(name="headcount", from_message=MessageRef(channel=general, id=posted["id"]))
    )
    standalone = await adapter.create_thread(general, ThreadSpec(name="mods only", private=True))

    assert on_message.id == posted["id"]
    assert on_message.kind is ChannelKind.THREAD
    assert on_message.parent_id == general.id
    assert on_message.owner_id == local_discord.bot.id
    stored = local_discord.guild(guild.id).channel("mods only")
    assert stored.id == standalone.id
    assert stored.private
    assert local_discord.requests_matching("POST /channels/{channel_id}/messages/{message_id}/threads")
    assert local_discord.requests_matching("POST /channels/{channel_id}/threads")[0].body["type"] == 12


async def test_add_and_remove_role_change_the_members_roles(local_discord, guild, connect):
    adapter = await connect()
    alice = guild.user("alice")
    regular = guild.role("regular")
    guild_ref = GuildRef(id=guild.id)

    await adapter.add_role(guild_ref, alice.id, regular.id, reason="welcome")
    after_add = local_discord.guild(guild.id).member_role_ids(alice.id)
    await adapter.remove_role(guild_ref, alice.id, regular.id)
    after_remove = local_discord.guild(guild.id).member_role_ids(alice.id)

    assert after_add == [regular.id]
    assert after_remove == []


async def test_gateway_disconnect_resumes_and_replays_missed_messages_exactly_once(
    local_discord, guild, handler, connect
):
    await connect()
    general = guild.channel("general")
    alice = guild.user("alice")
    local_discord.post_message(general.id, alice, "before")
    await local_discord.wait_for(lambda: handler.messages)

    with local_discord.gateway_held():
        local_discord.disconnect(resume=True)
        for text in ("missed 1", "missed 2", "missed 3"):
            local_discord.post_message(general.id, alice, text)
    await local_discord.wait_for(lambda: handler.resumed == 1)
    local_discord.post_message(general.id, alice, "after")

    await local_discord.wait_for(lambda: len(handler.messages) == 5)
    assert handler.contents() == ["before", "missed 1", "missed 2", "missed 3", "after"]
    [resume] = local_discord.gateway_records("resume")
    assert resume.detail["accepted"]
    assert resume.detail["replayed"] == 3
    assert len(local_discord.gateway_records("identify")) == 1


async def test_a_resume_that_replays_already_seen_messages_does_not_deliver_them_twice(
    local_discord, guild, handler, connect
):
    await connect()
    general = guild.channel("general")
    alice = guild.user("alice")
    for text in ("one", "two"):
        local_discord.post_message(general.id, alice, text)
    await local_discord.wait_for(lambda: len(handler.messages) == 2)

    local_discord.disconnect(resume=True, replay_overlap=2)
    await local_discord.wait_for(lambda: handler.resumed == 1)
    local_discord.post_message(general.id, alice, "three")

    await local_discord.wait_for(lambda: len(handler.messages) == 3)
    assert local_discord.gateway_records("resume")[0].detail["replayed"] == 2
    assert handler.contents() == ["one", "two", "three"]


async def test_reconnect_op_makes_the_client_resume_at_the_resume_gateway_url(local_discord, guild, handler, connect):
    await connect()

    local_discord.send_reconnect()

    await local_discord.wait_for(lambda: handler.resumed == 1)
    [resume] = local_discord.gateway_records("resume")
    assert resume.path == "/gateway/resume"
    assert resume.detail["accepted"]


async def test_non_resumable_invalid_session_reidentifies_and_history_recovers_missed_messages(
    local_discord, guild, handler, connect
):
    adapter = await connect()
    general = guild.channel("general")
    channel = _channel(general, guild)
    alice = guild.user("alice")
    local_discord.post_message(general.id, alice, "last seen")
    await local_discord.wait_for(lambda: handler.messages)
    last_seen = handler.messages[-1].message

    with local_discord.gateway_held():
        local_discord.send_invalid_session(resumable=False)
        for text in ("lost 1", "lost 2", "lost 3"):
            local_discord.post_message(general.id, alice, text)
    await local_discord.wait_for(lambda: len(handler.ready) == 2)
    recovered = await adapter.fetch_history(channel, after=last_seen, limit=50)

    assert [m.content for m in recovered] == ["lost 1", "lost 2", "lost 3"]
    assert all(m.author.id == alice.id and m.channel.id == general.id for m in recovered)
    assert handler.contents() == ["last seen"]
    identifies = local_discord.gateway_records("identify")
    assert [record.path for record in identifies] == ["/gateway", "/gateway"]
    assert local_discord.gateway_records("resume") == []


async def test_fetch_history_without_after_returns_the_latest_messages_oldest_first(local_discord, guild, connect):
    adapter = await connect()
    general = guild.channel("general")
    for i in range(5):
        local_discord.post_message(general.id, guild.user("bob"), f"m{i}")

    latest = await adapter.fetch_history(_channel(general, guild), limit=3)

    assert [m.content for m in latest] == ["m2", "m3", "m4"]


async def test_bad_token_fails_fast_with_a_clear_auth_error(local_discord, guild, handler, connect):
    with pytest.raises(AdapterAuthError, match="rejected the bot token") as caught:
        await connect(token="not-the-token")

    assert not caught.value.retryable
    assert "not-the-token" not in str(caught.value)
    assert local_discord.gateway_log == []
    assert handler.ready == []
    assert current_endpoints() == (DEFAULT_ROUTE_BASE, DEFAULT_GATEWAY)


async def test_unreachable_discord_raises_a_retryable_connection_error(local_discord, handler):
    adapter = DiscordAdapter(token=local_discord.bot_token, api_base="http://127.0.0.1:9/api/v10")

    with pytest.raises(AdapterConnectionError) as caught:
        await adapter.start(handler)

    assert caught.value.retryable
    assert current_endpoints() == (DEFAULT_ROUTE_BASE, DEFAULT_GATEWAY)


async def test_sharded_adapter_identifies_each_shard_and_sees_every_guild(local_discord, handler, connect):
    guilds = [local_discord.add_guild(f"Guild {i}") for i in range(4)]

    await connect(shard_count=2)

    shards = sorted(tuple(record.detail["shard"]) for record in local_discord.gateway_records("identify"))
    assert shards == [(0, 2), (1, 2)]
    assert {snapshot.guild.id for snapshot in handler.ready[-1].guilds} == {g.id for g in guilds}


async def test_sharded_adapter_without_a_count_asks_gateway_bot_for_one(local_discord, guild, handler, connect):
    local_discord.recommended_shards = 2

    await connect(sharded=True)

    assert local_discord.requests_matching("GET /gateway/bot")
    shards = sorted(tuple(record.detail["shard"]) for record in local_discord.gateway_records("identify"))
    assert shards == [(0, 2), (1, 2)]
    assert [snapshot.guild.id for snapshot in handler.ready[-1].guilds] == [guild.id]


async def test_stop_restores_discord_pys_endpoints_and_send_then_needs_a_start(local_discord, guild, connect):
    adapter = await connect()
    assert current_endpoints() == (local_discord.api_base, local_discord.gateway_url)

    await adapter.stop()

    assert current_endpoints() == (DEFAULT_ROUTE_BASE, DEFAULT_GATEWAY)
    with pytest.raises(Exception, match="not started"):
        await adapter.send(ChannelRef(id=guild.channel("general").id), OutputBeat(text="hi", idempotency_key="k"))


async def test_discord_py_can_still_be_pointed_at_a_local_discord(local_discord, guild, handler, connect):
    # discord.py's hooks (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY) still exist with their defaults...
    assert current_endpoints() == (DEFAULT_ROUTE_BASE, DEFAULT_GATEWAY)

    await connect()
    # ...and setting them really sends login, the gateway and resumes to the local server.
    local_discord.send_reconnect()
    await local_discord.wait_for(lambda: handler.resumed == 1)

    assert local_discord.requests_matching("GET /users/@me")
    assert local_discord.requests_matching("GET /oauth2/applications/@me")
    assert [record.path for record in local_discord.gateway_records("identify")] == ["/gateway"]
    assert [record.path for record in local_discord.gateway_records("resume")] == ["/gateway/resume"]
    assert handler.ready[0].bot_user.id == local_discord.bot.id


async def test_wait_stopped_returns_once_the_adapter_is_stopped(guild, connect):
    adapter = await connect()
    waiting = asyncio.create_task(adapter.wait_stopped())

    await adapter.stop()

    await asyncio.wait_for(waiting, timeout=5)
    assert waiting.exception() is None


async def test_gateway_refusing_the_token_after_ready_ends_the_adapter_with_an_auth_error(
    local_discord, guild, connect
):
    adapter = await connect()

    local_discord.disconnect(close_code=4004)

    with pytest.raises(AdapterAuthError, match="close 4004"):
        await asyncio.wait_for(adapter.wait_stopped(), timeout=5)


async def test_disallowed_privileged_intents_fail_start_with_a_non_retryable_error(local_discord, guild, connect):
    local_discord.privileged_intents = False

    with pytest.raises(AdapterError, match="developer portal") as caught:
        await connect()

    assert caught.value.code == "adapter_intents_disallowed"
    assert not caught.value.retryable
