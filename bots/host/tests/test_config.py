"""The host's settings, read once from the bot's typed settings."""

from __future__ import annotations

import pytest

from bots.bot_settings import BotSettings
from bots.choices import FieldType
from bots.host.config import HostConfig
from bots.host.errors import HostConfigurationError
from bots.setting_types import SettingField


def test_host_config_reads_declared_settings_then_the_environment_then_defaults():
    fields = [SettingField(key="FRAGMENT_WINDOW_SECONDS", type=FieldType.NUMBER, label="w", group="g", default=1)]
    config = HostConfig.from_settings(
        BotSettings(fields, environ={}), environ={"ALLOWED_BOTS": "5, 6", "MUTE_MINUTES": "15"}
    )
    assert config.fragment_window_seconds == 1.0
    assert config.allowed_bots == frozenset({"5", "6"})
    assert config.mute_minutes == 15.0
    assert config.bot_reply_chain_max == 3


def test_host_config_names_the_key_of_a_bad_value():
    with pytest.raises(HostConfigurationError, match="REQUIRE_MENTION"):
        HostConfig.from_settings(BotSettings((), environ={}), environ={"REQUIRE_MENTION": "maybe"})


@pytest.mark.parametrize(
    ("environ", "key"),
    [({"ROUTER_OFF_AXIS_RATE": "5"}, "ROUTER_OFF_AXIS_RATE"), ({"ROUTER_TEMPERATURE": "-1"}, "ROUTER_TEMPERATURE")],
)
def test_a_bad_router_setting_is_reported_under_its_own_key(environ, key):
    with pytest.raises(HostConfigurationError) as caught:
        HostConfig.from_settings(BotSettings((), environ={}), environ=environ)

    assert caught.value.extra["key"] == key


@pytest.mark.parametrize(
    ("values", "key"),
    [
        ({"catchup_limit": 500}, "CATCHUP_LIMIT"),
        ({"fragment_window_seconds": -1}, "FRAGMENT_WINDOW_SECONDS"),
        ({"mute_max_words": 0}, "MUTE_MAX_WORDS"),
        ({"recheck_stale_messages": 0}, "RECHECK_STALE_MESSAGES"),
        ({"late_address_minutes": 1e9}, "LATE_ADDRESS_MINUTES"),
    ],
)
def test_numeric_host_settings_are_range_checked_naming_their_key(values, key):
    with pytest.raises(HostConfigurationError) as caught:
        HostConfig.build(**values)

    assert caught.value.extra["key"] == key


def test_an_out_of_range_environment_value_is_refused_naming_the_variable():
    with pytest.raises(HostConfigurationError) as caught:
        HostConfig.from_settings(BotSettings((), environ={}), environ={"CATCHUP_LIMIT": "500"})

    assert caught.value.extra["key"] == "CATCHUP_LIMIT"
    assert "above the maximum 100" in caught.value.message


def test_every_host_setting_has_one_declaration_and_the_config_has_no_defaults_of_its_own():
    from dataclasses import MISSING, fields

    from bots.manifest import standard_fields

    declared = [f.key for f in standard_fields("host")]
    assert len(declared) == len(set(declared))
    assert all(f.default is MISSING for f in fields(HostConfig))
    assert {f.name.upper() for f in fields(HostConfig) if f.name != "router"} <= set(declared)
