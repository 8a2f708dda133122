"""The host's knobs, read once from the bot's typed settings (admin override, then environment, then default).

A key the bot's manifest does not declare still resolves from the environment variable of the same name,
then from the default here, so an older manifest keeps working and tests can point a bot at a local Discord
with `DISCORD_API_BASE` and `DISCORD_GATEWAY_URL` alone.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bots.bot_settings import BotSettings
from bots.host.errors import HostConfigurationError
from dispositions.specs import RouterConfig

DEFAULT_MUTE_PHRASES = ("stop", "shut up", "be quiet", "stfu", "hush")

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


@dataclass(frozen=True, slots=True)
class HostConfig:
    """Everything the host reads from settings, typed and checked."""

    address_on_everyone: bool = False
    address_on_role_ping: bool = False
    require_mention: bool = False
    fragment_window_seconds: float = 3.0
    fragment_max_seconds: float = 15.0
    allowed_bots: frozenset[str] = frozenset()
    bot_reply_chain_max: int = 3
    bot_replies_per_minute: int = 6
    bot_cooldown_seconds: float = 60.0
    mute_minutes: float = 60.0
    mute_phrases: tuple[str, ...] = DEFAULT_MUTE_PHRASES
    mute_classifier: bool = True
    mute_max_words: int = 6
    allowed_channels: frozenset[str] = frozenset()
    denied_channels: frozenset[str] = frozenset()
    drain_grace_seconds: float = 20.0
    catchup_max_age_seconds: float = 600.0
    catchup_limit: int = 50
    recheck_stale_messages: int = 3
    late_address_minutes: float = 10.0
    persona: str = ""
    discord_api_base: str = ""
    discord_gateway_url: str = ""
    discord_guild_ready_timeout: float = 2.0
    discord_identify_delay: float = 5.0
    startup_retry_base_seconds: float = 1.0
    startup_retry_max_seconds: float = 60.0
    router: RouterConfig = field(default_factory=RouterConfig)

    def __post_init__(self) -> None:
        for name in ("fragment_window_seconds", "fragment_max_seconds", "drain_grace_seconds", "mute_minutes"):
            if getattr(self, name) < 0:
                raise HostConfigurationError(f"{name.upper()} must be 0 or more, got {getattr(self, name)}", key=name)
        if self.fragment_max_seconds < self.fragment_window_seconds:
            raise HostConfigurationError(
                "FRAGMENT_MAX_SECONDS must not be below FRAGMENT_WINDOW_SECONDS "
                f"({self.fragment_max_seconds} < {self.fragment_window_seconds})",
                key="FRAGMENT_MAX_SECONDS",
            )
        if self.startup_retry_base_seconds <= 0 or self.startup_retry_max_seconds < self.startup_retry_base_seconds:
            raise HostConfigurationError(
                "STARTUP_RETRY_BASE_SECONDS must be > 0 and at most STARTUP_RETRY_MAX_SECONDS",
                key="STARTUP_RETRY_BASE_SECONDS",
            )

    @classmethod
    def from_settings(cls, settings: BotSettings, environ: Mapping[str, str] | None = None) -> HostConfig:
        """Read every host key from a bot's settings; a bad value raises naming the key."""
        read = _Reader(settings, os.environ if environ is None else environ)
        defaults = cls()
        router_defaults = defaults.router
        try:
            router = RouterConfig(
                temperature=read.number("ROUTER_TEMPERATURE", router_defaults.temperature),
                tiebreak_enabled=read.boolean("ROUTER_TIEBREAK", router_defaults.tiebreak_enabled),
                off_axis_rate=read.number("ROUTER_OFF_AXIS_RATE", router_defaults.off_axis_rate),
            )
        except ValueError as exc:
            key = "ROUTER_OFF_AXIS_RATE" if "off_axis_rate" in str(exc) else "ROUTER_TEMPERATURE"
            raise HostConfigurationError(f"router settings are invalid: {exc}", key=key) from None
        return cls(
            address_on_everyone=read.boolean("ADDRESS_ON_EVERYONE", defaults.address_on_everyone),
            address_on_role_ping=read.boolean("ADDRESS_ON_ROLE_PING", defaults.address_on_role_ping),
            require_mention=read.boolean("REQUIRE_MENTION", defaults.require_mention),
            fragment_window_seconds=read.number("FRAGMENT_WINDOW_SECONDS", defaults.fragment_window_seconds),
            fragment_max_seconds=read.number("FRAGMENT_MAX_SECONDS", defaults.fragment_max_seconds),
            allowed_bots=frozenset(read.id_list("ALLOWED_BOTS")),
            bot_reply_chain_max=int(read.number("BOT_REPLY_CHAIN_MAX", defaults.bot_reply_chain_max)),
            bot_replies_per_minute=int(read.number("BOT_REPLIES_PER_MINUTE", defaults.bot_replies_per_minute)),
            bot_cooldown_seconds=read.number("BOT_COOLDOWN_SECONDS", defaults.bot_cooldown_seconds),
            mute_minutes=read.number("MUTE_MINUTES", defaults.mute_minutes),
            mute_phrases=tuple(p.lower() for p in read.id_list("MUTE_PHRASES", ",".join(DEFAULT_MUTE_PHRASES))),
            mute_classifier=read.boolean("MUTE_CLASSIFIER", defaults.mute_classifier),
            allowed_channels=frozenset(read.id_list("ALLOWED_CHANNELS")),
            denied_channels=frozenset(read.id_list("DENIED_CHANNELS")),
            drain_grace_seconds=read.number("DRAIN_GRACE_SECONDS", defaults.drain_grace_seconds),
            catchup_max_age_seconds=read.number("CATCHUP_MAX_AGE_SECONDS", defaults.catchup_max_age_seconds),
            recheck_stale_messages=int(read.number("RECHECK_STALE_MESSAGES", defaults.recheck_stale_messages)),
            late_address_minutes=read.number("LATE_ADDRESS_MINUTES", defaults.late_address_minutes),
            persona=read.text("PERSONA", defaults.persona),
            discord_api_base=read.text("DISCORD_API_BASE", defaults.discord_api_base),
            discord_gateway_url=read.text("DISCORD_GATEWAY_URL", defaults.discord_gateway_url),
            discord_guild_ready_timeout=read.number(
                "DISCORD_GUILD_READY_TIMEOUT", defaults.discord_guild_ready_timeout
            ),
            discord_identify_delay=read.number("DISCORD_IDENTIFY_DELAY", defaults.discord_identify_delay),
            startup_retry_base_seconds=read.number("STARTUP_RETRY_BASE_SECONDS", defaults.startup_retry_base_seconds),
            startup_retry_max_seconds=read.number("STARTUP_RETRY_MAX_SECONDS", defaults.startup_retry_max_seconds),
            router=router,
        )


