"""A running host follows its bot row: a rename or a new override is used on the next turn; a deleted bot stops."""

from __future__ import annotations

import asyncio

from asgiref.sync import sync_to_async

from bots.adapters.local import LocalAdapter
from bots.bot_settings import BotSettings
from bots.host.choices import BeatStatus
from bots.host.config import HostConfig
from bots.host.models import InboundClaim, OutboundBeat
from bots.host.runner import EXIT_FAILED, run_host
from bots.host.tests.hostkit import make_disposition, make_persona, reply_json
from bots.manifest import manifest_from_data
from bots.models import Bot
from bots.runtime import BootedBot
from bots.services import manifest_load, setting_override_set
from bots.tests.factories import manifest_data
from dispositions.choices import OutputShape
from dispositions.models import DispositionDecision, Persona


async def speaking_persona(name: str = "Dit"):
    def build():
        persona = make_persona(name=name)
        make_disposition(persona, "quick-react", shape=OutputShape.SINGLE_LINE)
        return persona

    return await sync_to_async(build)()


async def test_the_host_stops_taking_turns_when_its_bot_row_is_deleted_under_it(make_rig, gateway_on_openai_server):
    rig = await make_rig(persona=await speaking_persona())
    gateway_on_openai_server.queue_reply(reply_json("still here"))
    await rig.say("general", "alice", "@dit hello?")
    bot_id = rig.bot.pk

    # A raw delete, as a script or a database console would do it (the API and admin refuse it).
    await sync_to_async(lambda: Bot.objects.filter(pk=bot_id).delete())()
    await rig.say("general", "alice", "@dit are you there?")

    assert rig.host.parts.bot_gone.is_set()
    assert [d.outcome["end"] async for d in DispositionDecision.objects.filter(bot_id=bot_id)] == ["spoke"]
    assert not await InboundClaim.objects.filter(bot_id=bot_id).aexists()
    assert [b.status async for b in OutboundBeat.objects.all()] == [BeatStatus.SENT]
    assert [m.content for m in rig.adapter.bot_messages(rig.adapter.channel("general"))] == ["still here"]


async def test_run_host_exits_1_when_the_bot_is_deleted_while_it_runs(host_db, gateway_on_openai_server, monkeypatch):
    await speaking_persona()

    def create_bot():
        manifest = manifest_from_data(manifest_data(slug="doomed", name="Dit", groups=[], features=[]))
        return manifest_load(manifest=manifest).bot

    bot = await sync_to_async(create_bot)()
    booted = BootedBot(
        bot_id=bot.pk,
        slug=bot.slug,
        name=bot.name,
        version="1.0.0",
        manifest_version=1,
        channels=(),
        features=(),
        settings=BotSettings(),
    )
    config = HostConfig.build(fragment_window_seconds=0, fragment_max_seconds=0, mute_classifier=False)
    adapter = LocalAdapter(bot_name="dit")
    stop = asyncio.Event()
    running = asyncio.create_task(run_host(booted, adapter, config=config, stop=stop))
    await asyncio.wait_for(adapter.started.wait(), 10)

    await sync_to_async(lambda: Bot.objects.filter(pk=bot.pk).delete())()
    await adapter.post("general", "alice", "@dit anyone?")
    code = await asyncio.wait_for(running, 20)

    assert code == EXIT_FAILED
    assert not await DispositionDecision.objects.filter(bot_id=bot.pk).aexists()


async def test_a_rename_and_a_new_override_are_used_on_the_next_turn_without_a_restart(
    host_db, gateway_on_openai_server, make_rig
):
    await speaking_persona(name="Dit")

    def create_bot():
        data = manifest_data(slug="renamed", name="Dit", groups=[], features=[])
        data["settings"] = {"include": ["host"]}
        return manifest_load(manifest=manifest_from_data(data)).bot

    bot = await sync_to_async(create_bot)()
    persona = await Persona.objects.aget()
    rig = await make_rig(persona=persona, bot=bot, require_mention=False)
    gateway_on_openai_server.queue_reply(reply_json("first"))
    gateway_on_openai_server.queue_reply(reply_json("second"))
    await rig.say("general", "alice", "@dit one?")

    def change():
        renamed = Bot.objects.get(pk=bot.pk)
        renamed.name = "Sol"
        renamed.save(update_fields=["name"])
        setting_override_set(bot=renamed, key="REQUIRE_MENTION", value=True)

    await sync_to_async(change)()
    await rig.say("general", "alice", "nobody addressed here")
    await rig.say("general", "alice", "@dit two?")

    assert rig.host.parts.bot.name == "Sol"
    assert rig.host.config.require_mention is True
    assert [m.content for m in rig.adapter.bot_messages(rig.adapter.channel("general"))] == ["first", "second"]
    inbound = [d.inbound_message_id async for d in DispositionDecision.objects.order_by("id")]
    assert len(inbound) == 2
