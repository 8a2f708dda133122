import json

import pytest

from bots.bot_settings import BotSettings, StoredOverride
from bots.choices import SettingSource
from bots.errors import SettingResolutionError, UnknownSetting
from bots.manifest import parse_manifest
from bots.models import Bot
from bots.tests.factories import BotFactory, SettingOverrideFactory, manifest_data, secret_override
from dit_project.vault import MASK, SecretValue, seal


def _settings(overrides=None, environ=None) -> BotSettings:
    fields = parse_manifest(json.dumps(manifest_data())).setting_fields()
    return BotSettings(fields, overrides or {}, environ if environ is not None else {})


def _revealed(value: object) -> str:
    assert isinstance(value, SecretValue)
    return value.reveal()


def _override(key, value) -> dict[str, StoredOverride]:
    return {key: StoredOverride(key=key, value=value)}


def test_an_admin_override_wins_over_the_environment_and_the_default():
    settings = _settings(overrides=_override("WAIT_MINUTES", 30), environ={"WAIT_MINUTES": "20"})

    resolved = settings.resolve("WAIT_MINUTES")

    assert (resolved.value, resolved.source) == (30, SettingSource.OVERRIDE)


def test_the_environment_variable_named_after_the_key_wins_over_the_default():
    settings = _settings(environ={"WAIT_MINUTES": "20"})

    assert settings["WAIT_MINUTES"] == 20
    assert settings.resolve("WAIT_MINUTES").source == SettingSource.ENVIRONMENT


def test_the_default_applies_when_nothing_else_sets_the_key():
    settings = _settings()

    assert settings.get("WAIT_MINUTES") == 8
    assert settings.resolve("WAIT_MINUTES").source == SettingSource.DEFAULT


@pytest.mark.parametrize(
    ("key", "text", "expected"),
    [
        ("WAIT_MINUTES", "45", 45),
        ("WAIT_MINUTES", " 2.5 ", 2.5),
        ("LOUD", "true", True),
        ("LOUD", "Yes", True),
        ("LOUD", "0", False),
        ("LOUD", "off", False),
        ("MOOD", "lively", "lively"),
        ("GREETING", "  spaced  ", "  spaced  "),
        ("LOG_CHANNEL", "123456789012345678", "123456789012345678"),
    ],
)
def test_environment_values_are_coerced_to_the_field_type(key, text, expected):
    value = _settings(environ={key: text})[key]

    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    ("key", "text", "problem"),
    [
        ("WAIT_MINUTES", "soon", "'soon' is not a number"),
        ("WAIT_MINUTES", "500", "500 is above the maximum 120"),
        ("WAIT_MINUTES", "inf", "expected a finite number"),
        ("LOUD", "maybe", "'maybe' is not a boolean"),
        ("MOOD", "grumpy", "'grumpy' is not one of the options: calm, lively"),
        ("LOG_CHANNEL", "general chat", "'general chat' is not a channel id"),
    ],
)
def test_a_bad_environment_value_is_an_error_naming_the_key_and_the_variable(key, text, problem):
    settings = _settings(environ={key: text})

    with pytest.raises(SettingResolutionError) as caught:
        settings.get(key)

    assert caught.value.message.startswith(f"Environment variable {key} (setting {key!r}) is invalid: {problem}")
    assert caught.value.extra == {"key": key, "env_var": key}


def test_an_empty_environment_variable_leaves_a_number_unset_but_sets_a_string():
    settings = _settings(environ={"WAIT_MINUTES": "", "GREETING": ""})

    assert settings.resolve("WAIT_MINUTES").source == SettingSource.DEFAULT
    assert settings["GREETING"] == ""
    assert settings.resolve("GREETING").source == SettingSource.ENVIRONMENT


def test_an_override_that_no_longer_fits_the_field_is_an_error_naming_the_key():
    settings = _settings(overrides=_override("WAIT_MINUTES", "eight"))

    with pytest.raises(SettingResolutionError, match="The admin override of setting 'WAIT_MINUTES' is no longer valid"):
        settings.resolve("WAIT_MINUTES")


def test_membership_means_the_key_is_declared_and_has_a_value():
    settings = _settings()

    assert "WAIT_MINUTES" in settings
    assert "LOG_CHANNEL" not in settings  # declared, but nothing sets it
    assert "NOT_DECLARED" not in settings


def test_indexing_an_unset_or_unknown_key_raises_key_error():
    settings = _settings()

    with pytest.raises(KeyError, match="has no value"):
        settings["LOG_CHANNEL"]
    with pytest.raises(KeyError, match="declares no setting"):
        settings["NOT_DECLARED"]


def test_get_returns_the_callers_default_for_unknown_and_unset_keys():
    settings = _settings()

    assert settings.get("NOT_DECLARED", "fallback") == "fallback"
    assert settings.get("LOG_CHANNEL", "fallback") == "fallback"
    assert settings.get("LOG_CHANNEL") is None


def test_resolve_of_an_undeclared_key_raises_unknown_setting():
    with pytest.raises(UnknownSetting):
        _settings().resolve("NOT_DECLARED")


def test_a_secret_comes_back_wrapped_so_it_prints_as_the_mask():
    settings = _settings(environ={"API_SECRET": "s3cr3t-value"})

    value = settings["API_SECRET"]

    assert isinstance(value, SecretValue)
    assert value.reveal() == "s3cr3t-value"
    assert str(value) == MASK
    assert "s3cr3t-value" not in repr(value)
    assert "s3cr3t-value" not in f"{value} {value!r}"
    assert settings.resolve("API_SECRET").display == MASK
    assert settings.resolve("API_SECRET").public_value == MASK


def test_credentials_resolve_from_an_override_then_the_environment():
    from_env = _settings(environ={"DISCORD_TOKEN": "env-token"})
    sealed = StoredOverride(key="DISCORD_TOKEN", value=None, sealed=seal("admin-token"), is_secret=True)
    from_override = _settings(overrides={"DISCORD_TOKEN": sealed}, environ={"DISCORD_TOKEN": "env-token"})

    assert _revealed(from_env["DISCORD_TOKEN"]) == "env-token"
    assert _revealed(from_override["DISCORD_TOKEN"]) == "admin-token"
    assert from_override.resolve("DISCORD_TOKEN").source == SettingSource.OVERRIDE


def test_an_empty_settings_view_is_usable():
    settings = BotSettings()

    assert settings.keys() == []
    assert settings.get("ANYTHING", 3) == 3
    assert "ANYTHING" not in settings
    assert settings.resolve_all() == []


@pytest.mark.django_db
def test_a_bot_with_no_manifest_still_gets_an_empty_usable_settings_view():
    bot = BotFactory.create()

    assert bot.settings.keys() == []
    assert bot.settings.get("WAIT_MINUTES", 8) == 8


@pytest.mark.django_db
def test_bot_settings_read_overrides_from_the_database_and_decrypt_secrets(monkeypatch):
    bot = BotFactory.create(manifest=True)
    SettingOverrideFactory.create(bot=bot, key="GREETING", value="howdy")
    secret_override(bot=bot, key="API_SECRET", plain="db-secret")
    monkeypatch.setenv("WAIT_MINUTES", "12")

    settings = Bot.objects.get(pk=bot.pk).settings

    assert settings["GREETING"] == "howdy"
    assert _revealed(settings["API_SECRET"]) == "db-secret"
    assert settings["WAIT_MINUTES"] == 12
    assert settings["LOUD"] is False
