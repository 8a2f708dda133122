from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator

from dispositions.api import urls as disposition_urls
from dispositions.models import Disposition, DispositionDecision, Persona, PersonaDispositionWeight
from dispositions.services import decide_turn
from dispositions.specs import Moment, RouterConfig
from dispositions.tests.factories import PersonaFactory, SubagentRunFactory, make_decision

pytestmark = pytest.mark.django_db

LISTS = ["persona-list", "disposition-list", "persona-weight-list", "decision-list", "subagent-run-list"]

NEW_DISPOSITION = {
    "slug": "hype-man",
    "name": "Hype man",
    "reasoning_depth": "low",
    "context_strategy": "live+dossiers",
    "voice": "encouraging",
    "output_shape": "single-line",
    "search_posture": "none",
    "risk_appetite": "safe",
    "followup_probability": 0.2,
    "followup_bias": "add-nuance",
    "followup_window_min_seconds": 60,
    "followup_window_max_seconds": 300,
    "fanout_plan": ["participant-profiler"],
}


@pytest.fixture
def moderator_client(moderator):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(moderator)
    return client


@pytest.mark.parametrize("name", LISTS)
def test_anonymous_requests_are_refused_with_401(api_client, name):
    assert api_client.get(reverse(name)).status_code == 401


@pytest.mark.parametrize("name", LISTS)
def test_a_member_can_read_every_list(member_client, default_persona, name):
    response = member_client.get(reverse(name))

    assert response.status_code == 200
    assert "results" in response.json()


def test_a_member_reads_with_a_jwt_token(api_client, member, default_persona):
    token = api_client.post(reverse("token-obtain"), {"username": "member", "password": "member-pass-123"}).json()

    response = api_client.get(reverse("disposition-list"), HTTP_AUTHORIZATION=f"Bearer {token['access']}")

    assert response.status_code == 200
    assert response.json()["count"] == 10


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("persona-list", {"name": "Sneaky"}),
        ("disposition-list", NEW_DISPOSITION),
        ("persona-weight-list", {"persona": 1, "disposition": "vibing", "weight": 9}),
    ],
)
def test_a_member_cannot_write(member_client, default_persona, name, body):
    response = member_client.post(reverse(name), body, format="json")

    assert response.status_code == 403
    assert Persona.objects.count() == 1
    assert Disposition.objects.count() == 10


def test_a_member_cannot_change_or_delete_a_disposition(member_client, default_persona):
    url = reverse("disposition-detail", args=[Disposition.objects.get(slug="vibing").pk])

    assert member_client.patch(url, {"enabled": False}, format="json").status_code == 403
    assert member_client.delete(url).status_code == 403
    assert Disposition.objects.get(slug="vibing").enabled is True


def test_staff_can_create_a_disposition_with_all_seven_dimensions(moderator_client, default_persona):
    response = moderator_client.post(reverse("disposition-list"), NEW_DISPOSITION, format="json")

    assert response.status_code == 201, response.json()
    created = Disposition.objects.get(slug="hype-man")
    assert (created.voice, created.context_strategy, created.fanout_plan) == (
        "encouraging",
        "live+dossiers",
        ["participant-profiler"],
    )


def test_staff_get_a_named_error_for_an_inverted_followup_window(moderator_client, default_persona):
    body = {**NEW_DISPOSITION, "followup_window_min_seconds": 400}

    response = moderator_client.post(reverse("disposition-list"), body, format="json")

    assert response.status_code == 400
    assert "followup_window_max_seconds" in response.json()["error"]["fields"]
    assert not Disposition.objects.filter(slug="hype-man").exists()


def test_staff_get_a_named_error_for_an_unknown_voice(moderator_client, default_persona):
    response = moderator_client.post(reverse("disposition-list"), {**NEW_DISPOSITION, "voice": "smug"}, format="json")

    assert response.status_code == 400
    assert "voice" in response.json()["error"]["fields"]


def test_staff_can_create_a_persona_and_its_weights(moderator_client, default_persona):
    persona = moderator_client.post(
        reverse("persona-list"),
        {"name": "Ditto", "wake_words": ["Ditto"], "eligible_voices": ["deadpan", "playful"]},
        format="json",
    )
    weight = moderator_client.post(
        reverse("persona-weight-list"),
        {"persona": persona.json()["id"], "disposition": "vibing", "weight": 2.0},
        format="json",
    )

    assert persona.status_code == 201, persona.json()
    assert persona.json()["wake_words"] == ["ditto"]
    assert weight.status_code == 201, weight.json()
    detail = moderator_client.get(reverse("persona-detail", args=[persona.json()["id"]])).json()
    assert detail["weights"] == [{"id": weight.json()["id"], "disposition": "vibing", "weight": 2.0}]


