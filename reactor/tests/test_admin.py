"""The event log in admin: listed and readable by staff, never added to, changed or deleted."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from reactor.choices import EventKind, TriggerStatus
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


def _dead(kind="probe.timer", error="Traceback...\nValueError: boom"):
    from reactor.models import Trigger
    from reactor.services import schedule

    trigger_id = schedule(kind, due_at=timezone.now())
    Trigger.objects.filter(pk=trigger_id).update(status=TriggerStatus.DEAD, attempts=3, last_error=error)
    return trigger_id


@pytest.mark.usefixtures("probes")
def test_the_trigger_changelist_lists_triggers_in_a_fixed_number_of_queries(client, owner, django_assert_num_queries):
    from reactor.services import schedule

    client.force_login(owner)
    for _ in range(30):
        schedule("probe.timer", due_at=timezone.now(), guild_id="g-listed")
    client.get(reverse("admin:reactor_trigger_changelist"))

    # Session, user, the table estimate, the exact count (the table is small), the page, the kind filter.
    with django_assert_num_queries(6):
        response = client.get(reverse("admin:reactor_trigger_changelist"))

    assert response.status_code == 200
    assert response.content.count(b"g-listed") == 30


@pytest.mark.usefixtures("probes")
def test_dead_letters_list_only_dead_triggers_with_their_last_error_line(client, owner):
    from reactor.services import schedule

    client.force_login(owner)
    dead = _dead()
    alive = schedule("probe.timer", due_at=timezone.now())

    response = client.get(reverse("admin:reactor_deadletter_changelist"))

    assert str(dead)[:8].encode() in response.content
    assert str(alive)[:8].encode() not in response.content
    assert b"ValueError: boom" in response.content


@pytest.mark.usefixtures("probes")
def test_the_requeue_action_gives_dead_triggers_fresh_attempts(client, owner):
    from reactor.models import Trigger

    client.force_login(owner)
    dead = _dead()

    response = client.post(
        reverse("admin:reactor_deadletter_changelist"),
        {"action": "requeue", "_selected_action": [str(dead)]},
        follow=True,
    )

    assert response.status_code == 200
    assert b"1 requeued" in response.content
    trigger = Trigger.objects.get(pk=dead)
    assert (trigger.status, trigger.attempts) == (TriggerStatus.PENDING, 0)


@pytest.mark.usefixtures("probes")
def test_a_trigger_page_is_read_only_and_links_its_lineage(client, owner):
    from reactor.models import Trigger
    from reactor.services import emit_event

    client.force_login(owner)
    event = emit_event(EventKind.REACTION_ADDED, {"probe": True, "emoji": "🔥"}, guild_id="g", channel_id="c")
    trigger = Trigger.objects.get(parent_event=event, kind="probe.on_reaction")

    page = client.get(reverse("admin:reactor_trigger_change", args=[trigger.pk]))
    lineage = client.get(reverse("admin:reactor_trigger_lineage", args=[trigger.pk]))

    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert reverse("admin:reactor_trigger_lineage", args=[trigger.pk]).encode() in page.content
    assert lineage.status_code == 200
    assert b"reaction.added in c" in lineage.content
    assert b"probe.on_reaction" in lineage.content


def test_a_member_without_staff_rights_cannot_see_the_trigger_admin(client, member):
    client.force_login(member)

    assert client.get(reverse("admin:reactor_trigger_changelist")).status_code == 302
