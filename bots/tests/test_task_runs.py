"""Task worker runs are visible in admin (read-only, with their tool calls) and through /api/task-runs/."""

from __future__ import annotations

import pytest
from django.urls import reverse

from bots.choices import TaskStatus
from bots.models import TaskRun
from bots.tests.factories import TaskRunFactory
from gateway.choices import Purpose
from gateway.models import ToolInvocation
from memory.signals import member_forgotten

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:bots_taskrun_changelist")


@pytest.fixture
def admin_client(client, owner):
    client.force_login(owner)
    return client


# Session, user, the bot filter's choices, the estimated and the exact count, the page of rows with their bots
# joined in, and the date hierarchy's two. Pinned so an N+1 fails here.
CHANGELIST_QUERIES = 8


def test_the_changelist_shows_progress_in_a_pinned_number_of_queries(admin_client, django_assert_num_queries):
    TaskRunFactory.create_batch(2, status=TaskStatus.RUNNING, steps=2, attempts=1)
    admin_client.get(CHANGELIST)  # warm caches (content types, permissions)
    with django_assert_num_queries(CHANGELIST_QUERIES):
        first = admin_client.get(CHANGELIST)

    TaskRunFactory.create_batch(4)

    with django_assert_num_queries(CHANGELIST_QUERIES):
        response = admin_client.get(CHANGELIST)
    assert first.status_code == response.status_code == 200
    assert "Research topic" in response.content.decode()


def test_a_run_page_shows_its_result_limits_and_tool_calls_read_only(admin_client):
    task = TaskRunFactory.create(status=TaskStatus.DONE, result_text="The write-up.", steps=2, attempts=2)
    ToolInvocation.objects.create(
        purpose=Purpose.TASK_WORKER, task_id=task.pk, step=1, tool="recall_group", arguments={"topic": "ferry"}, ok=True
    )

    response = admin_client.get(reverse("admin:bots_taskrun_change", args=[task.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "The write-up." in html
    assert "recall_group" in html
    assert "&quot;topic&quot;: &quot;ferry&quot;" in html
    assert 'name="goal"' not in html  # nothing on the page is editable
    assert admin_client.post(reverse("admin:bots_taskrun_change", args=[task.pk]), {}).status_code == 403


def test_the_api_lists_runs_by_status_in_a_fixed_number_of_queries(member_client, django_assert_num_queries):
    running = TaskRunFactory.create_batch(3, status=TaskStatus.RUNNING, steps=1)
    TaskRunFactory.create_batch(2, status=TaskStatus.DONE)

    with django_assert_num_queries(2):
        response = member_client.get(reverse("task-run-list"), {"status": "running"})

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    # Newest first.
    assert [row["id"] for row in body["results"]] == [task.pk for task in reversed(running)]
    row = body["results"][0]
    assert row["bot"] == running[-1].bot.slug
    assert (row["status"], row["steps"], row["max_steps"]) == ("running", 1, 6)


def test_the_api_is_read_only_and_answers_in_the_error_shape(owner_client, api_client):
    task = TaskRunFactory.create()

    assert owner_client.get(reverse("task-run-detail", args=[task.pk])).json()["goal"] == task.goal
    refused = owner_client.delete(reverse("task-run-detail", args=[task.pk]))
    assert refused.status_code == 405
    assert refused.json()["error"]["code"]
    missing = owner_client.get(reverse("task-run-detail", args=[task.pk + 1000]))
    assert missing.status_code == 404
    assert missing.json()["error"]["code"]
    assert api_client.get(reverse("task-run-list")).status_code in (401, 403)


def test_forget_me_deletes_the_tasks_the_member_asked_for_in_that_guild():
    theirs = TaskRunFactory.create(guild_id="g-1", requested_by="u-alice")
    elsewhere = TaskRunFactory.create(guild_id="g-2", requested_by="u-alice")
    someone_else = TaskRunFactory.create(guild_id="g-1", requested_by="u-bob")

    answers = member_forgotten.send(
        sender=TaskRun, guild_id="g-1", user_id="u-alice", alias="member-1", pattern="alice", message_ids=[]
    )

    assert {"task_runs": 1} in [counts for _receiver, counts in answers]
    assert set(TaskRun.objects.values_list("pk", flat=True)) == {elsewhere.pk, someone_else.pk}
    assert not TaskRun.objects.filter(pk=theirs.pk).exists()
