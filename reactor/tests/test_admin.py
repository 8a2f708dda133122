"""The event log in admin: listed and readable by staff, never added to, changed or deleted."""

from __future__ import annotations

import pytest
from django.urls import reverse

from reactor.tests.factories import ReactorEventFactory

pytestmark = pytest.mark.django_db


def test_the_event_changelist_lists_events_in_a_fixed_number_of_queries(client, owner, django_assert_num_queries):
    client.force_login(owner)
    ReactorEventFactory.create_batch(30, guild_id="g-listed")
    # Session, user, the table-size estimate, the exact count (the table is small), the page: not one per event.
    client.get(reverse("admin:reactor_reactorevent_changelist"))

    with django_assert_num_queries(5):
        response = client.get(reverse("admin:reactor_reactorevent_changelist"))

    assert response.status_code == 200
    assert response.content.count(b"g-listed") == 30


def test_the_event_admin_offers_no_add_change_or_delete(client, owner):
    client.force_login(owner)
    event = ReactorEventFactory.create(payload={"transcript_id": 5})

    add = client.get(reverse("admin:reactor_reactorevent_add"))
    detail = client.get(reverse("admin:reactor_reactorevent_change", args=[event.pk]))
    delete = client.get(reverse("admin:reactor_reactorevent_delete", args=[event.pk]))

    assert add.status_code == 403
    assert detail.status_code == 200
    assert b"transcript_id" in detail.content
    assert b'name="_save"' not in detail.content
    assert delete.status_code == 403
