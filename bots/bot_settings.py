"""The typed settings view a bot reads (`bot.settings`).

Each key resolves, in order, from an admin override, then the environment variable named after the key,
then the manifest default; the value is coerced and validated by the field's type every time, so a
manifest change or a bad environment variable surfaces as an error naming the key, not as a wrong value.
Secret values come back as `SecretValue`, which prints as the mask.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bots.choices import SettingSource
from bots.errors import SettingResolutionError, UnknownSetting
from bots.setting_types import SettingField, SettingValue, ValueRejected, coerce_value, parse_text
from dit_project.vault import MASK, SecretValue, unseal

UNSET_DISPLAY = "(unset)"

ResolvedValue = SettingValue | SecretValue


@dataclass(frozen=True)
class StoredOverride:
    """An admin override as stored: a JSON value, or for secrets an encrypted token."""

    key: str
    value: object
    sealed: str = ""
    is_secret: bool = False

    def plain(self) -> object:
        """The override's value, decrypted when it is a secret."""
        if self.is_secret:
            return unseal(self.sealed, name=self.key)
        return self.value


@dataclass(frozen=True)
class ResolvedSetting:
    """One setting's effective value and where it came from."""

    field: SettingField
    value: ResolvedValue | None
    source: SettingSource

    @property
    def is_set(self) -> bool:
        """True when some source gave a value."""
        return self.value is not None

    @property
    def is_secret(self) -> bool:
        """Secret settings are shown only as the mask."""
        return self.field.is_secret or isinstance(self.value, SecretValue)

    @property
    def display(self) -> str:
        """The value as text safe for logs and screens: secrets masked, unset spelled out."""
        if self.value is None:
            return UNSET_DISPLAY
        if self.is_secret:
            return MASK
        if isinstance(self.value, bool):
            return "true" if self.value else "false"
        return str(self.value)

    @property
    def public_value(self) -> SettingValue | None:
        """The JSON value safe to serialize: the mask for a secret that is set."""
        if self.value is None:
            return None
        if isinstance(self.value, SecretValue) or self.field.is_secret:
            return MASK
        return self.value


class BotSettings:
    """Typed, read-only settings of one bot: `get(key, default)`, `key in settings`, `settings[key]`."""

    def __init__(
        self,
        fields: Sequence[SettingField] = (),
        overrides: Mapping[str, StoredOverride] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._fields = {f.key: f for f in fields}
        self._overrides = dict(overrides or {})
        self._environ = os.environ if environ is None else environ

    @property
    def fields(self) -> tuple[SettingField, ...]:
        """Every declared field, credentials first, in manifest order."""
        return tuple(self._fields.values())

    def keys(self) -> list[str]:
        """The declared keys, set or not."""
        return list(self._fields)

    def declares(self, key: str) -> bool:
        """True when the manifest declares `key` (whether or not anything sets it)."""
        return key in self._fields

    def has_override(self, key: str) -> bool:
        """True when an admin override of `key` is stored, whether or not it still resolves."""
        return key in self._overrides

    def field(self, key: str) -> SettingField:
        """The declaration of one key; UnknownSetting when the manifest has no such key."""
        try:
            return self._fields[key]
        except KeyError:
            raise UnknownSetting(f"The manifest declares no setting or credential {key!r}", key=key) from None

    def resolve(self, key: str) -> ResolvedSetting:
        """Resolve one key: admin override, then environment variable, then default."""
        setting = self.field(key)
        override = self._overrides.get(key)
        if override is not None:
            try:
                value = coerce_value(setting, override.plain())
            except ValueRejected as exc:
                raise SettingResolutionError(
                    f"The admin override of setting {key!r} is no longer valid: {exc.message}; "
                    "save a new value or remove the override",
                    key=key,
                ) from None
            return ResolvedSetting(setting, _wrap(setting, value), SettingSource.OVERRIDE)

        text = self._environ.get(setting.env_var)
        if text is not None:
            try:
                parsed = parse_text(setting, text)
            except ValueRejected as exc:
                raise SettingResolutionError(
                    f"Environment variable {setting.env_var} (setting {key!r}) is invalid: {exc.message}",
                    key=key,
                    env_var=setting.env_var,
                ) from None
            if parsed is not None:
                return ResolvedSetting(setting, _wrap(setting, parsed), SettingSource.ENVIRONMENT)

        if setting.default is not None:
            return ResolvedSetting(setting, setting.default, SettingSource.DEFAULT)
        return ResolvedSetting(setting, None, SettingSource.UNSET)

    def resolve_all(self) -> list[ResolvedSetting]:
        """Every declared key resolved, in declaration order; the first bad value raises."""
        return [self.resolve(key) for key in self._fields]

    def get(self, key: str, default: object = None) -> object:
        """The value of `key`, or `default` when the key is unknown or unset."""
        if key not in self._fields:
            return default
        resolved = self.resolve(key)
        return default if resolved.value is None else resolved.value

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key in self._fields and self.resolve(key).is_set

    def __getitem__(self, key: str) -> ResolvedValue:
        if key not in self._fields:
            raise KeyError(f"the manifest declares no setting {key!r}")
        value = self.resolve(key).value
        if value is None:
            raise KeyError(f"setting {key!r} has no value (no override, no {key} environment variable, no default)")
        return value

    def __repr__(self) -> str:
        return f"<BotSettings {len(self._fields)} fields>"


def _wrap(setting: SettingField, value: SettingValue) -> ResolvedValue:
    if setting.is_secret and isinstance(value, str):
        return SecretValue(value)
    return value
