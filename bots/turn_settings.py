"""Typed settings of the turns the reactor starts: self-followups and speculative turns.

Their keys are declared once, with their defaults and ranges, in the host's standard settings groups
(`bots/host/settings.json`, groups "followups" and "speculative"); each resolves like every bot setting
(admin override, then the environment variable of its name, then that default). A bad value raises
naming the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from bots.bot_settings import BotSettings
from bots.host.config import read_declared
from dit_project.errors import ConfigurationError


def _id_set(value: Any) -> frozenset[str]:
    return frozenset(item.strip() for item in str(value or "").split(",") if item.strip())


@dataclass(frozen=True, slots=True)
class FollowupConfig:
    """When a pending self-followup fires, waits, is downgraded or is aborted."""

    enabled: bool
    mid_thought_seconds: float
    defer_seconds: float
    max_defers: int
    off_topic_messages: int
    on_topic_share: float
    callback_min_seconds: int
    callback_max_seconds: int
    turn_expiry_seconds: float

    @classmethod
    def from_settings(cls, settings: BotSettings, environ: Mapping[str, str] | None = None) -> FollowupConfig:
        """Read the FOLLOWUP_* keys of a bot."""
        return cls.build(**_followup_values(read_declared(settings, environ, _FOLLOWUP_KEYS.values())))

    @classmethod
    def build(cls, **values: Any) -> FollowupConfig:
        """A config from the declared defaults with some values replaced (`enabled=False`)."""
        declared = _followup_values(read_declared(BotSettings(), {}, _FOLLOWUP_KEYS.values()))
        unknown = sorted(set(values) - set(declared))
        if unknown:
            raise ConfigurationError(f"unknown follow-up settings: {', '.join(unknown)}", key=unknown[0])
        config = cls(**{**declared, **values})
        if not 0 <= config.callback_min_seconds <= config.callback_max_seconds:
            raise ConfigurationError(
                "FOLLOWUP_CALLBACK_MIN_SECONDS must be between 0 and FOLLOWUP_CALLBACK_MAX_SECONDS",
                key="FOLLOWUP_CALLBACK_MIN_SECONDS",
            )
        return config


_FOLLOWUP_KEYS = {
    "enabled": "FOLLOWUP_ENABLED",
    "mid_thought_seconds": "FOLLOWUP_MID_THOUGHT_SECONDS",
    "defer_seconds": "FOLLOWUP_DEFER_SECONDS",
    "max_defers": "FOLLOWUP_MAX_DEFERS",
    "off_topic_messages": "FOLLOWUP_OFF_TOPIC_MESSAGES",
    "on_topic_share": "FOLLOWUP_ON_TOPIC_SHARE",
    "callback_min_seconds": "FOLLOWUP_CALLBACK_MIN_SECONDS",
    "callback_max_seconds": "FOLLOWUP_CALLBACK_MAX_SECONDS",
    "turn_expiry_seconds": "SCHEDULED_TURN_EXPIRY_SECONDS",
}
_INTEGERS = {"max_defers", "off_topic_messages", "callback_min_seconds", "callback_max_seconds", "per_guild_per_hour"}


def _followup_values(read: Mapping[str, Any]) -> dict[str, Any]:
    values = {name: read[key] for name, key in _FOLLOWUP_KEYS.items()}
    return {name: int(value) if name in _INTEGERS else value for name, value in values.items()}


@dataclass(frozen=True, slots=True)
class SpeculativeConfig:
    """When a quiet channel may get an unprompted turn."""

    enabled: bool
    per_guild_per_hour: int
    activity_window_hours: float
    min_activity_per_hour: float
    max_activity_per_hour: float
    min_budget: float
    bot_quiet_minutes: float
    first_hour: int
    last_hour: int
    chance: float
    turn_expiry_seconds: float
    allowed_channels: frozenset[str]
    denied_channels: frozenset[str]

    @classmethod
    def from_settings(cls, settings: BotSettings, environ: Mapping[str, str] | None = None) -> SpeculativeConfig:
        """Read the SPECULATIVE_* keys of a bot, and its channel allow and deny lists."""
        return cls(**_speculative_values(read_declared(settings, environ, _SPECULATIVE_KEYS)))

    @classmethod
    def build(cls, **values: Any) -> SpeculativeConfig:
        """A config from the declared defaults with some values replaced (`chance=1.0`)."""
        declared = _speculative_values(read_declared(BotSettings(), {}, _SPECULATIVE_KEYS))
        unknown = sorted(set(values) - {f.name for f in fields(cls)})
        if unknown:
            raise ConfigurationError(f"unknown speculative settings: {', '.join(unknown)}", key=unknown[0])
        return cls(**{**declared, **values})


_SPECULATIVE_KEYS = (
    "SPECULATIVE_ENABLED",
    "SPECULATIVE_PER_GUILD_PER_HOUR",
    "SPECULATIVE_ACTIVITY_WINDOW_HOURS",
    "SPECULATIVE_MIN_ACTIVITY_PER_HOUR",
    "SPECULATIVE_MAX_ACTIVITY_PER_HOUR",
    "SPECULATIVE_MIN_BUDGET",
    "SPECULATIVE_BOT_QUIET_MINUTES",
    "SPECULATIVE_HOURS",
    "SPECULATIVE_CHANCE",
    "SCHEDULED_TURN_EXPIRY_SECONDS",
    "ALLOWED_CHANNELS",
    "DENIED_CHANNELS",
)


def _speculative_values(read: Mapping[str, Any]) -> dict[str, Any]:
    hours = str(read["SPECULATIVE_HOURS"] or "")
    try:
        first, last = (int(part) for part in hours.split("-", 1))
    except ValueError:
        raise ConfigurationError(
            f"setting SPECULATIVE_HOURS must look like 9-23 (local hours, first to last), got {hours!r}",
            key="SPECULATIVE_HOURS",
        ) from None
    if not (0 <= first <= 23 and 0 <= last <= 23):
        raise ConfigurationError("setting SPECULATIVE_HOURS takes hours 0 to 23", key="SPECULATIVE_HOURS")
    return {
        "enabled": read["SPECULATIVE_ENABLED"],
        "per_guild_per_hour": int(read["SPECULATIVE_PER_GUILD_PER_HOUR"]),
        "activity_window_hours": read["SPECULATIVE_ACTIVITY_WINDOW_HOURS"],
        "min_activity_per_hour": read["SPECULATIVE_MIN_ACTIVITY_PER_HOUR"],
        "max_activity_per_hour": read["SPECULATIVE_MAX_ACTIVITY_PER_HOUR"],
        "min_budget": read["SPECULATIVE_MIN_BUDGET"],
        "bot_quiet_minutes": read["SPECULATIVE_BOT_QUIET_MINUTES"],
        "first_hour": first,
        "last_hour": last,
        "chance": read["SPECULATIVE_CHANCE"],
        "turn_expiry_seconds": read["SCHEDULED_TURN_EXPIRY_SECONDS"],
        "allowed_channels": _id_set(read["ALLOWED_CHANNELS"]),
        "denied_channels": _id_set(read["DENIED_CHANNELS"]),
    }
