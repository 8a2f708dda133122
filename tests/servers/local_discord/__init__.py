"""A protocol-faithful local Discord for tests: the REST API and the gateway, in a background thread.

The real discord.py client talks to it over HTTP and a websocket exactly as it talks to Discord: login
(`GET /users/@me`, `GET /oauth2/applications/@me`), HELLO/IDENTIFY/READY/GUILD_CREATE, heartbeats, dispatches with
sequence numbers, RESUME with replay, op 7 and op 9, rate-limit headers and 429s. Tests drive it through a small
synchronous, thread-safe API (`add_guild`, `post_message`, `disconnect`, ...) and wait with `wait_for`, which polls
with a timeout. Every mutation runs on the server's own loop, so the state is never touched from two threads.

Use it through the `local_discord` pytest fixture (registered as a plugin in the root conftest).

The package is split by concern: `world` (constants, ids, users, roles, channels, guilds, records), `state` (the
attributes every part shares), `faults` (injected faults, rate limits, gateway control), `rest` (the REST API),
`gateway` (the websocket protocol) and `server` (`LocalDiscord` and the fixture).
"""

from tests.servers.local_discord.faults import FaultRule
from tests.servers.local_discord.server import LocalDiscord, local_discord
from tests.servers.local_discord.world import (
    GatewayRecord,
    LocalChannel,
    LocalGuild,
    LocalRole,
    LocalUser,
    RequestRecord,
)

__all__ = [
    "FaultRule",
    "GatewayRecord",
    "LocalChannel",
    "LocalDiscord",
    "LocalGuild",
    "LocalRole",
    "LocalUser",
    "RequestRecord",
    "local_discord",
]