def test_a_negative_or_duplicate_weight_is_refused(moderator_client, default_persona):
    negative = moderator_client.post(
        reverse("persona-weight-list"),
        {"persona": default_persona.pk, "disposition": "vibing", "weight": -1},
        format="json",
    )
    duplicate = moderator_client.post(
        reverse("persona-weight-list"),
        {"persona": default_persona.pk, "disposition": "vibing", "weight": 1},
        format="json",
    )

    assert negative.status_code == 400
    assert "weight" in negative.json()["error"]["fields"]
    assert duplicate.status_code == 400
    assert PersonaDispositionWeight.objects.filter(persona=default_persona).count() == 10


def test_staff_can_tune_a_weight(moderator_client, default_persona):
    weight = PersonaDispositionWeight.objects.get(persona=default_persona, disposition__slug="roast-back")

    response = moderator_client.patch(
        reverse("persona-weight-detail", args=[weight.pk]), {"weight": 1.7}, format="json"
    )

    assert response.status_code == 200
    weight.refresh_from_db()
    assert weight.weight == 1.7


def test_decisions_are_read_only_even_for_staff(owner_client, default_persona):
    decision = make_decision(persona=default_persona)

    assert owner_client.post(reverse("decision-list"), {}, format="json").status_code == 405
    assert owner_client.delete(reverse("decision-detail", args=[decision.pk])).status_code == 405


def test_a_decision_detail_carries_scores_reasons_and_replayable_inputs(member_client, default_persona):
    decision = make_decision(persona=default_persona)

    body = member_client.get(reverse("decision-detail", args=[decision.pk])).json()
    listed = member_client.get(reverse("decision-list")).json()["results"][0]

    assert body["chosen_slug"] == decision.chosen_slug
    assert {row["slug"] for row in body["candidate_scores"]} == {row["slug"] for row in decision.candidate_scores}
    assert all("reasons" in row for row in body["candidate_scores"])
    assert body["router_inputs"]["context"]["message_text"] == "hello"
    assert "router_inputs" not in listed


def test_decisions_filter_by_trigger_disposition_channel_and_time(member_client, default_persona):
    reactive = make_decision(persona=default_persona, channel_id="c-a")
    speculative = decide_turn(
        moment=Moment(trigger="speculative", lull_seconds=5000),
        persona_id=default_persona.pk,
        config=RouterConfig(),
        seed=3,
        guild_id="g",
        channel_id="c-b",
        bot_id=1,
    )
    old = make_decision(persona=default_persona, seed=8, channel_id="c-a")
    DispositionDecision.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=2))

    def ids(**params):
        return [row["id"] for row in member_client.get(reverse("decision-list"), params).json()["results"]]

    assert ids(trigger_kind="speculative") == [speculative.pk]
    assert ids(channel_id="c-a") == [reactive.pk, old.pk]
    assert reactive.pk in ids(disposition=reactive.chosen_slug)
    assert old.pk not in ids(since=(timezone.now() - timedelta(days=1)).isoformat())
    assert member_client.get(reverse("decision-list"), {"trigger_kind": "sometimes"}).status_code == 400


def test_dispositions_filter_by_dimension(member_client, default_persona):
    response = member_client.get(reverse("disposition-list"), {"voice": "observational"})

    assert sorted(row["slug"] for row in response.json()["results"]) == ["late-night-musing", "observation-drop"]


