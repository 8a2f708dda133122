"""The bots API under bad input: unknown fields, empty patches, NUL characters, oversized bodies, and
deleting a bot that has history."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from bots.models import Bot, SettingOverride
from bots.tests.factories import BotFactory
from dispositions.models import DispositionDecision, Persona
from dispositions.tests.factories import make_decision
from gateway.tests.factories import UsageEventFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def default_persona(db) -> Persona:
    call_command("loaddata", "default_persona", verbosity=0)
    return Persona.objects.get(name="Dit")


def routed_for(bot, persona):
    """A real routing decision, recorded as this bot's."""
    decision = make_decision(persona=persona)
    DispositionDecision.objects.filter(pk=decision.pk).update(bot_id=bot.pk)


@pytest.fixture
def moderator_client(moderator):
    client = APIClient()
    client.force_authenticate(moderator)
    return client


def test_an_unknown_field_in_a_bot_write_is_a_400_naming_it(moderator_client):
    created = moderator_client.post("/api/bots/", {"slug": "strict", "name": "Strict", "colour": "red"})

    assert created.status_code == 400
    error = created.json()["error"]
    assert (error["code"], list(error["fields"])) == ("invalid", ["colour"])
    assert not Bot.objects.filter(slug="strict").exists()


def test_an_unknown_field_in_a_rename_is_a_400_and_nothing_changes(moderator_client):
    BotFactory.create(slug="alpha", name="Alpha")

    response = moderator_client.patch("/api/bots/alpha/", {"name": "Beta", "nmae": "typo"})

    assert response.status_code == 400
    assert "nmae" in response.json()["error"]["fields"]
    assert Bot.objects.get(slug="alpha").name == "Alpha"


def test_an_empty_patch_of_a_bot_is_a_no_op_200(moderator_client):
    bot = BotFactory.create(slug="alpha", name="Alpha")

    response = moderator_client.patch("/api/bots/alpha/", {})

    assert response.status_code == 200
    assert response.json()["name"] == "Alpha"
    bot.refresh_from_db()
    assert (bot.name, bot.updated_at) == ("Alpha", Bot.objects.get(pk=bot.pk).updated_at)


def test_an_empty_patch_of_a_persona_is_a_no_op_200(moderator_client, default_persona):
    response = moderator_client.patch(reverse("persona-detail", args=[default_persona.pk]), {})

    assert response.status_code == 200
    assert response.json()["name"] == default_persona.name


def test_a_nul_character_in_a_text_setting_is_a_400_naming_the_setting(moderator_client):
    bot = BotFactory.create(manifest=True)

    response = moderator_client.put(f"/api/bots/{bot.slug}/settings/GREETING/", {"value": "hi\x00there"})

    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["key"]) == ("invalid_setting_value", "GREETING")
    assert "NUL" in error["message"]
    assert not SettingOverride.objects.filter(bot=bot, key="GREETING").exists()


def test_a_five_megabyte_bot_is_refused_with_a_413_in_the_error_shape(moderator_client):
    body = json.dumps({"slug": "huge", "name": "x" * 5_000_000})

    response = moderator_client.generic("POST", "/api/bots/", body, content_type="application/json")

    assert response.status_code == 413
    error = response.json()["error"]
    assert (error["code"], error["limit"]) == ("payload_too_large", 4096)
    assert not Bot.objects.filter(slug="huge").exists()


def test_a_three_megabyte_setting_value_is_refused_with_a_413(moderator_client):
    bot = BotFactory.create(manifest=True)
    body = json.dumps({"value": "x" * 3_000_000})

    response = moderator_client.generic(
        "PUT", f"/api/bots/{bot.slug}/settings/GREETING/", body, content_type="application/json"
    )

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert not SettingOverride.objects.filter(bot=bot, key="GREETING").exists()


def test_a_bot_without_history_can_be_deleted_and_its_gateway_tokens_stop_working(moderator_client):
    from gateway.models import GatewayToken
    from gateway.services import gateway_token_create

    bot = BotFactory.create(slug="fresh")
    token, _ = gateway_token_create(bot_id=bot.pk, label="fresh")

    assert moderator_client.delete("/api/bots/fresh/").status_code == 204
    assert not Bot.objects.filter(slug="fresh").exists()
    assert GatewayToken.objects.get(pk=token.pk).revoked_at is not None


def test_deleting_a_bot_that_has_routed_turns_is_refused_with_409_and_the_history_named(
    moderator_client, default_persona
):
    bot = BotFactory.create(slug="veteran")
    routed_for(bot, default_persona)
    UsageEventFactory.create(bot_id=bot.pk)

    response = moderator_client.delete("/api/bots/veteran/")

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "bot_has_history"
    assert error["history"] == {"routing decisions": 1, "model usage events": 1}
    assert Bot.objects.filter(slug="veteran").exists()
    assert DispositionDecision.objects.filter(bot_id=bot.pk).count() == 1


def test_admin_offers_no_delete_for_a_bot_with_history(admin_client, default_persona):
    bot = BotFactory.create(slug="veteran")
    routed_for(bot, default_persona)

    response = admin_client.post(reverse("admin:bots_bot_delete", args=[bot.pk]), {"post": "yes"})
    bulk = admin_client.post(
        reverse("admin:bots_bot_changelist"), {"action": "delete_selected", "_selected_action": [bot.pk], "post": "yes"}
    )

    assert response.status_code == 403
    assert bulk.status_code == 403
    assert Bot.objects.filter(slug="veteran").exists()
