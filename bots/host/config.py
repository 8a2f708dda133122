"""The host's knobs, read once from the bot's typed settings (admin override, then environment, then default).

Every key and its default is stated once, in the host's standard settings groups (`bots/host/settings.json`),
which a manifest takes with `"settings": {"include": ["host"]}`. A bot whose manifest does not include them
still resolves each key from the environment variable of the same name, then from that file's default, so
an older manifest keeps working and tests can point a bot at a local Discord with `DISCORD_API_BASE` and
`DISCORD_GATEWAY_URL` alone. Ranges (`min`, `max`) come from the same declarations, so a bad value is refused
naming its key wherever it was set.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from bots.bot_settings import BotSettings
from bots.errors import SettingResolutionError
from bots.host.errors import HostConfigurationError
from bots.manifest import standard_fields
from bots.setting_types import SettingField, SettingValue
from dispositions.specs import RouterConfig

HOST_GROUP = "host"


@dataclass(frozen=True, slots=True)
class HostConfig:
    """Everything the host reads from settings, typed and checked; one field per key of the host's settings."""

    address_on_everyone: bool
    address_on_role_ping: bool
    require_mention: bool
    late_address_minutes: float
    fragment_window_seconds: float
    fragment_max_seconds: float
    recheck_stale_messages: int
    allowed_bots: frozenset[str]
    bot_reply_chain_max: int
    bot_replies_per_minute: int
    bot_cooldown_seconds: float
    mute_minutes: float
    mute_phrases: tuple[str, ...]
    mute_classifier: bool
    mute_max_words: int
    mute_request_max_words: int
    question_wait_seconds: float
    question_stale_minutes: float
    register_classifier: bool
    flood_messages: int
    flood_seconds: float
    mass_mentions: int
    allowed_channels: frozenset[str]
    denied_channels: frozenset[str]
    mod_channel: str
    persona: str
    drain_grace_seconds: float
    discord_api_base: str
    discord_gateway_url: str
    catchup_max_age_seconds: float
    catchup_limit: int
    discord_guild_ready_timeout: float
    discord_identify_delay: float
    startup_retry_base_seconds: float
    startup_retry_max_seconds: float
    research_subagent_timeout_seconds: float
    research_deadline_seconds: float
    task_workers: bool
    task_max_steps: int
    task_max_seconds: float
    task_max_cost_usd: float
    router: RouterConfig

    def __post_init__(self) -> None:
        if self.fragment_max_seconds < self.fragment_window_seconds:
            raise HostConfigurationError(
                "FRAGMENT_MAX_SECONDS must not be below FRAGMENT_WINDOW_SECONDS "
                f"({self.fragment_max_seconds} < {self.fragment_window_seconds})",
                key="FRAGMENT_MAX_SECONDS",
            )
        if self.startup_retry_max_seconds < self.startup_retry_base_seconds:
            raise HostConfigurationError(
                "STARTUP_RETRY_BASE_SECONDS must be at most STARTUP_RETRY_MAX_SECONDS",
                key="STARTUP_RETRY_BASE_SECONDS",
            )

    @classmethod
    def from_settings(cls, settings: BotSettings, environ: Mapping[str, str] | None = None) -> HostConfig:
        """Read every host key from a bot's settings; a bad value raises naming the key."""
        read = _Reader(settings, os.environ if environ is None else environ)
        return cls.build(**{name: read.value(key) for name, key in _KEYS.items()}, router=read.router())

    @classmethod
    def build(cls, **values: Any) -> HostConfig:
        """A config from the declared defaults with some values replaced (`mute_minutes=5`), each range-checked."""
        unknown = sorted(set(values) - set(_KEYS) - {"router", *_ROUTER_KEYS_BY_NAME})
        if unknown:
            raise HostConfigurationError(f"unknown host settings: {', '.join(unknown)}", key=unknown[0])
        defaults = _declared_fields()
        typed: dict[str, Any] = {}
        for name, key in _KEYS.items():
            setting = defaults[key]
            raw = values.get(name)
            typed[name] = _typed(name, setting, setting.default if raw is None else raw)
        router = values.get("router")
        if not isinstance(router, RouterConfig):
            router = _router_config(
                temperature=values.get("router_temperature"),
                tiebreak=values.get("router_tiebreak"),
                off_axis_rate=values.get("router_off_axis_rate"),
            )
        return cls(**typed, router=router)


