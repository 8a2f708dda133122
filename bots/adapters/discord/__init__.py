"""The Discord adapter: discord.py behind the platform-neutral PlatformAdapter; the only package that imports it.

`client` holds the connection and the inbound events, `outbound` what the bot does on Discord, `conversions`
the translation of discord.py objects into the neutral values of `bots.adapters.base`.
"""

from __future__ import annotations

from bots.adapters.discord.client import DiscordAdapter, ReplayGuard, current_endpoints, default_intents
from bots.adapters.discord.conversions import PLATFORM

__all__ = ["PLATFORM", "DiscordAdapter", "ReplayGuard", "current_endpoints", "default_intents"]
