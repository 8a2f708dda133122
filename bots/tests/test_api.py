import logging

import pytest
from django.urls import include, path
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator

from bots.models import Bot, SettingOverride
from bots.tests.factories import BotFactory, SettingOverrideFactory, secret_override
from dit_project.vault import MASK, unseal

pytestmark = pytest.mark.django_db

SECRET = "api-secret-value-xyz"


@pytest.fixture
def moderator_client(moderator):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(moderator)
    return client


def _by_key(rows):
    return {row["key"]: row for row in rows}


def test_signed_in_users_list_bots_in_a_fixed_number_of_queries(member_client, django_assert_num_queries):
    for _ in range(4):
        BotFactory.create(manifest=True)

    with django_assert_num_queries(2):  # count, then the page with each bot's manifest joined
        response = member_client.get("/api/bots/")

    assert response.status_code == 200
    assert response.data["count"] == 4
    first = response.data["results"][0]
    assert first["manifest_version"] == 1
    assert first["features"] == ["cogs.example"]
    assert first["channels"] == ["discord"]


def test_anonymous_users_cannot_read_bots(api_client):
    assert api_client.get("/api/bots/").status_code in (401, 403)


def test_one_bot_is_retrieved_by_slug(member_client):
    BotFactory.create(slug="alpha", name="Alpha")

    response = member_client.get("/api/bots/alpha/")

    assert response.status_code == 200
    assert (response.data["slug"], response.data["name"], response.data["manifest_version"]) == ("alpha", "Alpha", None)


