"""The live feed: a host's turn reaches the live group (recorded, then finished) and the websocket is staff-only."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.contrib.auth import get_user_model
from django.test import Client
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Origin

from bots.host.tests.hostkit import make_disposition, make_persona, reply_json
from dispositions.choices import OutputShape
from dispositions.models import DispositionDecision
from dispositions.signals import decision_finished
from observability.dashboard.live import PUBLISHER, Publisher


@pytest.fixture
def live_group(settings) -> str:
    """A group of this test's own: other test runs on the same Redis publish to theirs."""
    settings.DASHBOARD_LIVE_GROUP = f"dashboard.test.{uuid.uuid4().hex[:12]}"
    return settings.DASHBOARD_LIVE_GROUP


async def receive_for(layer: Any, channel: str, decision_id: int, kinds: set[str]) -> dict[str, dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    while kinds - set(seen):
        message = await asyncio.wait_for(layer.receive(channel), timeout=10)
        if message["decision"]["id"] == decision_id:
            seen[message["kind"]] = message["decision"]
    return seen


async def test_a_host_turn_reaches_the_live_group_when_recorded_and_again_when_finished(
    make_rig, gateway_on_openai_server, live_group
):
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(live_group, channel)

    def build():
        persona = make_persona()
        make_disposition(persona, "quick-react", shape=OutputShape.SINGLE_LINE)
        return persona

    rig = await make_rig(persona=await sync_to_async(build)(), router_off_axis_rate=0.0)
    gateway_on_openai_server.queue_reply(reply_json("hello there"))
    await rig.say("general", "alice", "@dit hi?")
    decision = await DispositionDecision.objects.aget(bot_id=rig.bot.pk)

    seen = await receive_for(layer, channel, decision.pk, {"recorded", "finished"})

    recorded, finished = seen["recorded"], seen["finished"]
    assert recorded["chosen_slug"] == "quick-react"
    assert recorded["channel_id"] == decision.channel_id
    assert recorded["trigger_kind"] == decision.trigger_kind
    assert recorded["top_scores"][0]["slug"] == "quick-react"
    assert finished["finished"] is True
    assert finished["beat_count"] == 1
    assert decision.latency_ms is not None
    assert finished["latency_ms"] == round(decision.latency_ms, 1)
    assert finished["cost_usd"] == str(decision.cost_usd)
    await layer.group_discard(live_group, channel)


def session_cookie(user: Any) -> str:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


def socket_url(server: str) -> str:
    return server.replace("http://", "ws://") + "/ws/dashboard/decisions/"


async def test_the_websocket_passes_the_live_group_on_to_staff(dashboard_server, live_group):
    staff = await sync_to_async(get_user_model().objects.create_user)("mod", "m@example.com", "pw", is_staff=True)
    cookie = await sync_to_async(session_cookie)(staff)
    headers = {"Cookie": cookie}
    async with connect(
        socket_url(dashboard_server), additional_headers=headers, origin=Origin(dashboard_server)
    ) as socket:
        message = {"type": "decision.update", "kind": "finished", "decision": {"id": 7, "finished": True}}
        await get_channel_layer().group_send(live_group, message)
        received = json.loads(await asyncio.wait_for(socket.recv(), timeout=10))
    assert received == {"kind": "finished", "decision": message["decision"]}


async def test_the_websocket_refuses_a_member_who_is_not_staff(dashboard_server, live_group):
    member = await sync_to_async(get_user_model().objects.create_user)("member", "u@example.com", "pw")
    cookie = await sync_to_async(session_cookie)(member)
    async with connect(
        socket_url(dashboard_server), additional_headers={"Cookie": cookie}, origin=Origin(dashboard_server)
    ) as socket:
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(socket.recv(), timeout=10)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4403


async def test_the_websocket_refuses_another_origin(dashboard_server, live_group):
    with pytest.raises(InvalidStatus) as refused:
        async with connect(socket_url(dashboard_server), origin=Origin("http://evil.example")):
            pass
    assert refused.value.response.status_code == 403


def test_a_full_feed_queue_drops_the_decision_with_a_warning_instead_of_waiting(monkeypatch, caplog):
    publisher = Publisher(maxsize=1)
    # No sending thread: the queue stays full, as behind a Redis that stopped answering.
    monkeypatch.setattr(publisher, "_start", lambda: None)
    first, second = DispositionDecision(pk=1), DispositionDecision(pk=2)

    publisher.submit("recorded", first)
    publisher.submit("recorded", second)

    assert "decision 2 not shown live" in caplog.text
    assert "decision 1" not in caplog.text


def test_the_feed_receivers_wait_for_the_commit(django_capture_on_commit_callbacks, monkeypatch, db):
    queued: list[tuple[str, int]] = []
    monkeypatch.setattr(PUBLISHER, "submit", lambda kind, decision: queued.append((kind, decision.pk)))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        decision_finished.send(sender=DispositionDecision, decision=DispositionDecision(pk=5))
    assert queued == []
    for callback in callbacks:
        callback()
    assert queued == [("finished", 5)]
