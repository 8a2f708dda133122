import logging
import signal
import subprocess
import sys

import pytest
from django.core.management import call_command

from bots.choices import SettingSource
from bots.errors import BootError, BotNotFound, SettingResolutionError
from bots.runtime import boot_bot, log_resolved_settings, settings_summary
from bots.tests.conftest import MANAGE, ROOT
from bots.tests.factories import BotFactory, manifest_data, secret_override

EXAMPLE_MANIFEST = ROOT / "examples" / "example-bot" / "dit.json"
READY_MARK = "waiting for SIGTERM or SIGINT"
TOKEN = "token-that-must-never-be-printed-0123456789"


@pytest.mark.django_db
def test_boot_loads_the_manifest_first_when_a_path_is_given():
    booted = boot_bot(slug="example", manifest_path=EXAMPLE_MANIFEST)

    assert (booted.slug, booted.name, booted.manifest_version) == ("example", "Dit", 1)
    assert booted.settings["FRAGMENT_WINDOW_SECONDS"] == 3
    assert booted.channels == ("discord", "local")


@pytest.mark.django_db
def test_boot_of_an_unknown_slug_says_how_to_load_it():
    with pytest.raises(BotNotFound, match="No bot with slug 'nobody'; load its manifest"):
        boot_bot(slug="nobody")


@pytest.mark.django_db
def test_boot_refuses_a_manifest_for_another_bot():
    with pytest.raises(BootError, match="is for bot 'example', not 'other'"):
        boot_bot(slug="other", manifest_path=EXAMPLE_MANIFEST)


@pytest.mark.django_db
def test_boot_fails_when_a_required_setting_has_no_value():
    data = manifest_data()
    data["settings"]["groups"][1]["fields"][2]["required"] = True  # LOG_CHANNEL, no default
    bot = BotFactory.create(manifest=data)

    with pytest.raises(BootError, match="required settings have no value: LOG_CHANNEL"):
        boot_bot(slug=bot.slug)


@pytest.mark.django_db
def test_boot_fails_on_a_bad_environment_value_naming_the_variable(monkeypatch):
    bot = BotFactory.create(manifest=True)
    monkeypatch.setenv("WAIT_MINUTES", "eight")

    with pytest.raises(SettingResolutionError, match="Environment variable WAIT_MINUTES"):
        boot_bot(slug=bot.slug)


@pytest.mark.django_db
def test_settings_are_logged_one_line_each_with_secrets_masked(caplog, monkeypatch):
    bot = BotFactory.create(manifest=True)
    secret_override(bot=bot, key="API_SECRET", plain="override-secret-value")
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    caplog.set_level(logging.INFO, logger="bots.runtime")

    resolved = log_resolved_settings(boot_bot(slug=bot.slug))

    lines = [r.getMessage() for r in caplog.records if r.name == "bots.runtime"]
    assert len(lines) == len(resolved) == 8
    assert f"bot {bot.slug} setting DISCORD_TOKEN = •••• (Environment variable)" in lines
    assert f"bot {bot.slug} setting API_SECRET = •••• (Admin override)" in lines
    assert f"bot {bot.slug} setting WAIT_MINUTES = 8 (Manifest default)" in lines
    assert f"bot {bot.slug} setting LOG_CHANNEL = (unset) (Not set)" in lines
    assert TOKEN not in caplog.text
    assert "override-secret-value" not in caplog.text
    assert {r.source for r in resolved} == {
        SettingSource.ENVIRONMENT,
        SettingSource.OVERRIDE,
        SettingSource.DEFAULT,
        SettingSource.UNSET,
    }


@pytest.mark.django_db
def test_the_settings_summary_counts_them_and_names_only_what_is_not_a_default_with_secrets_masked(monkeypatch):
    bot = BotFactory.create(manifest=True)
    secret_override(bot=bot, key="API_SECRET", plain="override-secret-value")
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)

    line = settings_summary(boot_bot(slug=bot.slug))

    assert line.startswith(f"bot {bot.slug}: 8 settings, 2 not at the manifest's default: ")
    assert "API_SECRET = •••• (admin override)" in line
    assert "DISCORD_TOKEN = •••• (environment variable)" in line
    assert "WAIT_MINUTES" not in line
    assert TOKEN not in line
    assert "override-secret-value" not in line


def test_runbot_boots_logs_masked_settings_and_stops_cleanly_on_sigterm(child_env, local_discord):
    # The bot really connects: to the local Discord, as the persona the example bot is named after.
    call_command("loaddata", "default_persona", verbosity=0)
    local_discord.add_guild("Test Guild")
    token = local_discord.bot_token
    process = subprocess.Popen(
        [sys.executable, str(MANAGE), "runbot", "example", "--manifest", str(EXAMPLE_MANIFEST)],
        cwd=ROOT,
        env={
            **child_env,
            "DISCORD_TOKEN": token,
            "DISCORD_API_BASE": local_discord.api_base,
            "DISCORD_GATEWAY_URL": local_discord.gateway_url,
            "DISCORD_GUILD_READY_TIMEOUT": "0.05",
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    try:
        assert process.stdout is not None
        # Read until the bot says it is idle (or the process ends); pytest-timeout bounds the wait.
        for line in process.stdout:
            output.append(line)
            if READY_MARK in line:
                break
        assert any(READY_MARK in line for line in output), "".join(output)

        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=30)
        output.append(rest)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    text = "".join(output)
    assert process.returncode == 0, text
    assert "bot example setting DISCORD_TOKEN = •••• (Environment variable)" in text
    assert "bot example setting FRAGMENT_WINDOW_SECONDS = 3 (Manifest default)" in text
    assert "bot example stopping on SIGTERM" in text
    assert token not in text


def test_runbot_of_an_unknown_slug_exits_non_zero_with_a_clear_message(run_manage):
    result = run_manage("runbot", "nobody")

    assert result.returncode == 1
    assert "No bot with slug 'nobody'; load its manifest with `manage.py loadmanifest PATH`" in result.stderr
