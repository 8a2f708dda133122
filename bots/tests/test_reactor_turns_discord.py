"""End to end on the local Discord: a turn the reactor hands over twice is posted once.

The glue between the inbox and the host here is what the turn pipeline does (docs/reactor.md, "Turns
reach the bot"): take a turn from `TurnInbox`, run it as an unprompted turn of its kind in its channel,
report how it ended.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.layers import channel_layers, get_channel_layer
from django.db import transaction
from django.utils import timezone

from bots.adapters.base import ChannelRef, GuildRef
from bots.adapters.discord import DiscordAdapter
from bots.host.config import HostConfig
from bots.host.host import Host, HostBot
from bots.host.tests.hostkit import make_disposition, make_persona, reply_json
from bots.inbox import TurnInbox
from bots.models import Bot
from bots.scheduled_turns import ScheduledTurn, deliver_turn, recipient_for
from dispositions.choices import OutputShape, Voice
from reactor.choices import DeliveryStatus
from reactor.delivery import announce
from reactor.models import Delivery, Trigger

pytestmark = pytest.mark.integration


@pytest.fixture
def own_layer(settings):
    """The Channels layer on the real Redis under a prefix of this test's own."""
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [settings.REDIS_URL], "prefix": f"test-e2e-{uuid.uuid4().hex[:10]}"},
        }
    }
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


def _hand_over(bot_id: int, guild_id: str, channel_id: str) -> uuid.UUID:
    """What a speculative trigger's effect does: a delivery for the bot, announced on commit."""
    with transaction.atomic():
        trigger = Trigger.objects.create(kind="bots.speculative", due_at=timezone.now())
        deliver_turn(
            ScheduledTurn(
                trigger_id=trigger.pk,
                bot_id=bot_id,
                guild_id=guild_id,
                channel_id=channel_id,
                trigger_kind="speculative",
                seed=1234,
                expires_at=timezone.now() + timedelta(minutes=2),
            )
        )
    return trigger.pk


async def test_a_speculative_turn_handed_over_twice_is_posted_once(
    local_discord, gateway_on_openai_server, host_db, host_redis, host_redis_prefix, own_layer
):
    guild = local_discord.add_guild("Test Guild", channels=("general",), members=("alice",))
    general = guild.channel("general")

    def world():
        persona = make_persona()
        # Observational: an unprompted turn with nothing to answer only observes, calls back or muses.
        make_disposition(persona, "observation-drop", shape=OutputShape.SINGLE_LINE, voice=Voice.OBSERVATIONAL)
        return persona, Bot.objects.create(slug=f"bot-{uuid.uuid4().hex[:8]}", name="Dit")

    persona, bot = await sync_to_async(world)()
    adapter = DiscordAdapter(
        token=local_discord.bot_token,
        api_base=local_discord.api_base,
        gateway_url=local_discord.gateway_url,
        guild_ready_timeout=0.05,
        identify_delay=0,
        retry_backoff=0.01,
        ready_timeout=10,
    )
    host = Host(
        bot=HostBot(bot_id=bot.pk, slug=bot.slug, name=bot.name, persona_id=persona.pk),
        config=HostConfig.build(fragment_window_seconds=0.0, fragment_max_seconds=0.0, mute_classifier=False),
        adapter=adapter,
        redis=host_redis,
        redis_prefix=host_redis_prefix,
    )
    await host.prepare()
    await adapter.start(host)
    gateway_on_openai_server.queue_reply(reply_json("quiet in here today"))
    layer = get_channel_layer()
    try:
        async with TurnInbox(bot_id=bot.pk, layer=layer) as inbox, TurnInbox(bot_id=bot.pk, layer=layer) as other:

            async def take(reader: TurnInbox) -> int | None:
                turn = await reader.next_turn()
                channel = ChannelRef(id=turn.channel_id, name="general", guild=GuildRef(id=turn.guild_id))
                decision = await host.unprompted_turn(channel, trigger=turn.trigger_kind, followup_bias=turn.bias)
                await reader.finish(turn, decision_id=decision.pk if decision else None, end="ran")
                return decision.pk if decision else None

            readers = [asyncio.ensure_future(take(inbox)), asyncio.ensure_future(take(other))]
            await asyncio.sleep(0.2)
            delivery_id = await sync_to_async(_hand_over)(bot.pk, guild.id, general.id)
            # The same turn announced again, as a retried effect or a second dispatcher's send would.
            await sync_to_async(announce)(recipient_for(bot.pk), str(delivery_id))
            done, pending = await asyncio.wait(readers, timeout=20, return_when=asyncio.FIRST_COMPLETED)
            await local_discord.wait_for(lambda: local_discord.sent_messages(general.id), timeout=10)
            await asyncio.sleep(0.5)
            for reader in pending:
                reader.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
    finally:
        await host.drain(0)
        await adapter.stop()
        await layer.close_pools()

    assert [m["content"] for m in local_discord.sent_messages(general.id)] == ["quiet in here today"]
    assert len(done) == 1
    decision_id = next(iter(done)).result()
    delivery = await Delivery.objects.aget(pk=delivery_id)
    assert delivery.status == DeliveryStatus.DONE
    assert delivery.outcome == {"decision_id": decision_id, "end": "ran"}