class _Reader:
    """Typed reads: the bot's settings view for declared keys, the environment (then a default) for others."""

    def __init__(self, settings: BotSettings, environ: Mapping[str, str]) -> None:
        self._settings = settings
        self._environ = environ

    def _raw(self, key: str) -> Any:
        if self._settings.declares(key):
            return self._settings.get(key)
        return self._environ.get(key)

    def text(self, key: str, default: str) -> str:
        value = self._raw(key)
        if value is None:
            return default
        return str(value).strip()

    def number(self, key: str, default: float) -> float:
        value = self._raw(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            return float(default)
        if isinstance(value, bool):
            raise HostConfigurationError(f"setting {key} must be a number, got a boolean", key=key)
        if isinstance(value, int | float):
            return float(value)
        try:
            return float(str(value).strip())
        except ValueError:
            raise HostConfigurationError(f"setting {key} must be a number, got {str(value)!r}", key=key) from None

    def boolean(self, key: str, default: bool) -> bool:
        value = self._raw(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            return default
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise HostConfigurationError(f"setting {key} must be true or false, got {str(value)!r}", key=key)

    def id_list(self, key: str, default: str = "") -> list[str]:
        """A comma-separated list, items stripped, empty items dropped."""
        value = self.text(key, default)
        return [item.strip() for item in value.split(",") if item.strip()]
