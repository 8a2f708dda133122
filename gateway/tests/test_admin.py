import hashlib
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from gateway.models import GatewayPolicy, GatewayToken, Provider
from gateway.tests.factories import (
    GatewayPolicyFactory,
    PolicyFallbackFactory,
    ProviderFactory,
    UsageEventFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, owner):
    client.force_login(owner)
    return client


def provider_form(**overrides):
    data = {
        "name": "router",
        "base_url": "https://openrouter.ai/api/v1",
        "connect_timeout_seconds": "5",
        "timeout_seconds": "60",
        "is_active": "on",
        "api_key": "",
    }
    data.update(overrides)
    return data


def test_a_provider_key_is_stored_encrypted_and_never_shown_again(staff):
    response = staff.post(reverse("admin:gateway_provider_add"), provider_form(api_key="sk-or-very-secret"))
    assert response.status_code == 302

    provider = Provider.objects.get(name="router")
    assert provider.reveal_api_key() == "sk-or-very-secret"
    assert "sk-or-very-secret" not in provider.api_key_ciphertext
    page = staff.get(reverse("admin:gateway_provider_change", args=[provider.pk])).content.decode()
    listing = staff.get(reverse("admin:gateway_provider_changelist")).content.decode()
    assert "sk-or-very-secret" not in page
    assert provider.api_key_ciphertext not in page
    assert "sk-or-very-secret" not in listing


def test_a_blank_key_keeps_the_stored_one_and_clear_removes_it(staff):
    provider = ProviderFactory.create(name="router", api_key="sk-keep")
    url = reverse("admin:gateway_provider_change", args=[provider.pk])

    staff.post(url, provider_form(timeout_seconds="30"))
    provider.refresh_from_db()
    assert (provider.reveal_api_key(), provider.timeout_seconds) == ("sk-keep", 30)

    staff.post(url, provider_form(clear_api_key="on"))
    provider.refresh_from_db()
    assert provider.has_api_key is False


def test_a_new_token_is_shown_once_in_a_message_and_only_its_hash_is_kept(staff):
    response = staff.post(reverse("admin:gateway_gatewaytoken_add"), {"bot_id": "4", "label": "prod"}, follow=True)

    shown = re.search(r"Token for bot 4: (dit_[\w-]+)\.", response.content.decode())
    assert shown is not None
    plaintext = shown.group(1)
    token = GatewayToken.objects.get()
    assert token.token_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    assert (token.bot_id, token.label) == (4, "prod")
    change = staff.get(reverse("admin:gateway_gatewaytoken_change", args=[token.pk])).content.decode()
    listing = staff.get(reverse("admin:gateway_gatewaytoken_changelist")).content.decode()
    assert plaintext not in change
    assert plaintext not in listing
    assert token.token_hash not in change


def test_a_policy_with_fallbacks_is_edited_in_one_form(staff):
    provider = ProviderFactory.create(name="p")
    response = staff.post(
        reverse("admin:gateway_gatewaypolicy_add"),
        {
            "purpose": "synth-high",
            "bot_id": "",
            "guild_id": "",
            "primary_model": "big",
            "primary_provider": provider.pk,
            "requests_per_minute": "30",
            "tokens_per_day": "",
            "fallbacks-TOTAL_FORMS": "1",
            "fallbacks-INITIAL_FORMS": "0",
            "fallbacks-0-position": "1",
            "fallbacks-0-model": "small",
            "fallbacks-0-provider": "",
        },
    )

    assert response.status_code == 302
    policy = GatewayPolicy.objects.get()
    assert (policy.guild_id, policy.bot_id, policy.requests_per_minute) == (None, None, 30)
    assert [(f.model, f.provider) for f in policy.fallbacks.all()] == [("small", None)]


def changelist_queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_usage_changelist_is_read_only_and_its_queries_do_not_grow_with_rows(staff):
    policy = GatewayPolicyFactory.create()
    UsageEventFactory.create_batch(2, policy=policy)
    url = reverse("admin:gateway_usageevent_changelist")
    few = changelist_queries(staff, url)
    UsageEventFactory.create_batch(20, policy=GatewayPolicyFactory.create(purpose="extract"))

    assert changelist_queries(staff, url) == few == 5
    assert staff.get(reverse("admin:gateway_usageevent_add")).status_code == 403


def test_the_policy_changelist_queries_do_not_grow_with_rows(staff):
    PolicyFallbackFactory.create(policy__bot_id=1)
    url = reverse("admin:gateway_gatewaypolicy_changelist")
    few = changelist_queries(staff, url)
    for bot_id in range(2, 7):
        PolicyFallbackFactory.create(policy__bot_id=bot_id)

    assert changelist_queries(staff, url) == few
