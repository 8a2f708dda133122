import json
import logging
from unittest import mock

import pytest
from django.db import DatabaseError

from bots.choices import ChannelKind
from bots.errors import BotAlreadyExists, InvalidSettingValue, ManifestInvalid, UnknownSetting
from bots.manifest import parse_manifest
from bots.models import Bot, BotManifest, GuildChannel, GuildRole, SettingOverride
from bots.services import (
    ChannelSnapshot,
    RoleSnapshot,
    bot_create,
    guild_sync,
    manifest_load,
    manifest_load_file,
    setting_override_clear,
    setting_override_set,
    setting_overrides_apply,
)
from bots.tests.factories import BotFactory, GuildChannelFactory, GuildFactory, SettingOverrideFactory, manifest_data
from dit_project.vault import unseal


def _current(bot: Bot) -> BotManifest:
    assert bot.current_manifest is not None
    return bot.current_manifest


pytestmark = pytest.mark.django_db


def _write(tmp_path, data, name="dit.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data) if isinstance(data, dict) else data)
    return path


def test_loading_a_new_manifest_creates_the_bot_with_version_one(tmp_path):
    result = manifest_load_file(path=_write(tmp_path, manifest_data(slug="fresh", name="Fresh")))

    bot = Bot.objects.get(slug="fresh")
    assert result.bot_created
    assert result.version_added
    assert (bot.name, bot.version, _current(bot).version) == ("Fresh", "1.0.0", 1)
    assert _current(bot).source == str(tmp_path / "dit.json")


def test_loading_an_identical_manifest_is_a_no_op(tmp_path):
    path = _write(tmp_path, manifest_data(slug="same"))
    manifest_load_file(path=path)
    before = Bot.objects.get(slug="same")

    # Same content, other spacing and key order: still identical.
    _write(tmp_path, json.dumps(dict(reversed(list(manifest_data(slug="same").items()))), indent=8))
    result = manifest_load_file(path=path)

    after = Bot.objects.get(slug="same")
    assert not result.version_added
    assert not result.bot_created
    assert BotManifest.objects.filter(bot=after).count() == 1
    assert after.updated_at == before.updated_at


def test_loading_a_changed_manifest_adds_a_version_and_keeps_the_old_one(tmp_path):
    path = _write(tmp_path, manifest_data(slug="grow", version="1.0.0"))
    manifest_load_file(path=path)
    _write(tmp_path, manifest_data(slug="grow", name="Grown", version="1.1.0"))

    result = manifest_load_file(path=path)

    bot = Bot.objects.get(slug="grow")
    versions = list(bot.manifests.order_by("version").values_list("version", "content__bot__version"))
    assert versions == [(1, "1.0.0"), (2, "1.1.0")]
    assert result.version_added
    assert (_current(bot).version, bot.name, bot.version) == (2, "Grown", "1.1.0")


def test_going_back_to_an_earlier_manifest_is_a_new_version(tmp_path):
    first, second = manifest_data(slug="flip"), manifest_data(slug="flip", version="2.0.0")
    for data in (first, second, first):
        manifest_load(manifest=parse_manifest(json.dumps(data)))

    bot = Bot.objects.get(slug="flip")
    assert _current(bot).version == 3
    assert _current(bot).content == first


def test_an_invalid_manifest_changes_nothing(tmp_path):
    path = _write(tmp_path, manifest_data(slug="steady"))
    manifest_load_file(path=path)
    broken = manifest_data(slug="steady", name="Renamed")
    broken["settings"]["groups"][0]["fields"][0]["type"] = "colour"
    _write(tmp_path, broken)

    with pytest.raises(ManifestInvalid):
        manifest_load_file(path=path)

    bot = Bot.objects.get(slug="steady")
    assert bot.name == "Test Bot"
    assert bot.manifests.count() == 1


def test_a_failure_while_writing_the_new_version_rolls_the_whole_load_back(tmp_path):
    path = _write(tmp_path, manifest_data(slug="atomic"))
    manifest_load_file(path=path)
    _write(tmp_path, manifest_data(slug="atomic", name="Half Written", version="9.9.9"))

    with (
        mock.patch.object(Bot, "save", side_effect=DatabaseError("disk full")),
        pytest.raises(DatabaseError),
    ):
        manifest_load_file(path=path)

    bot = Bot.objects.get(slug="atomic")
    assert (bot.name, bot.version, _current(bot).version) == ("Test Bot", "1.0.0", 1)
    assert bot.manifests.count() == 1


def test_a_first_load_that_fails_leaves_no_bot_behind(tmp_path):
    path = _write(tmp_path, manifest_data(slug="ghost"))

    with (
        mock.patch.object(BotManifest.objects, "create", side_effect=DatabaseError("disk full")),
        pytest.raises(DatabaseError),
    ):
        manifest_load_file(path=path)

    assert not Bot.objects.filter(slug="ghost").exists()


def test_creating_a_bot_with_a_taken_slug_is_a_conflict():
    BotFactory.create(slug="taken")

    with pytest.raises(BotAlreadyExists) as caught:
        bot_create(slug="taken", name="Again")

    assert caught.value.status == 409


def test_an_override_is_validated_by_the_field_type():
    bot = BotFactory.create(manifest=True)

    with pytest.raises(InvalidSettingValue, match="WAIT_MINUTES: 500 is above the maximum 120"):
        setting_override_set(bot=bot, key="WAIT_MINUTES", value=500)

    assert not SettingOverride.objects.filter(bot=bot).exists()


def test_an_override_of_an_undeclared_key_is_refused():
    bot = BotFactory.create(manifest=True)

    with pytest.raises(UnknownSetting):
        setting_override_set(bot=bot, key="NOPE", value="x")


def test_a_secret_override_is_stored_encrypted_and_never_logged(caplog, owner):
    bot = BotFactory.create(manifest=True)
    caplog.set_level(logging.DEBUG)

    setting_override_set(bot=bot, key="API_SECRET", value="plain-secret-value", actor=owner)

    row = SettingOverride.objects.get(bot=bot, key="API_SECRET")
    assert row.is_secret
    assert row.value is None
    assert "plain-secret-value" not in row.sealed_value
    assert unseal(row.sealed_value, name="API_SECRET") == "plain-secret-value"
    assert "API_SECRET" in caplog.text
    assert "plain-secret-value" not in caplog.text


def test_saving_an_override_again_replaces_it():
    bot = BotFactory.create(manifest=True)
    setting_override_set(bot=bot, key="GREETING", value="one")

    setting_override_set(bot=bot, key="GREETING", value="two")

    assert list(SettingOverride.objects.filter(bot=bot).values_list("value", flat=True)) == ["two"]


def test_clearing_an_override_returns_the_key_to_its_default():
    bot = BotFactory.create(manifest=True)
    setting_override_set(bot=bot, key="WAIT_MINUTES", value=30)

    assert setting_override_clear(bot=bot, key="WAIT_MINUTES") is True

    assert bot.settings["WAIT_MINUTES"] == 8
    assert setting_override_clear(bot=bot, key="WAIT_MINUTES") is False


def test_applying_several_overrides_writes_none_when_one_is_invalid():
    bot = BotFactory.create(manifest=True)
    SettingOverrideFactory.create(bot=bot, key="GREETING", value="kept")

    with pytest.raises(InvalidSettingValue):
        setting_overrides_apply(bot=bot, values={"LOUD": True, "MOOD": "grumpy"}, clear=["GREETING"])

    assert list(SettingOverride.objects.filter(bot=bot).values_list("key", "value")) == [("GREETING", "kept")]


def test_a_channel_setting_must_name_a_synced_channel_once_guild_data_exists():
    bot = BotFactory.create(manifest=True)
    setting_override_set(bot=bot, key="LOG_CHANNEL", value="123")  # nothing synced yet: any id is taken
    channel = GuildChannelFactory.create(guild=GuildFactory.create(bot=bot))

    with pytest.raises(InvalidSettingValue, match="no channel with id '456' in the bot's guilds"):
        setting_override_set(bot=bot, key="LOG_CHANNEL", value="456")
    setting_override_set(bot=bot, key="LOG_CHANNEL", value=channel.external_id)

    assert bot.settings["LOG_CHANNEL"] == channel.external_id


def test_guild_sync_upserts_channels_and_roles_and_removes_vanished_ones():
    bot = BotFactory.create()
    guild_sync(
        bot_id=bot.pk,
        external_id="g1",
        name="Old name",
        channels=[ChannelSnapshot("c1", "general"), ChannelSnapshot("c2", "random")],
        roles=[RoleSnapshot("r1", "mods")],
    )

    guild = guild_sync(
        bot_id=bot.pk,
        external_id="g1",
        name="New name",
        channels=[ChannelSnapshot("c1", "lobby"), ChannelSnapshot("c3", "Voice", ChannelKind.VOICE)],
        roles=[RoleSnapshot("r1", "moderators"), RoleSnapshot("r2", "members"), RoleSnapshot("r2", "members")],
    )

    guild.refresh_from_db()
    assert guild.name == "New name"
    assert sorted(GuildChannel.objects.filter(guild=guild).values_list("external_id", "name", "kind")) == [
        ("c1", "lobby", "text"),
        ("c3", "Voice", "voice"),
    ]
    assert sorted(GuildRole.objects.filter(guild=guild).values_list("external_id", "name")) == [
        ("r1", "moderators"),
        ("r2", "members"),
    ]
    assert bot.guilds.count() == 1
