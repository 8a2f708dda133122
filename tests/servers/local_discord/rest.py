"""The REST API of the local Discord, served under `api_base`.

`RestMixin` holds the route table, the path every request takes (authorization, injected faults, rate-limit buckets
with Discord's headers, a `RequestRecord` for each answer) and one handler per endpoint discord.py calls; `_json`
answers with the exact content type discord.py requires.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from tests.servers.local_discord.faults import FaultRule, _Bucket, _HTTPError
from tests.servers.local_discord.state import LocalDiscordState
from tests.servers.local_discord.world import (
    GUILD_CATEGORY,
    GUILD_TEXT,
    MESSAGE_CHANNEL_PINNED,
    MESSAGE_LIMIT,
    PRIVATE_THREAD,
    PUBLIC_THREAD,
    LocalChannel,
    LocalGuild,
    LocalUser,
    RequestRecord,
    _iso,
    _Member,
    _now,
)

_Handler = Callable[[web.Request, dict[str, str], LocalUser], Awaitable[web.Response]]


class RestMixin(LocalDiscordState):
    """The REST side of the local Discord, served under `api_base`."""

    def _register_routes(self) -> None:
        table: list[tuple[str, str, _Handler]] = [
            ("GET", "/users/@me", self._get_me),
            ("POST", "/users/@me/channels", self._create_dm),
            ("GET", "/oauth2/applications/@me", self._get_application),
            ("GET", "/gateway", self._get_gateway),
            ("GET", "/gateway/bot", self._get_gateway_bot),
            ("GET", "/channels/{channel_id}", self._get_channel),
            ("GET", "/channels/{channel_id}/messages", self._get_messages),
            ("POST", "/channels/{channel_id}/messages", self._post_messages),
            ("GET", "/channels/{channel_id}/messages/pins", self._get_pins),
            ("PUT", "/channels/{channel_id}/messages/pins/{message_id}", self._put_pin),
            ("DELETE", "/channels/{channel_id}/messages/pins/{message_id}", self._delete_pin),
            ("PUT", "/channels/{channel_id}/pins/{message_id}", self._put_pin),
            ("GET", "/channels/{channel_id}/messages/{message_id}", self._get_message),
            ("PATCH", "/channels/{channel_id}/messages/{message_id}", self._patch_message),
            ("PUT", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me", self._put_reaction),
            ("DELETE", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me", self._delete_reaction),
            ("POST", "/channels/{channel_id}/typing", self._post_typing),
            ("POST", "/channels/{channel_id}/threads", self._post_thread),
            ("POST", "/channels/{channel_id}/messages/{message_id}/threads", self._post_thread),
            ("POST", "/guilds/{guild_id}/channels", self._post_channel),
            ("GET", "/guilds/{guild_id}/members/{user_id}", self._get_member),
            ("PUT", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}", self._put_member_role),
            ("DELETE", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}", self._delete_member_role),
        ]
        for method, template, handler in table:
            regex = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$"
            self._routes.append((method, template, re.compile(regex), handler))

    def _match(self, method: str, path: str) -> tuple[str, dict[str, str], _Handler] | None:
        for route_method, template, regex, handler in self._routes:
            found = regex.match(path)
            if found and route_method == method:
                return template, found.groupdict(), handler
        return None

    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        body: Any = None
        if request.body_exists:
            raw = await request.read()
            if request.content_type == "application/json":
                body = json.loads(raw or b"null")
            else:
                body = {"_content_type": request.content_type}
        matched = self._match(request.method, path)
        route = matched[0] if matched else path
        auth = request.headers.get("Authorization", "")
        user = self._tokens.get(auth.removeprefix("Bot ")) if auth.startswith("Bot ") else None
        status, response = await self._answer(request, path, route, matched, user)
        self._requests.append(
            RequestRecord(
                method=request.method,
                path=path,
                route=route,
                status=status,
                body=body,
                query=dict(request.query),
                authorized=user is not None,
                at=time.monotonic(),
            )
        )
        return response

    async def _answer(
        self,
        request: web.Request,
        path: str,
        route: str,
        matched: tuple[str, dict[str, str], _Handler] | None,
        user: LocalUser | None,
    ) -> tuple[int, web.Response]:
        if user is None:
            return 401, _json({"message": "401: Unauthorized", "code": 0}, 401)
        if matched is None:
            return 404, _json({"message": "404: Not Found", "code": 0}, 404)
        template, params, handler = matched
        fault = self._take_fault(request.method, template, path)
        if fault is not None and not fault.after_commit:
            return fault.status, self._fault_response(fault, request)
        bucket_key, limited = self._spend_bucket(request.method, template, path, params)
        if limited is not None:
            return 429, limited
        try:
            response = await handler(request, params, user)
        except _HTTPError as error:
            response = _json(error.body, error.status)
        if fault is not None:
            return fault.status, self._fault_response(fault, request)
        self._add_bucket_headers(response, bucket_key)
        return response.status, response

    def _take_fault(self, method: str, route: str, path: str) -> FaultRule | None:
        for rule in self._faults:
            if rule.remaining > 0 and rule.matches(method, route, path):
                if rule.skip > 0:
                    rule.skip -= 1
                    continue
                rule.remaining -= 1
                return rule
        return None

    def _fault_response(self, fault: FaultRule, request: web.Request) -> web.Response:
        if fault.drop_connection and request.transport is not None:
            request.transport.close()
        if fault.status != 429:
            return _json({"message": f"{fault.status}: injected fault", "code": 0}, fault.status)
        headers = {"Retry-After": str(max(1, int(fault.retry_after + 0.999)))}
        if fault.via:
            headers["Via"] = "1.1 google"
        if fault.is_global:
            headers["X-RateLimit-Global"] = "true"
        headers["X-RateLimit-Scope"] = "global" if fault.is_global else "user"
        body = {"message": "You are being rate limited.", "retry_after": fault.retry_after, "global": fault.is_global}
        return _json(body, 429, headers)

    def _bucket_for(self, method: str, route: str, path: str, params: dict[str, str]) -> tuple[str, _Bucket]:
        limit, per = self._default_bucket
        for pattern, override_limit, override_per in self._bucket_overrides:
            if fnmatch.fnmatchcase(f"{method} {route}", pattern) or fnmatch.fnmatchcase(f"{method} {path}", pattern):
                limit, per = override_limit, override_per
        bucket_hash = hashlib.sha1(f"{method} {route}".encode(), usedforsecurity=False).hexdigest()[:16]
        major = params.get("channel_id") or params.get("guild_id") or ""
        key = f"{bucket_hash}:{major}"
        bucket = self._buckets.get(key)
        if bucket is None or (bucket.limit, bucket.per) != (limit, per):
            bucket = self._buckets[key] = _Bucket(limit=limit, per=per)
        return key, bucket

    def _spend_bucket(
        self, method: str, route: str, path: str, params: dict[str, str]
    ) -> tuple[str, web.Response | None]:
        key, bucket = self._bucket_for(method, route, path, params)
        now = time.monotonic()
        if now >= bucket.window_start + bucket.per:
            bucket.window_start, bucket.used = now, 0
        if bucket.used >= bucket.limit:
            retry_after = round(bucket.window_start + bucket.per - now, 3)
            body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": False}
            headers = {
                "Retry-After": str(max(1, int(retry_after + 0.999))),
                "Via": "1.1 google",
                "X-RateLimit-Scope": "user",
            }
            return key, _json(body, 429, headers)
        bucket.used += 1
        return key, None

    def _add_bucket_headers(self, response: web.Response, key: str) -> None:
        bucket = self._buckets[key]
        reset_after = max(0.001, bucket.window_start + bucket.per - time.monotonic())
        response.headers["X-RateLimit-Limit"] = str(bucket.limit)
        response.headers["X-RateLimit-Remaining"] = str(max(0, bucket.limit - bucket.used))
        response.headers["X-RateLimit-Reset-After"] = f"{reset_after:.3f}"
        response.headers["X-RateLimit-Reset"] = f"{time.time() + reset_after:.3f}"
        response.headers["X-RateLimit-Bucket"] = key.split(":", 1)[0]

    async def _get_me(self, request: web.Request, params: dict[str, str], user: LocalUser) -> web.Response:
        return _json({**user.payload(), "verified": True, "mfa_enabled": False, "flags": 0})

    async def _get_application(self, request: web.Request, params: dict[str, str], user: LocalUser) -> web.Response:
        owner = next((u for u in self._users.values() if not u.bot), None) or user
        return _json(
            {
                "id": user.id,
                "name": user.username,
                "icon": None,
                "description": "",
                "summary": "",
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": owner.payload(),
                "team": None,
                "verify_key": "0" * 64,
                "flags": (1 << 13) | (1 << 15) | (1 << 19),
                "interactions_endpoint_url": None,
                "rpc_origins": [],
            }
        )

    async def _get_gateway(self, request: web.Request, params: dict[str, str], user: LocalUser) -> web.Response:
        return _json({"url": self.gateway_url})

    async def _get_gateway_bot(self, request: web.Request, params: dict[str, str], user: LocalUser) -> web.Response:
        return _json(
            {
                "url": self.gateway_url,
                "shards": self.recommended_shards,
                "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 86400000, "max_concurrency": 1},
            }
        )

    async def _create_dm(self, request: web.Request, params: dict[str, str], user: LocalUser) -> web.Response:
        body = await request.json()
        recipient = self._users.get(str(body.get("recipient_id")))
        if recipient is None:
            raise _HTTPError(404, "Unknown User", 10013)
        return _json(self._open_dm(recipient, user).payload())

    async def _get_channel(self, request: web.Request, params: dict[str, str], user: LocalUser) -> web.Response:
        return _json(self._channel(params["channel_id"]).payload())

    async def _get_messages(self, request: web.Request, params: dict[str, str], user: LocalUser) -> web.Response:
        channel = self._channel(params["channel_id"])
        try:
            limit = int(request.query.get("limit", "50"))
        except ValueError:
            raise _HTTPError(400, "Invalid Form Body", 50035, {"limit": "not an integer"}) from None
        if not 1 <= limit <= 100:
            raise _HTTPError(400, "Invalid Form Body", 50035, {"limit": "must be between 1 and 100"})
        stored = self._messages.get(channel.id, [])
        if "after" in request.query:
            after = int(request.query["after"])
            # The `limit` messages right after `after`, newest first (as Discord answers).
            page = [m for m in stored if int(m["id"]) > after][:limit]
            page.reverse()
        elif "before" in request.query:
            before = int(request.query["before"])
            page = [m for m in reversed(stored) if int(m["id"]) < before][:limit]
        elif "around" in request.query:
            around = int(request.query["around"])
            ordered = sorted(stored, key=lambda m: abs(int(m["id"]) - around))[:limit]
            page = sorted(ordered, key=lambda m: int(m["id"]), reverse=True)
        else:
            page = list(reversed(stored))[:limit]
        return _json(page)

    async def _post_messages(self, request: web.Request, params: dict[str, str], user: LocalUser) -> web.Response:
        channel = self._channel(params["channel_id"])
        if request.content_type != "application/json":
            raise _HTTPError(400, "the local Discord accepts JSON message bodies only (no file uploads)", 50035)
        body = await request.json()
        content = body.get("content") or ""
        if len(content) > MESSAGE_LIMIT:
            raise _HTTPError(
                400,
                "Invalid Form Body",
                50035,
                {
                    "content": {
                        "_errors": [
                            {"code": "BASE_TYPE_MAX_LENGTH", "message": f"Must be {MESSAGE_LIMIT} or fewer in length."}
                        ]
                    }
                },
            )
        if not content.strip() and not body.get("embeds") and not body.get("sticker_ids"):
            raise _HTTPError(400, "Cannot send an empty message", 50006)
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce"):
            # Discord returns the earlier message instead of creating a second one with the same nonce.
            for message in self._messages.get(channel.id, []):
                if message.get("nonce") == str(nonce) and message["author"]["id"] == user.id:
                    return _json(message)
        reference = None
        reference_body = body.get("message_reference")
        if reference_body and reference_body.get("message_id"):
            reference_channel = str(reference_body.get("channel_id") or channel.id)
            try:
                reference = self._message(reference_channel, str(reference_body["message_id"]))
            except _HTTPError:
                if reference_body.get("fail_if_not_exists", True):
                    raise _HTTPError(
                        400,
                        "Invalid Form Body",
                        50035,
                        {"message_reference": {"_errors": [{"code": "MESSAGE_REFERENCE_UNKNOWN_MESSAGE"}]}},
                    ) from None
        message = self._create_message(
            channel,
            user,
            content,
            reference=reference,
            allowed=body.get("allowed_mentions"),
            nonce=None if nonce is None else str(nonce),
        )
        return _json(message)

    async def _get_message(self, request: web.Request, params: dict[str, str], user: LocalUser) -> web.Response:
        self._channel(params["channel_id"])
        return _json(self._message(params["channel_id"], params["message_id"]))

    async def _patch_message(self, request: web.Request, params: dict[str, str], user: LocalUser) -> web.Response:
        message = self._message(params["channel_id"], params["message_id"])
        if message["author"]["id"] != user.id:
            raise _HTTPError(403, "Cannot edit a message authored by another user", 50005)
        body = await request.json()
        return _json(self._edit_message(params["channel_id"], params["message_id"], body.get("content") or ""))

    async def _put_reaction(self, request: web.Request, params: dict[str, str], user: LocalUser) -> web.Response:
        self._react(params["channel_id"], params["message_id"], user, params["emoji"], True)
        return web.Response(status=204)

    async def _delete_reaction(self, request: web.Request, params: dict[str, str], user: LocalUser) -> web.Response:
        self._react(params["channel_id"], params["message_id"], user, params["emoji"], False)
        return web.Response(status=204)

    async def _post_typing(self, request: web.Request, params: dict[str, str], user: LocalUser) -> web.Response:
        channel = self._channel(params["channel_id"])
        self._typing.append((channel.id, user.id))
        return web.Response(status=204)

    async def _get_pins(self, request: web.Request, params: dict[str, str], user: LocalUser) -> web.Response:
        channel_id = self._channel(params["channel_id"]).id
        items = [
            {"pinned_at": _iso(at), "message": self._message(channel_id, message_id)}
            for message_id, at in reversed(self._pins.get(channel_id, []))
        ]
        return _json({"items": items, "has_more": False})

    async def _put_pin(self, request: web.Request, params: dict[str, str], user: LocalUser) -> web.Response:
        channel = self._channel(params["channel_id"])
        message = self._message(channel.id, params["message_id"])
        pins = self._pins.setdefault(channel.id, [])
        if all(message_id != message["id"] for message_id, _ in pins):
            if len(pins) >= 250:
                raise _HTTPError(400, "Maximum number of pins reached (250)", 30003)
            pinned_at = _now()
            pins.append((message["id"], pinned_at))
            message["pinned"] = True
            data: dict[str, Any] = {"channel_id": channel.id, "last_pin_timestamp": _iso(pinned_at)}
            if channel.guild_id is not None:
                data["guild_id"] = channel.guild_id
            self._dispatch_to(channel, "CHANNEL_PINS_UPDATE", data)
            # Discord announces a pin with a system message in the channel.
            self._create_message(
                channel,
                user,
                "",
                reference=None,
                allowed={"parse": []},
                message_type=MESSAGE_CHANNEL_PINNED,
            )
        return web.Response(status=204)

    async def _delete_pin(self, request: web.Request, params: dict[str, str], user: LocalUser) -> web.Response:
        channel = self._channel(params["channel_id"])
        message = self._message(channel.id, params["message_id"])
        self._pins[channel.id] = [(mid, at) for mid, at in self._pins.get(channel.id, []) if mid != message["id"]]
        message["pinned"] = False
        return web.Response(status=204)

    async def _post_thread(self, request: web.Request, params: dict[str, str], user: LocalUser) -> web.Response:
        parent = self._channel(params["channel_id"])
        if parent.type != GUILD_TEXT or parent.guild_id is None:
            raise _HTTPError(400, "Cannot execute action on this channel type", 50024)
        body = await request.json()
        name = str(body.get("name") or "").strip()
        if not 1 <= len(name) <= 100:
            raise _HTTPError(400, "Invalid Form Body", 50035, {"name": "must be 1 to 100 characters"})
        message_id = params.get("message_id")
        if message_id is not None:
            self._message(parent.id, message_id)
            if message_id in self._guilds[parent.guild_id].channels:
                raise _HTTPError(400, "A thread has already been created for this message", 160004)
        thread_type = int(body.get("type") or PUBLIC_THREAD) if message_id is None else PUBLIC_THREAD
        thread = LocalChannel(
            # A thread started from a message shares the message's id, as on Discord.
            id=message_id or str(self._ids.next()),
            type=thread_type,
            name=name,
            guild_id=parent.guild_id,
            parent_id=parent.id,
            owner_id=user.id,
            private=thread_type == PRIVATE_THREAD,
            auto_archive_duration=int(body.get("auto_archive_duration") or 1440),
        )
        guild = self._guilds[parent.guild_id]
        guild.channels[thread.id] = thread
        self._messages[thread.id] = []
        self._dispatch_guild(guild, "THREAD_CREATE", {**thread.payload(), "newly_created": True})
        return _json(thread.payload(), 201)

    async def _post_channel(self, request: web.Request, params: dict[str, str], user: LocalUser) -> web.Response:
        guild = self._guild(params["guild_id"])
        body = await request.json()
        channel_type = int(body.get("type", GUILD_TEXT))
        name = str(body.get("name") or "").strip()
        if not 1 <= len(name) <= 100:
            raise _HTTPError(400, "Invalid Form Body", 50035, {"name": "must be 1 to 100 characters"})
        if channel_type == GUILD_TEXT:
            # Discord lowercases text channel names and joins words with dashes.
            name = re.sub(r"\s+", "-", name.lower())
        parent_id = body.get("parent_id")
        if parent_id is not None:
            parent = guild.channels.get(str(parent_id))
            if parent is None or parent.type != GUILD_CATEGORY:
                raise _HTTPError(400, "Invalid Form Body", 50035, {"parent_id": "not a category of this guild"})
        channel = LocalChannel(
            id=str(self._ids.next()),
            type=channel_type,
            name=name,
            guild_id=guild.id,
            parent_id=None if parent_id is None else str(parent_id),
            topic=body.get("topic"),
            position=len(guild.channels),
        )
        guild.channels[channel.id] = channel
        self._messages[channel.id] = []
        self._dispatch_guild(guild, "CHANNEL_CREATE", channel.payload())
        return _json(channel.payload(), 201)

    async def _get_member(self, request: web.Request, params: dict[str, str], user: LocalUser) -> web.Response:
        guild = self._guild(params["guild_id"])
        member = guild.members.get(params["user_id"])
        if member is None:
            raise _HTTPError(404, "Unknown Member", 10007)
        return _json(member.payload())

    def _member_and_role(self, params: dict[str, str]) -> tuple[LocalGuild, _Member, str]:
        guild = self._guild(params["guild_id"])
        member = guild.members.get(params["user_id"])
        if member is None:
            raise _HTTPError(404, "Unknown Member", 10007)
        if params["role_id"] not in guild.roles:
            raise _HTTPError(404, "Unknown Role", 10011)
        return guild, member, params["role_id"]

    async def _put_member_role(self, request: web.Request, params: dict[str, str], user: LocalUser) -> web.Response:
        guild, member, role_id = self._member_and_role(params)
        if role_id not in member.role_ids:
            member.role_ids.append(role_id)
            self._dispatch_guild(guild, "GUILD_MEMBER_UPDATE", {"guild_id": guild.id, **member.payload()})
        return web.Response(status=204)

    async def _delete_member_role(self, request: web.Request, params: dict[str, str], user: LocalUser) -> web.Response:
        guild, member, role_id = self._member_and_role(params)
        if role_id in member.role_ids:
            member.role_ids.remove(role_id)
            self._dispatch_guild(guild, "GUILD_MEMBER_UPDATE", {"guild_id": guild.id, **member.payload()})
        return web.Response(status=204)


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON response whose content-type is exactly `application/json`, as discord.py requires."""
    response = web.Response(body=json.dumps(body).encode(), status=status, headers=headers)
    response.headers["Content-Type"] = "application/json"
    return response
