"""Typed settings of the turns the reactor starts: self-followups and speculative turns.

Each key resolves like every bot setting (admin override, then the environment variable of its name,
then the default here, so a manifest that does not declare a key still works). A bad value raises
naming the key.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from bots.bot_settings import BotSettings
from dit_project.errors import ConfigurationError

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


class _Reader:
    def __init__(self, settings: BotSettings, environ: Mapping[str, str]) -> None:
        self._settings = settings
        self._environ = environ

    def _raw(self, key: str) -> object:
        if self._settings.declares(key):
            return self._settings.get(key)
        return self._environ.get(key)

    def number(self, key: str, default: float) -> float:
        value = self._raw(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            return float(default)
        if isinstance(value, bool):
            raise ConfigurationError(f"setting {key} must be a number, got a boolean", key=key)
        try:
            return float(str(value).strip())
        except ValueError:
            raise ConfigurationError(f"setting {key} must be a number, got {str(value)!r}", key=key) from None

    def boolean(self, key: str, default: bool) -> bool:
        value = self._raw(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            return default
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower()
        if word in _TRUE | _FALSE:
            return word in _TRUE
        raise ConfigurationError(f"setting {key} must be true or false, got {str(value)!r}", key=key)

    def text(self, key: str, default: str) -> str:
        value = self._raw(key)
        return default if value is None else str(value).strip()

    def id_set(self, key: str) -> frozenset[str]:
        return frozenset(item.strip() for item in self.text(key, "").split(",") if item.strip())


def _reader(settings: BotSettings, environ: Mapping[str, str] | None) -> _Reader:
    return _Reader(settings, os.environ if environ is None else environ)


@dataclass(frozen=True, slots=True)
class FollowupConfig:
    """When a pending self-followup fires, waits, is downgraded or is aborted."""

    enabled: bool = True
    mid_thought_seconds: float = 20.0
    defer_seconds: float = 30.0
    max_defers: int = 2
    off_topic_messages: int = 4
    on_topic_share: float = 0.25
    callback_min_seconds: int = 300
    callback_max_seconds: int = 1200
    turn_expiry_seconds: float = 120.0

    @classmethod
    def from_settings(cls, settings: BotSettings, environ: Mapping[str, str] | None = None) -> FollowupConfig:
        """Read the FOLLOWUP_* keys of a bot."""
        read = _reader(settings, environ)
        d = cls()
        config = cls(
            enabled=read.boolean("FOLLOWUP_ENABLED", d.enabled),
            mid_thought_seconds=read.number("FOLLOWUP_MID_THOUGHT_SECONDS", d.mid_thought_seconds),
            defer_seconds=read.number("FOLLOWUP_DEFER_SECONDS", d.defer_seconds),
            max_defers=int(read.number("FOLLOWUP_MAX_DEFERS", d.max_defers)),
            off_topic_messages=int(read.number("FOLLOWUP_OFF_TOPIC_MESSAGES", d.off_topic_messages)),
            on_topic_share=read.number("FOLLOWUP_ON_TOPIC_SHARE", d.on_topic_share),
            callback_min_seconds=int(read.number("FOLLOWUP_CALLBACK_MIN_SECONDS", d.callback_min_seconds)),
            callback_max_seconds=int(read.number("FOLLOWUP_CALLBACK_MAX_SECONDS", d.callback_max_seconds)),
            turn_expiry_seconds=read.number("SCHEDULED_TURN_EXPIRY_SECONDS", d.turn_expiry_seconds),
        )
        if not 0 <= config.callback_min_seconds <= config.callback_max_seconds:
            raise ConfigurationError(
                "FOLLOWUP_CALLBACK_MIN_SECONDS must be between 0 and FOLLOWUP_CALLBACK_MAX_SECONDS",
                key="FOLLOWUP_CALLBACK_MIN_SECONDS",
            )
        return config


@dataclass(frozen=True, slots=True)
class SpeculativeConfig:
    """When a quiet channel may get an unprompted turn."""

    enabled: bool = False
    per_guild_per_hour: int = 2
    activity_window_hours: float = 6.0
    min_activity_per_hour: float = 1.0
    max_activity_per_hour: float = 60.0
    min_budget: float = 0.3
    bot_quiet_minutes: float = 60.0
    first_hour: int = 9
    last_hour: int = 23
    chance: float = 0.3
    turn_expiry_seconds: float = 120.0
    allowed_channels: frozenset[str] = frozenset()
    denied_channels: frozenset[str] = frozenset()

    @classmethod
    def from_settings(cls, settings: BotSettings, environ: Mapping[str, str] | None = None) -> SpeculativeConfig:
        """Read the SPECULATIVE_* keys of a bot, and its channel allow and deny lists."""
        read = _reader(settings, environ)
        d = cls()
        hours = read.text("SPECULATIVE_HOURS", f"{d.first_hour}-{d.last_hour}")
        try:
            first, last = (int(part) for part in hours.split("-", 1))
        except ValueError:
            raise ConfigurationError(
                f"setting SPECULATIVE_HOURS must look like 9-23 (local hours, first to last), got {hours!r}",
                key="SPECULATIVE_HOURS",
            ) from None
        if not (0 <= first <= 23 and 0 <= last <= 23):
            raise ConfigurationError("setting SPECULATIVE_HOURS takes hours 0 to 23", key="SPECULATIVE_HOURS")
        chance = read.number("SPECULATIVE_CHANCE", d.chance)
        if not 0.0 <= chance <= 1.0:
            raise ConfigurationError("setting SPECULATIVE_CHANCE must be between 0 and 1", key="SPECULATIVE_CHANCE")
        return cls(
            enabled=read.boolean("SPECULATIVE_ENABLED", d.enabled),
            per_guild_per_hour=int(read.number("SPECULATIVE_PER_GUILD_PER_HOUR", d.per_guild_per_hour)),
            activity_window_hours=read.number("SPECULATIVE_ACTIVITY_WINDOW_HOURS", d.activity_window_hours),
            min_activity_per_hour=read.number("SPECULATIVE_MIN_ACTIVITY_PER_HOUR", d.min_activity_per_hour),
            max_activity_per_hour=read.number("SPECULATIVE_MAX_ACTIVITY_PER_HOUR", d.max_activity_per_hour),
            min_budget=read.number("SPECULATIVE_MIN_BUDGET", d.min_budget),
            bot_quiet_minutes=read.number("SPECULATIVE_BOT_QUIET_MINUTES", d.bot_quiet_minutes),
            first_hour=first,
            last_hour=last,
            chance=chance,
            turn_expiry_seconds=read.number("SCHEDULED_TURN_EXPIRY_SECONDS", d.turn_expiry_seconds),
            allowed_channels=read.id_set("ALLOWED_CHANNELS"),
            denied_channels=read.id_set("DENIED_CHANNELS"),
        )