def test_an_unknown_bot_is_a_404_with_the_error_code(member_client):
    response = member_client.get("/api/bots/nobody/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "bot_not_found"
    assert "nobody" in response.json()["error"]["message"]


def test_staff_create_rename_and_delete_bots(moderator_client):
    created = moderator_client.post("/api/bots/", {"slug": "new-bot", "name": "New"}, format="json")
    renamed = moderator_client.patch("/api/bots/new-bot/", {"name": "Newer"}, format="json")
    conflict = moderator_client.post("/api/bots/", {"slug": "new-bot", "name": "Again"}, format="json")

    assert created.status_code == 201
    assert renamed.data["name"] == "Newer"
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "bot_exists"
    assert moderator_client.delete("/api/bots/new-bot/").status_code == 204
    assert not Bot.objects.filter(slug="new-bot").exists()


def test_members_cannot_write_bots(member_client):
    BotFactory.create(slug="alpha")

    assert member_client.post("/api/bots/", {"slug": "x", "name": "X"}, format="json").status_code == 403
    assert member_client.patch("/api/bots/alpha/", {"name": "Y"}, format="json").status_code == 403
    assert member_client.delete("/api/bots/alpha/").status_code == 403


def test_resolved_settings_show_sources_and_mask_secrets(member_client, monkeypatch):
    bot = BotFactory.create(manifest=True)
    SettingOverrideFactory.create(bot=bot, key="GREETING", value="howdy")
    secret_override(bot=bot, key="API_SECRET", plain=SECRET)
    monkeypatch.setenv("DISCORD_TOKEN", "env-token-value-abc")
    monkeypatch.setenv("WAIT_MINUTES", "12")

    response = member_client.get(f"/api/bots/{bot.slug}/settings/")

    assert response.status_code == 200
    rows = _by_key(response.json())
    assert list(rows)[:2] == ["DISCORD_TOKEN", "WAIT_MINUTES"]
    assert (rows["GREETING"]["value"], rows["GREETING"]["source"], rows["GREETING"]["has_override"]) == (
        "howdy",
        "override",
        True,
    )
    assert (rows["WAIT_MINUTES"]["value"], rows["WAIT_MINUTES"]["source"]) == (12, "env")
    assert (rows["LOUD"]["value"], rows["LOUD"]["source"]) == (False, "default")
    assert (rows["LOG_CHANNEL"]["value"], rows["LOG_CHANNEL"]["source"]) == (None, "unset")
    assert (rows["API_SECRET"]["value"], rows["API_SECRET"]["is_secret"]) == (MASK, True)
    assert rows["DISCORD_TOKEN"]["value"] == MASK
    assert rows["MOOD"]["options"] == [{"value": "calm", "label": "calm"}, {"value": "lively", "label": "lively"}]
    assert (rows["WAIT_MINUTES"]["min"], rows["WAIT_MINUTES"]["max"]) == (1, 120)
    assert SECRET not in response.content.decode()
    assert "env-token-value-abc" not in response.content.decode()


def test_a_setting_with_a_bad_environment_value_reports_the_error_instead_of_failing(member_client, monkeypatch):
    bot = BotFactory.create(manifest=True)
    monkeypatch.setenv("WAIT_MINUTES", "soon")

    rows = _by_key(member_client.get(f"/api/bots/{bot.slug}/settings/").json())

    assert rows["WAIT_MINUTES"]["value"] is None
    assert rows["WAIT_MINUTES"]["error"].startswith("Environment variable WAIT_MINUTES (setting 'WAIT_MINUTES')")
    assert rows["GREETING"]["error"] == ""


def test_a_bot_without_a_manifest_has_no_settings(member_client):
    bot = BotFactory.create()

    response = member_client.get(f"/api/bots/{bot.slug}/settings/")

    assert (response.status_code, response.json()) == (200, [])


def test_staff_put_an_override_validated_by_the_field_type(moderator_client):
    bot = BotFactory.create(manifest=True)

    ok = moderator_client.put(f"/api/bots/{bot.slug}/settings/WAIT_MINUTES/", {"value": 42}, format="json")
    too_big = moderator_client.put(f"/api/bots/{bot.slug}/settings/WAIT_MINUTES/", {"value": 500}, format="json")
    wrong_type = moderator_client.put(f"/api/bots/{bot.slug}/settings/LOUD/", {"value": "yes"}, format="json")

    assert ok.status_code == 200
    assert (ok.json()["value"], ok.json()["source"]) == (42, "override")
    assert too_big.status_code == 400
    assert too_big.json()["error"] == {
        "code": "invalid_setting_value",
        "message": "WAIT_MINUTES: 500 is above the maximum 120",
        "key": "WAIT_MINUTES",
    }
    assert wrong_type.json()["error"]["message"] == "LOUD: expected a boolean, got string"
    assert list(SettingOverride.objects.filter(bot=bot).values_list("key", "value")) == [("WAIT_MINUTES", 42)]


def test_a_secret_put_through_the_api_is_write_only_and_never_logged(moderator_client, caplog):
    bot = BotFactory.create(manifest=True)
    caplog.set_level(logging.DEBUG)

    response = moderator_client.put(f"/api/bots/{bot.slug}/settings/API_SECRET/", {"value": SECRET}, format="json")
    read_back = moderator_client.get(f"/api/bots/{bot.slug}/settings/API_SECRET/")

    assert response.status_code == 200
    assert response.json()["value"] == MASK
    assert read_back.json()["value"] == MASK
    assert SECRET not in response.content.decode() + read_back.content.decode()
    assert SECRET not in caplog.text
    row = SettingOverride.objects.get(bot=bot, key="API_SECRET")
    assert unseal(row.sealed_value, name="API_SECRET") == SECRET


def test_staff_remove_an_override(moderator_client):
    bot = BotFactory.create(manifest=True)
    SettingOverrideFactory.create(bot=bot, key="GREETING", value="custom")

    response = moderator_client.delete(f"/api/bots/{bot.slug}/settings/GREETING/")

    assert response.status_code == 204
    assert moderator_client.get(f"/api/bots/{bot.slug}/settings/GREETING/").json()["value"] == "hello"


def test_an_undeclared_setting_is_a_404_with_the_error_code(moderator_client):
    bot = BotFactory.create(manifest=True)

    response = moderator_client.put(f"/api/bots/{bot.slug}/settings/NOPE/", {"value": 1}, format="json")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_setting"


def test_members_cannot_write_settings(member_client):
    bot = BotFactory.create(manifest=True)

    assert (
        member_client.put(f"/api/bots/{bot.slug}/settings/GREETING/", {"value": "x"}, format="json").status_code == 403
    )
    assert member_client.delete(f"/api/bots/{bot.slug}/settings/GREETING/").status_code == 403


def test_a_put_without_a_value_is_a_validation_error(moderator_client):
    bot = BotFactory.create(manifest=True)

    response = moderator_client.put(f"/api/bots/{bot.slug}/settings/GREETING/", {}, format="json")

    assert response.status_code == 400
    assert "value" in response.json()["error"]["fields"]


def test_the_bots_endpoints_are_in_the_openapi_schema(member_client):
    schema = member_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()

    assert {"/api/bots/", "/api/bots/{slug}/", "/api/bots/{slug}/settings/", "/api/bots/{slug}/settings/{key}/"} <= set(
        schema["paths"]
    )
    assert set(schema["paths"]["/api/bots/{slug}/settings/{key}/"]) >= {"get", "put", "delete"}


def test_schema_generation_for_the_bots_views_has_no_warnings():
    GENERATOR_STATS.reset()
    generator = SchemaGenerator(patterns=[path("api/", include("bots.api.urls"))])

    schema = generator.get_schema(request=None, public=True)

    assert "/api/bots/{slug}/settings/" in schema["paths"]
    assert not GENERATOR_STATS._warn_cache, list(GENERATOR_STATS._warn_cache)
    assert not GENERATOR_STATS._error_cache, list(GENERATOR_STATS._error_cache)
