import re

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from bots.models import SettingOverride
from bots.tests.factories import (
    BotFactory,
    BotManifestFactory,
    GuildChannelFactory,
    GuildFactory,
    GuildRoleFactory,
    SettingOverrideFactory,
    secret_override,
)
from dit_project.vault import MASK, unseal

pytestmark = pytest.mark.django_db

SECRET = "admin-secret-value-xyz"


@pytest.fixture
def admin_client(client, owner):
    client.force_login(owner)
    return client


def _settings_url(bot) -> str:
    return reverse("admin:bots_bot_settings", args=[bot.pk])


def _input(html: str, name: str) -> str:
    match = re.search(rf'<(input|select)[^>]*name="{name}"[^>]*>', html)
    assert match, f"no control named {name}"
    return match.group(0)


def _form_data(**changes):
    """The settings form as a browser posts it unchanged (booleans unchecked are simply absent)."""
    data = {
        "DISCORD_TOKEN": "",
        "WAIT_MINUTES": "8",
        "GREETING": "hello",
        "MOOD": "calm",
        "API_SECRET": "",
        "LOG_CHANNEL": "",
        "MOD_ROLE": "",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


# Queries per changelist: session, user, the count, the filtered count, the page of rows with their
# related objects joined in, plus one per list filter that lists bots. Pinned so an N+1 fails here.
CHANGELISTS = [
    ("admin:bots_bot_changelist", lambda: [BotFactory.create(manifest=True) for _ in range(2)], 5),
    ("admin:bots_botmanifest_changelist", lambda: BotManifestFactory.create_batch(2), 6),
    ("admin:bots_settingoverride_changelist", lambda: SettingOverrideFactory.create_batch(2), 6),
    ("admin:bots_guild_changelist", lambda: GuildFactory.create_batch(2), 6),
]


@pytest.mark.parametrize(("url_name", "make_rows", "queries"), CHANGELISTS, ids=[c[0] for c in CHANGELISTS])
def test_changelist_query_count_is_pinned_and_does_not_grow_with_rows(
    admin_client, django_assert_num_queries, url_name, make_rows, queries
):
    make_rows()
    admin_client.get(reverse(url_name))  # warm caches (content types, permissions)
    with django_assert_num_queries(queries):
        assert admin_client.get(reverse(url_name)).status_code == 200

    make_rows()
    make_rows()

    with django_assert_num_queries(queries):
        assert admin_client.get(reverse(url_name)).status_code == 200


def test_the_settings_form_has_one_control_per_field_type(admin_client):
    bot = BotFactory.create(manifest=True)

    html = admin_client.get(_settings_url(bot)).content.decode()

    assert 'type="number"' in _input(html, "WAIT_MINUTES")
    assert 'min="1"' in _input(html, "WAIT_MINUTES")
    assert 'max="120"' in _input(html, "WAIT_MINUTES")
    assert 'type="checkbox"' in _input(html, "LOUD")
    assert _input(html, "MOOD").startswith("<select")
    assert '<option value="lively">lively</option>' in html
    assert 'type="password"' in _input(html, "API_SECRET")
    assert 'type="password"' in _input(html, "DISCORD_TOKEN")
    # No guild synced yet: the pickers are plain text boxes.
    assert 'type="text"' in _input(html, "LOG_CHANNEL")
    assert 'type="text"' in _input(html, "MOD_ROLE")
    headings = re.findall(r'<h2 id="fieldset-[^"]*"[^>]*>([^<]*)</h2>', html)
    assert headings == ["Credentials", "General", "More"]


def test_channel_and_role_settings_become_pickers_once_guild_data_exists(admin_client):
    bot = BotFactory.create(manifest=True)
    guild = GuildFactory.create(bot=bot, name="Home")
    GuildChannelFactory.create(guild=guild, external_id="111", name="general")
    GuildRoleFactory.create(guild=guild, external_id="222", name="mods")

    html = admin_client.get(_settings_url(bot)).content.decode()

    assert _input(html, "LOG_CHANNEL").startswith("<select")
    assert '<optgroup label="Home">' in html
    assert '<option value="111">#general</option>' in html
    assert '<option value="222">@mods</option>' in html


def test_a_saved_secret_is_never_shown_back(admin_client, monkeypatch):
    bot = BotFactory.create(manifest=True)
    secret_override(bot=bot, key="API_SECRET", plain=SECRET)
    monkeypatch.setenv("DISCORD_TOKEN", "env-token-value-abc")

    pages = [
        admin_client.get(_settings_url(bot)).content.decode(),
        admin_client.get(reverse("admin:bots_settingoverride_changelist")).content.decode(),
        admin_client.get(
            reverse("admin:bots_settingoverride_change", args=[SettingOverride.objects.get(key="API_SECRET").pk])
        ).content.decode(),
    ]

    for html in pages:
        assert SECRET not in html
        assert "env-token-value-abc" not in html
        assert MASK in html
    assert 'value="' not in _input(pages[0], "API_SECRET")


def test_saving_the_form_stores_only_changed_fields_and_encrypts_secrets(admin_client, owner):
    bot = BotFactory.create(manifest=True)

    response = admin_client.post(_settings_url(bot), _form_data(WAIT_MINUTES="30", LOUD="on", API_SECRET=SECRET))

    assert response.status_code == 302
    rows = {row.key: row for row in SettingOverride.objects.filter(bot=bot)}
    assert set(rows) == {"WAIT_MINUTES", "LOUD", "API_SECRET"}
    assert rows["WAIT_MINUTES"].value == 30
    assert rows["LOUD"].value is True
    assert rows["API_SECRET"].value is None
    assert unseal(rows["API_SECRET"].sealed_value, name="API_SECRET") == SECRET
    assert rows["API_SECRET"].updated_by == owner
    entry = LogEntry.objects.get(object_id=str(bot.pk))
    assert "API_SECRET" in entry.get_change_message()
    assert SECRET not in entry.get_change_message()


def test_a_blank_secret_keeps_the_stored_one(admin_client):
    bot = BotFactory.create(manifest=True)
    secret_override(bot=bot, key="API_SECRET", plain=SECRET)

    admin_client.post(_settings_url(bot), _form_data(GREETING="hey", API_SECRET=""))

    stored = SettingOverride.objects.get(bot=bot, key="API_SECRET")
    assert unseal(stored.sealed_value, name="API_SECRET") == SECRET
    assert bot.settings["GREETING"] == "hey"


def test_a_value_out_of_bounds_is_shown_as_an_error_on_its_field(admin_client):
    bot = BotFactory.create(manifest=True)

    response = admin_client.post(_settings_url(bot), _form_data(WAIT_MINUTES="500", GREETING="changed"))

    assert response.status_code == 200
    html = response.content.decode()
    field_row = re.search(r'<div class="form-row[^"]*field-WAIT_MINUTES.*?</div>\s*</div>', html, re.S)
    assert field_row, "no row for WAIT_MINUTES"
    assert "errorlist" in field_row.group(0)
    assert "Ensure this value is less than or equal to 120" in field_row.group(0)
    assert not SettingOverride.objects.filter(bot=bot).exists()


def test_a_channel_that_is_not_in_the_synced_guilds_is_refused_on_its_field(admin_client):
    bot = BotFactory.create(manifest=True)
    GuildChannelFactory.create(guild=GuildFactory.create(bot=bot), external_id="111")

    response = admin_client.post(_settings_url(bot), _form_data(LOG_CHANNEL="999"))

    assert response.status_code == 200
    assert "Select a valid choice. 999 is not one of the available choices." in response.content.decode()


def test_checked_overrides_are_removed(admin_client):
    bot = BotFactory.create(manifest=True)
    SettingOverrideFactory.create(bot=bot, key="GREETING", value="custom")

    admin_client.post(_settings_url(bot), {**_form_data(GREETING="custom"), "remove-overrides": ["GREETING"]})

    assert not SettingOverride.objects.filter(bot=bot).exists()
    assert bot.settings["GREETING"] == "hello"


def test_staff_without_change_permission_cannot_open_the_settings(client, moderator):
    bot = BotFactory.create(manifest=True)
    client.force_login(moderator)

    assert client.get(_settings_url(bot)).status_code == 403
    assert client.post(_settings_url(bot), _form_data(GREETING="x")).status_code == 403


def test_a_bot_without_a_manifest_has_a_settings_page_that_says_so(admin_client):
    bot = BotFactory.create()

    response = admin_client.get(_settings_url(bot))

    assert response.status_code == 200
    assert "has no manifest yet" in response.content.decode()


def test_the_bot_page_links_to_its_settings_and_keeps_the_slug_read_only(admin_client):
    bot = BotFactory.create(manifest=True)

    html = admin_client.get(reverse("admin:bots_bot_change", args=[bot.pk])).content.decode()

    assert f'href="{_settings_url(bot)}"' in html
    assert 'name="slug"' not in html


def test_the_example_bots_group_chat_settings_appear_in_admin_with_their_defaults(admin_client):
    from bots.services import manifest_load_file
    from bots.tests.conftest import ROOT

    bot = manifest_load_file(path=ROOT / "examples" / "example-bot" / "dit.json").bot

    html = admin_client.get(_settings_url(bot)).content.decode()

    assert 'type="checkbox"' in _input(html, "ADDRESS_ON_EVERYONE")
    assert "checked" not in _input(html, "ADDRESS_ON_EVERYONE")
    assert 'type="checkbox"' in _input(html, "ADDRESS_ON_ROLE_PING")
    for key, default in [
        ("FRAGMENT_WINDOW_SECONDS", "3"),
        ("FRAGMENT_MAX_SECONDS", "15"),
        ("BOT_REPLY_CHAIN_MAX", "3"),
        ("MUTE_MINUTES", "60"),
    ]:
        control = _input(html, key)
        assert 'type="number"' in control, key
        assert f'placeholder="{default}"' in control or f'value="{default}"' in control, (key, control)
    assert _input(html, "ALLOWED_BOTS").startswith("<input")
    assert _input(html, "MUTE_PHRASES").startswith("<input")