def test_the_aggregate_counts_decisions_per_disposition_and_shape_in_the_window(member_client, default_persona):
    start = timezone.now()
    made = [make_decision(persona=default_persona, seed=seed) for seed in range(25)]
    old = make_decision(persona=default_persona, seed=500)
    DispositionDecision.objects.filter(pk=old.pk).update(created_at=start - timedelta(days=10))
    url = reverse("decision-aggregate")

    body = member_client.get(
        url,
        {
            "since": (start - timedelta(minutes=1)).isoformat(),
            "until": (timezone.now() + timedelta(minutes=1)).isoformat(),
        },
    ).json()

    per_slug: dict[str, int] = {}
    per_shape: dict[str, int] = {}
    for decision in made:
        per_slug[decision.chosen_slug] = per_slug.get(decision.chosen_slug, 0) + 1
        per_shape[decision.output_shape] = per_shape.get(decision.output_shape, 0) + 1
    assert body["total"] == 25
    assert {row["disposition"]: row["count"] for row in body["by_disposition"]} == per_slug
    assert {row["output_shape"]: row["count"] for row in body["by_output_shape"]} == per_shape
    wide = member_client.get(url, {"since": (start - timedelta(days=30)).isoformat()}).json()
    assert wide["total"] == 26


def test_the_aggregate_defaults_to_the_last_day_and_refuses_an_inverted_window(member_client, default_persona):
    make_decision(persona=default_persona)
    url = reverse("decision-aggregate")

    default = member_client.get(url)
    inverted = member_client.get(url, {"since": "2025-02-01T00:00:00Z", "until": "2025-01-01T00:00:00Z"})
    garbage = member_client.get(url, {"since": "yesterday-ish"})

    assert default.status_code == 200
    assert default.json()["total"] == 1
    assert inverted.status_code == 400
    assert "since" in inverted.json()["error"]["fields"]
    assert garbage.status_code == 400
    assert "since" in garbage.json()["error"]["fields"]


def test_the_persona_list_query_count_does_not_grow_with_personas(
    member_client, default_persona, django_assert_num_queries
):
    with django_assert_num_queries(3):
        member_client.get(reverse("persona-list"))
    for _ in range(5):
        PersonaFactory.create()
    with django_assert_num_queries(3):
        response = member_client.get(reverse("persona-list"))
    assert response.json()["count"] == 6


@pytest.mark.parametrize("name", ["disposition-list", "persona-weight-list", "decision-list", "subagent-run-list"])
def test_list_endpoints_run_two_queries_whatever_the_row_count(
    member_client, default_persona, django_assert_num_queries, name
):
    for seed in range(12):
        decision = make_decision(persona=default_persona, seed=seed)
        SubagentRunFactory.create(decision=decision)

    with django_assert_num_queries(2):
        response = member_client.get(reverse(name))

    assert response.json()["count"] >= 10


def test_the_dispositions_api_generates_its_schema_without_warnings():
    GENERATOR_STATS.reset()
    generator = SchemaGenerator(patterns=disposition_urls.urlpatterns)

    schema = generator.get_schema(request=None, public=True)

    assert not GENERATOR_STATS._warn_cache, list(GENERATOR_STATS._warn_cache)
    assert not GENERATOR_STATS._error_cache, list(GENERATOR_STATS._error_cache)
    assert "/decisions/aggregate/" in schema["paths"]
    assert {"since", "until"} <= {p["name"] for p in schema["paths"]["/decisions/aggregate/"]["get"]["parameters"]}


def test_the_project_schema_lists_the_dispositions_endpoints(member_client):
    response = member_client.get(reverse("schema"), {"format": "json"})

    paths = response.json()["paths"]
    for path in [
        "/api/personas/",
        "/api/dispositions/",
        "/api/persona-weights/",
        "/api/decisions/",
        "/api/decisions/aggregate/",
    ]:
        assert path in paths


def test_a_decision_lists_its_reception_in_order(member_client, default_persona):
    from dispositions.services import reception_record

    decision = make_decision(persona=default_persona)
    now = timezone.now()
    reception_record(
        decision_id=decision.pk,
        kind="reply",
        key="reply:m-2",
        message_id="m-1",
        by_message_id="m-2",
        user_id="u-bob",
        at=now,
    )
    reception_record(
        decision_id=decision.pk,
        kind="reaction",
        key="reaction:1",
        message_id="m-1",
        user_id="u-jen",
        at=now - timedelta(seconds=5),
        detail={"emoji": "🔥"},
    )

    listed = member_client.get(reverse("decision-list")).json()["results"][0]["reception"]
    detail = member_client.get(reverse("decision-detail", args=[decision.pk])).json()["reception"]

    assert [(r["kind"], r["user_id"], r["detail"]) for r in listed] == [
        ("reaction", "u-jen", {"emoji": "🔥"}),
        ("reply", "u-bob", {}),
    ]
    assert detail == listed
    assert listed[1]["by_message_id"] == "m-2"
