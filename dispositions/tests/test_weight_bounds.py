"""Persona weights are finite and bounded (0 to 100) in the model, the database, the API and admin."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from rest_framework.test import APIClient

from dispositions.models import PersonaDispositionWeight
from dispositions.tests.test_admin import inline_post_data

pytestmark = pytest.mark.django_db

MAX_WEIGHT = 100.0


@pytest.fixture
def moderator_client(moderator):
    client = APIClient()
    client.force_authenticate(moderator)
    return client


def vibing(persona):
    return PersonaDispositionWeight.objects.get(persona=persona, disposition__slug="vibing")


@pytest.mark.parametrize("raw", ["1e308", "1e400", "-1e400", "100.5"])
def test_the_api_refuses_a_weight_that_is_huge_infinite_or_past_the_bound(moderator_client, default_persona, raw):
    weight = vibing(default_persona)

    # Raw JSON: 1e400 parses as infinity, which a Python client could not even send.
    response = moderator_client.patch(
        reverse("persona-weight-detail", args=[weight.pk]), data=f'{{"weight": {raw}}}', content_type="application/json"
    )

    assert response.status_code == 400
    assert "weight" in response.json()["error"]["fields"]
    assert vibing(default_persona).weight == 1.0
    assert moderator_client.get(reverse("persona-list")).status_code == 200


def test_the_api_takes_a_weight_at_the_bound(moderator_client, default_persona):
    weight = vibing(default_persona)

    response = moderator_client.patch(
        reverse("persona-weight-detail", args=[weight.pk]), {"weight": MAX_WEIGHT}, format="json"
    )

    assert response.status_code == 200
    assert vibing(default_persona).weight == MAX_WEIGHT


@pytest.mark.parametrize("value", ["1e308", "inf", "nan"])
def test_admin_refuses_a_weight_out_of_range_with_the_field_named(admin_client, default_persona, value):
    url = reverse("admin:dispositions_persona_change", args=[default_persona.pk])

    response = admin_client.post(url, inline_post_data(default_persona, {"vibing": value}))

    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    assert vibing(default_persona).weight == 1.0


@pytest.mark.parametrize("value", [float("inf"), float("nan"), 1e308, -0.5])
def test_the_database_refuses_a_weight_out_of_range_written_around_the_model(default_persona, value):
    with pytest.raises(IntegrityError), transaction.atomic():
        PersonaDispositionWeight.objects.filter(pk=vibing(default_persona).pk).update(weight=value)


@pytest.mark.parametrize("value", [float("inf"), float("nan"), 1e308])
def test_full_clean_refuses_a_weight_out_of_range(default_persona, value):
    from django.core.exceptions import ValidationError

    weight = vibing(default_persona)
    weight.weight = value

    with pytest.raises(ValidationError) as caught:
        weight.full_clean()

    assert "weight" in caught.value.message_dict


def test_an_unknown_field_in_a_weight_write_is_a_400_naming_it(moderator_client, default_persona):
    weight = vibing(default_persona)

    response = moderator_client.patch(
        reverse("persona-weight-detail", args=[weight.pk]), {"weight": 2.0, "wieght": 3.0}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["wieght"]
    assert vibing(default_persona).weight == 1.0
