"""The local Discord speaks Discord's protocol: checked here with a raw HTTP and websocket client."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from typing import Any

import aiohttp
import pytest

from tests.servers.local_discord import LocalDiscord

INTENTS = (1 << 0) | (1 << 1) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 15)


def _auth(server: LocalDiscord) -> dict[str, str]:
    return {"Authorization": f"Bot {server.bot_token}"}


async def _receive(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    message = await asyncio.wait_for(ws.receive(), timeout=5)
    assert message.type is aiohttp.WSMsgType.TEXT, message
    return json.loads(message.data)


async def _receive_until(ws: aiohttp.ClientWebSocketResponse, event: str) -> dict[str, Any]:
    while True:
        frame = await _receive(ws)
        if frame.get("t") == event:
            return frame


async def _identify(ws: aiohttp.ClientWebSocketResponse, token: str, **extra: Any) -> dict[str, Any]:
    hello = await _receive(ws)
    assert hello["op"] == 10
    payload = {"token": token, "intents": INTENTS, "properties": {"os": "linux"}, **extra}
    await ws.send_json({"op": 2, "d": payload})
    return hello


def test_rest_answers_with_exactly_application_json_and_is_usable_from_sync_tests(local_discord):
    request = urllib.request.Request(f"{local_discord.api_base}/users/@me", headers=_auth(local_discord))  # noqa: S310
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - local test server
        body = json.loads(response.read())
        content_type = response.headers["Content-Type"]

    assert content_type == "application/json"
    assert body["id"] == local_discord.bot.id
    assert body["bot"] is True
    assert local_discord.wait_for_sync(lambda: local_discord.requests_matching("GET /users/@me"))


def test_rest_refuses_a_request_without_a_valid_bot_token(local_discord):
    request = urllib.request.Request(  # noqa: S310
        f"{local_discord.api_base}/users/@me", headers={"Authorization": "Bot not-a-token"}
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)  # noqa: S310 - local test server

    assert caught.value.code == 401
    assert json.loads(caught.value.read())["message"] == "401: Unauthorized"
    record = local_discord.requests[-1]
    assert record.authorized is False
    assert "not-a-token" not in repr(record)


async def test_injected_429_carries_retry_after_via_and_a_json_body_then_clears(local_discord):
    guild = local_discord.add_guild()
    channel = guild.channel("general")
    local_discord.inject_rest_fault("POST /channels/*/messages", 429, count=1, retry_after=0.25)
    url = f"{local_discord.api_base}/channels/{channel.id}/messages"

    async with aiohttp.ClientSession(headers=_auth(local_discord)) as session:
        async with session.post(url, json={"content": "one"}) as limited:
            limited_body = await limited.json()
            limited_headers = dict(limited.headers)
        async with session.post(url, json={"content": "two"}) as accepted:
            accepted_body = await accepted.json()
            accepted_headers = dict(accepted.headers)

    assert limited.status == 429
    assert limited_body == {"message": "You are being rate limited.", "retry_after": 0.25, "global": False}
    assert limited_headers["Via"]
    assert limited_headers["Retry-After"] == "1"
    assert accepted.status == 200
    assert accepted_body["content"] == "two"
    assert {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset-After", "X-RateLimit-Bucket"} <= set(
        accepted_headers
    )
    assert [m["content"] for m in local_discord.messages(channel.id)] == ["two"]


async def test_rate_limit_buckets_answer_429_past_the_limit_with_headers_that_count_down(local_discord):
    guild = local_discord.add_guild()
    channel = guild.channel("general")
    local_discord.set_rate_limit("POST /channels/{channel_id}/messages", limit=2, per=30)
    url = f"{local_discord.api_base}/channels/{channel.id}/messages"

    async with aiohttp.ClientSession(headers=_auth(local_discord)) as session:
        answers = []
        for text in ("a", "b", "c"):
            async with session.post(url, json={"content": text}) as response:
                answers.append((response.status, response.headers.get("X-RateLimit-Remaining")))

    assert answers[0] == (200, "1")
    assert answers[1] == (200, "0")
    assert answers[2][0] == 429


async def test_message_create_enforces_the_nonce_and_the_length_limit(local_discord):
    guild = local_discord.add_guild()
    channel = guild.channel("general")
    url = f"{local_discord.api_base}/channels/{channel.id}/messages"

    async with aiohttp.ClientSession(headers=_auth(local_discord)) as session:
        async with session.post(url, json={"content": "x", "nonce": "n1", "enforce_nonce": True}) as first:
            first_body = await first.json()
        async with session.post(url, json={"content": "x", "nonce": "n1", "enforce_nonce": True}) as second:
            second_body = await second.json()
        async with session.post(url, json={"content": "y" * 2001}) as too_long:
            too_long_body = await too_long.json()
        async with session.post(url, json={"content": "   "}) as empty:
            empty_body = await empty.json()

    assert first_body["id"] == second_body["id"]
    assert len(local_discord.messages(channel.id)) == 1
    assert too_long.status == 400
    assert too_long_body["code"] == 50035
    assert empty.status == 400
    assert empty_body["code"] == 50006


async def test_history_pages_like_discord_newest_first_for_after_and_before(local_discord):
    guild = local_discord.add_guild()
    channel = guild.channel("general")
    alice = guild.user("alice")
    ids = [local_discord.post_message(channel.id, alice, f"m{i}")["id"] for i in range(5)]
    url = f"{local_discord.api_base}/channels/{channel.id}/messages"

    async with aiohttp.ClientSession(headers=_auth(local_discord)) as session:
        async with session.get(url, params={"after": ids[0], "limit": "2"}) as response:
            after_page = [m["content"] for m in await response.json()]
        async with session.get(url, params={"before": ids[4], "limit": "2"}) as response:
            before_page = [m["content"] for m in await response.json()]
        async with session.get(url, params={"limit": "3"}) as response:
            latest_page = [m["content"] for m in await response.json()]

    assert after_page == ["m2", "m1"]
    assert before_page == ["m3", "m2"]
    assert latest_page == ["m4", "m3", "m2"]
    assert [int(i) for i in ids] == sorted(int(i) for i in ids)


async def test_gateway_says_hello_then_ready_with_resume_url_then_guild_create(local_discord):
    guild = local_discord.add_guild("Guild A", channels=("general", "random"), roles=("moderator", "regular"))

    async with aiohttp.ClientSession() as session, session.ws_connect(local_discord.gateway_url) as ws:
        hello = await _identify(ws, local_discord.bot_token)
        ready = await _receive(ws)
        guild_create = await _receive(ws)

    assert hello["d"]["heartbeat_interval"] == local_discord.heartbeat_interval_ms
    assert ready["t"] == "READY"
    assert ready["s"] == 1
    assert ready["d"]["resume_gateway_url"] == local_discord.resume_gateway_url
    assert ready["d"]["guilds"] == [{"id": guild.id, "unavailable": True}]
    assert ready["d"]["user"]["id"] == local_discord.bot.id
    assert guild_create["t"] == "GUILD_CREATE"
    assert guild_create["s"] == 2
    assert {c["name"] for c in guild_create["d"]["channels"]} == {"general", "random"}
    assert {r["name"] for r in guild_create["d"]["roles"]} == {"@everyone", "moderator", "regular"}
    assert {m["user"]["username"] for m in guild_create["d"]["members"]} == {"dit-bot", "alice", "bob"}
    identify = local_discord.gateway_records("identify")[0]
    assert identify.detail["intents"] == INTENTS


async def test_gateway_acknowledges_heartbeats(local_discord):
    async with aiohttp.ClientSession() as session, session.ws_connect(local_discord.gateway_url) as ws:
        await _identify(ws, local_discord.bot_token)
        await _receive_until(ws, "READY")
        await ws.send_json({"op": 1, "d": 1})
        ack = await _receive(ws)

    assert ack == {"op": 11}
    assert local_discord.gateway_records("heartbeat")[0].detail == {"seq": 1}


async def test_gateway_closes_with_4004_on_a_bad_token(local_discord):
    async with aiohttp.ClientSession() as session, session.ws_connect(local_discord.gateway_url) as ws:
        await _identify(ws, "wrong-token")
        closing = await asyncio.wait_for(ws.receive(), timeout=5)

    assert closing.type is aiohttp.WSMsgType.CLOSE
    assert closing.data == 4004


async def test_resume_replays_dispatches_missed_after_the_sequence_then_sends_resumed(local_discord):
    guild = local_discord.add_guild()
    channel = guild.channel("general")
    alice = guild.user("alice")
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(local_discord.gateway_url) as ws:
            await _identify(ws, local_discord.bot_token)
            ready = await _receive_until(ws, "READY")
            local_discord.post_message(channel.id, alice, "seen")
            seen = await _receive_until(ws, "MESSAGE_CREATE")
            local_discord.disconnect(resume=True)
            closing = await asyncio.wait_for(ws.receive(), timeout=5)
        local_discord.post_message(channel.id, alice, "missed one")
        local_discord.post_message(channel.id, alice, "missed two")
        async with session.ws_connect(ready["d"]["resume_gateway_url"]) as ws:
            await _receive(ws)  # HELLO
            resume = {"token": local_discord.bot_token, "session_id": ready["d"]["session_id"], "seq": seen["s"]}
            await ws.send_json({"op": 6, "d": resume})
            replayed = [await _receive(ws) for _ in range(3)]

    assert closing.data == 4000
    assert [f["d"].get("content") for f in replayed[:2]] == ["missed one", "missed two"]
    assert [f["s"] for f in replayed] == [seen["s"] + 1, seen["s"] + 2, seen["s"] + 3]
    assert replayed[2]["t"] == "RESUMED"
    assert local_discord.gateway_records("resume")[0].detail["replayed"] == 2


async def test_resuming_an_invalidated_session_gets_op_9_not_resumable(local_discord):
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(local_discord.gateway_url) as ws:
            await _identify(ws, local_discord.bot_token)
            ready = await _receive_until(ws, "READY")
            local_discord.send_invalid_session(resumable=False)
            invalid = await _receive(ws)
        async with session.ws_connect(local_discord.gateway_url) as ws:
            await _receive(ws)  # HELLO
            resume = {"token": local_discord.bot_token, "session_id": ready["d"]["session_id"], "seq": 1}
            await ws.send_json({"op": 6, "d": resume})
            refused = await _receive(ws)

    assert invalid == {"op": 9, "d": False}
    assert refused == {"op": 9, "d": False}


async def test_reconnect_op_is_sent_to_the_live_connection(local_discord):
    async with aiohttp.ClientSession() as session, session.ws_connect(local_discord.gateway_url) as ws:
        await _identify(ws, local_discord.bot_token)
        await _receive_until(ws, "READY")
        local_discord.send_reconnect()
        frame = await _receive(ws)

    assert frame == {"op": 7, "d": None}


async def test_wait_for_raises_a_timeout_naming_what_was_awaited(local_discord):
    with pytest.raises(TimeoutError, match="a message that never comes"):
        await local_discord.wait_for(lambda: False, timeout=0.05, what="a message that never comes")


def test_a_second_local_discord_runs_beside_the_fixture_on_its_own_port(local_discord):
    with LocalDiscord() as other:
        assert other.api_base != local_discord.api_base
        assert other.bot_token != local_discord.bot_token
