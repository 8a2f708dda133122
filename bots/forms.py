"""The admin settings form of a bot, built from its manifest: one control per field type.

Only fields an operator changed become overrides; a blank secret keeps the stored one; the
"remove overrides" checkboxes send a key back to its environment variable or default.
"""

from __future__ import annotations

from typing import Any

from django import forms

from bots.bot_settings import ResolvedSetting
from bots.choices import FieldType
from bots.errors import InvalidSettingValue, SettingResolutionError
from bots.models import Bot
from bots.selectors import GroupedChoices, guild_channel_choices, guild_role_choices
from bots.services import setting_overrides_apply, setting_value_check
from bots.setting_types import SettingField
from dit_project.vault import MASK

RESET_FIELD = "remove-overrides"  # a hyphen cannot appear in a setting key, so no clash
BLANK_CHOICE = ("", "---------")


def _picker_choices(grouped: GroupedChoices, current: object) -> list[Any]:
    choices: list[Any] = [BLANK_CHOICE, *grouped]
    known = {external_id for _, options in grouped for external_id, _ in options}
    if isinstance(current, str) and current and current not in known:
        # Keep a stale id selectable so opening and saving the form does not silently drop it.
        choices.append(("Not in any synced guild", [(current, f"{current} (unknown)")]))
    return choices


def _status_text(setting: SettingField, resolved: ResolvedSetting | None, error: str) -> str:
    if error:
        return f"Current value cannot be used: {error}"
    if resolved is None:
        return ""
    if setting.is_secret:
        state = f"set ({MASK}), from {resolved.source.label.lower()}" if resolved.is_set else "not set"
        return f"Currently {state}. Leave blank to keep it."
    if not resolved.is_set:
        return f"Not set (environment variable {setting.env_var} is also read)."
    return f"Now from {resolved.source.label.lower()}."


def build_form_field(
    setting: SettingField,
    *,
    current: object,
    status: str,
    channel_choices: GroupedChoices,
    role_choices: GroupedChoices,
) -> forms.Field:
    """The form control for one setting: its widget, bounds and choices follow the field type."""
    help_text = " ".join(part for part in (setting.help, status) if part)
    common: dict[str, Any] = {"label": setting.label, "help_text": help_text}
    required = setting.required
    match setting.type:
        case FieldType.NUMBER:
            return forms.FloatField(
                required=required,
                min_value=setting.min,
                max_value=setting.max,
                widget=forms.NumberInput(attrs={"step": "any"}),
                **common,
            )
        case FieldType.BOOLEAN:
            return forms.BooleanField(required=False, **common)
        case FieldType.SELECT:
            options = [(option.value, option.label) for option in setting.options]
            return forms.ChoiceField(
                choices=options if required else [BLANK_CHOICE, *options], required=required, **common
            )
        case FieldType.SECRET:
            return forms.CharField(
                required=False, strip=False, widget=forms.PasswordInput(render_value=False), **common
            )
        case FieldType.DISCORD_CHANNEL | FieldType.DISCORD_ROLE:
            grouped = channel_choices if setting.type == FieldType.DISCORD_CHANNEL else role_choices
            if grouped:
                return forms.ChoiceField(choices=_picker_choices(grouped, current), required=required, **common)
            return forms.CharField(required=required, **common)
        case _:
            return forms.CharField(required=required, strip=False, **common)


class BotSettingsForm(forms.Form):
    """Every setting and credential of a bot's manifest, grouped as the manifest groups them."""

    def __init__(self, *args: Any, bot: Bot, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.bot = bot
        settings = bot.settings
        manifest = bot.manifest
        self.setting_fields = {f.key: f for f in settings.fields}
        channel_choices = guild_channel_choices(bot=bot)
        role_choices = guild_role_choices(bot=bot)

        for setting in settings.fields:
            resolved: ResolvedSetting | None = None
            error = ""
            try:
                resolved = settings.resolve(setting.key)
            except SettingResolutionError as exc:
                error = exc.message
            current = resolved.value if resolved is not None and not setting.is_secret else None
            self.fields[setting.key] = build_form_field(
                setting,
                current=current,
                status=_status_text(setting, resolved, error),
                channel_choices=channel_choices,
                role_choices=role_choices,
            )
            if current is not None:
                self.initial[setting.key] = current

        removable = sorted(key for key in self.setting_fields if settings.has_override(key))
        if removable:
            self.fields[RESET_FIELD] = forms.MultipleChoiceField(
                label="Remove overrides",
                choices=[(key, self.setting_fields[key].label) for key in removable],
                required=False,
                widget=forms.CheckboxSelectMultiple,
                help_text="Checked settings go back to their environment variable or default "
                "(this wins over a new value).",
            )

        groups: list[tuple[str, list[str]]] = []
        if manifest is not None:
            credential_keys = [c.key for c in manifest.credentials]
            if credential_keys:
                groups.append(("Credentials", credential_keys))
            groups.extend((group.label, [f.key for f in group.fields]) for group in manifest.groups)
        if removable:
            groups.append(("Overrides", [RESET_FIELD]))
        self.groups = groups
        self.values: dict[str, object] = {}
        self.cleared: list[str] = []

    def fieldsets(self) -> list[tuple[str, dict[str, Any]]]:
        """Admin fieldsets: credentials, then the manifest's groups, then the override removal box."""
        return [(label, {"fields": keys}) for label, keys in self.groups]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        self.cleared = list(cleaned.get(RESET_FIELD) or [])
        self.values = {}
        for key in self.changed_data:
            if key == RESET_FIELD or key in self.cleared or key not in cleaned:
                continue
            setting = self.setting_fields[key]
            value = cleaned[key]
            if value is None or (value == "" and setting.type != FieldType.STRING):
                # Emptying a number, choice or picker removes the override rather than storing "nothing".
                self.cleared.append(key)
                continue
            try:
                self.values[key] = setting_value_check(bot=self.bot, setting=setting, value=value)
            except InvalidSettingValue as exc:
                self.add_error(key, exc.message.removeprefix(f"{key}: "))
        return cleaned

    def save(self, *, actor: Any) -> list[str]:
        """Write the changed overrides and removals; return the keys touched."""
        return setting_overrides_apply(bot=self.bot, values=self.values, clear=self.cleared, actor=actor)
