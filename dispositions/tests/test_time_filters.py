"""Time filters with an offset PostgreSQL cannot store, or that pushes the date out of range, are a 400."""

from __future__ import annotations

import pytest
from django.urls import reverse

from dispositions.tests.factories import make_decision

pytestmark = pytest.mark.django_db

# Dates an offset pushes past year 1 or 9999 once in UTC.
BAD_TIMES = ["0001-01-01T00:00:00+23:00", "9999-12-31T23:59:59-23:00"]
# Python takes offsets up to ±23:59:59, PostgreSQL only up to ±15:59:59.
FAR_OFFSETS = ["2024-01-01T00:00:00+23:59:59", "2024-01-01T00:00:00-20:00"]


@pytest.mark.parametrize("value", BAD_TIMES)
@pytest.mark.parametrize("name", ["since", "until"])
def test_a_decision_list_time_filter_with_an_impossible_offset_is_a_400(member_client, name, value):
    response = member_client.get(reverse("decision-list"), {name: value})

    assert response.status_code == 400
    assert name in response.json()["error"]["fields"]


@pytest.mark.parametrize("value", FAR_OFFSETS)
def test_a_decision_list_time_filter_with_an_offset_postgresql_cannot_store_still_filters(
    member_client, default_persona, value
):
    make_decision(persona=default_persona)

    response = member_client.get(reverse("decision-list"), {"since": value})

    assert response.status_code == 200
    assert response.json()["count"] == 1


@pytest.mark.parametrize("value", BAD_TIMES)
@pytest.mark.parametrize("name", ["since", "until"])
def test_the_decision_aggregate_with_an_impossible_offset_is_a_400(member_client, name, value):
    response = member_client.get(reverse("decision-aggregate"), {name: value})

    assert response.status_code == 400
    assert name in response.json()["error"]["fields"]
