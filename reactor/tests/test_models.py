"""The event log is append-only: the model refuses rewrites, and so does the database."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from reactor.errors import EventLogAppendOnly
from reactor.models import ReactorEvent
from reactor.tests.factories import ReactorEventFactory

pytestmark = pytest.mark.django_db


def test_saving_an_existing_event_raises():
    event = ReactorEventFactory.create(payload={"n": 1})
    event.payload = {"n": 2}

    with pytest.raises(EventLogAppendOnly):
        event.save()

    assert ReactorEvent.objects.get(pk=event.pk).payload == {"n": 1}


def test_bulk_updating_events_raises():
    event = ReactorEventFactory.create(guild_id="g-1")

    with pytest.raises(EventLogAppendOnly):
        ReactorEvent.objects.filter(pk=event.pk).update(guild_id="g-2")

    assert ReactorEvent.objects.get(pk=event.pk).guild_id == "g-1"


def test_the_database_rejects_a_raw_update_of_an_event():
    event = ReactorEventFactory.create(guild_id="g-1")

    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE reactor_reactorevent SET guild_id = 'g-2' WHERE id = %s", [event.pk])

    assert ReactorEvent.objects.get(pk=event.pk).guild_id == "g-1"