# HostConfig field name -> settings key, for every field but the router's.
_KEYS: dict[str, str] = {f.name: f.name.upper() for f in fields(HostConfig) if f.name != "router"}
_ROUTER_KEYS = {
    "ROUTER_TEMPERATURE": "temperature",
    "ROUTER_TIEBREAK": "tiebreak",
    "ROUTER_OFF_AXIS_RATE": "off_axis_rate",
}
_ROUTER_KEYS_BY_NAME = {key.lower() for key in _ROUTER_KEYS}


def _declared_fields() -> dict[str, SettingField]:
    declared = {setting.key: setting for setting in standard_fields(HOST_GROUP)}
    missing = sorted(set(_KEYS.values()) - set(declared))
    if missing:
        raise HostConfigurationError(f"bots/host/settings.json declares no {', '.join(missing)}", key=missing[0])
    return declared


def _typed(name: str, setting: SettingField, raw: Any) -> Any:
    """A setting's value as the HostConfig field wants it, checked against the declared range."""
    key = setting.key
    annotation = HostConfig.__dataclass_fields__[name].type
    if raw is None:
        raw = ""
    if annotation in ("frozenset[str]", "tuple[str, ...]"):
        items = _id_list(raw)
        if key == "MUTE_PHRASES":
            return tuple(item.lower() for item in items)
        return frozenset(items) if annotation == "frozenset[str]" else tuple(items)
    if annotation == "str":
        return str(raw).strip()
    if annotation == "bool":
        if not isinstance(raw, bool):
            raise HostConfigurationError(f"setting {key} must be true or false, got {raw!r}", key=key)
        return raw
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise HostConfigurationError(f"setting {key} must be a number, got {raw!r}", key=key)
    if setting.min is not None and raw < setting.min:
        raise HostConfigurationError(f"setting {key} must be at least {setting.min}, got {raw}", key=key)
    if setting.max is not None and raw > setting.max:
        raise HostConfigurationError(f"setting {key} must be at most {setting.max}, got {raw}", key=key)
    return int(raw) if annotation == "int" else float(raw)


def _id_list(raw: Any) -> list[str]:
    """A comma-separated list (or a collection of strings), items stripped, empty items dropped."""
    items = [str(item) for item in raw] if isinstance(raw, set | frozenset | tuple | list) else str(raw).split(",")
    return [item.strip() for item in items if item.strip()]


def _router_config(*, temperature: Any, tiebreak: Any, off_axis_rate: Any) -> RouterConfig:
    """The router's knobs from its three settings; an unset one keeps the router's own default."""
    given = {"temperature": temperature, "tiebreak_enabled": tiebreak, "off_axis_rate": off_axis_rate}
    try:
        return RouterConfig(**{name: value for name, value in given.items() if value is not None})
    except ValueError as exc:
        key = "ROUTER_OFF_AXIS_RATE" if "off_axis_rate" in str(exc) else "ROUTER_TEMPERATURE"
        raise HostConfigurationError(f"router settings are invalid: {exc}", key=key) from None


def read_declared(
    settings: BotSettings, environ: Mapping[str, str] | None, keys: Iterable[str]
) -> dict[str, SettingValue | None]:
    """Values of keys declared in the host's settings groups, read like `HostConfig.from_settings` reads its own."""
    read = _Reader(settings, os.environ if environ is None else environ)
    return {key: read.value(key) for key in keys}


class _Reader:
    """Typed reads: the bot's settings view for declared keys, else the declared field against the environment."""

    def __init__(self, settings: BotSettings, environ: Mapping[str, str]) -> None:
        self._settings = settings
        self._fallback = BotSettings(standard_fields(HOST_GROUP), environ=environ)

    def value(self, key: str) -> SettingValue | None:
        view = self._settings if self._settings.declares(key) else self._fallback
        try:
            resolved = view.resolve(key)
        except SettingResolutionError as exc:
            raise HostConfigurationError(exc.message, key=key) from None
        value = resolved.value
        return None if value is None or not isinstance(value, str | int | float | bool) else value

    def router(self) -> RouterConfig:
        values = {name: self.value(key) for key, name in _ROUTER_KEYS.items()}
        return _router_config(**values)
