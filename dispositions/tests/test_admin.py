from __future__ import annotations

import pytest
from django.urls import reverse

from dispositions.models import Disposition, DispositionDecision, PersonaDispositionWeight
from dispositions.services import decide_turn
from dispositions.specs import Moment, RouterConfig
from dispositions.tests.factories import make_decision

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:dispositions_dispositiondecision_changelist")


def mention_decision(persona, seed=11):
    return decide_turn(
        # From a regular the bot knows, so every disposition (teasing ones too) is a candidate.
        moment=Moment(
            message_text="@dit what now",
            addressed=True,
            address_kind="mention",
            sender_messages_seen=50,
            sender_first_seen_seconds=30 * 86400,
        ),
        persona_id=persona.pk,
        config=RouterConfig(),
        seed=seed,
        guild_id="g-1",
        channel_id="c-general",
        bot_id=1,
        inbound_message_id=f"m-{seed}",
    )


def inline_post_data(persona, weights):
    rows = list(PersonaDispositionWeight.objects.filter(persona=persona).select_related("disposition"))
    data = {
        "name": persona.name,
        "soul_text": persona.soul_text,
        "banned_phrases": "\n".join(persona.banned_phrases),
        "never_do": "\n".join(persona.never_do),
        "wake_words": "\n".join(persona.wake_words),
        "eligible_voices": persona.eligible_voices,
        "disposition_weights-TOTAL_FORMS": str(len(rows)),
        "disposition_weights-INITIAL_FORMS": str(len(rows)),
        "disposition_weights-MIN_NUM_FORMS": "0",
        "disposition_weights-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        prefix = f"disposition_weights-{index}"
        data[f"{prefix}-id"] = str(row.pk)
        data[f"{prefix}-persona"] = str(persona.pk)
        data[f"{prefix}-disposition"] = str(row.disposition_id)
        data[f"{prefix}-weight"] = str(weights.get(row.disposition.slug, row.weight))
    return data


def test_the_persona_page_edits_disposition_weights_inline(admin_client, default_persona):
    url = reverse("admin:dispositions_persona_change", args=[default_persona.pk])

    page = admin_client.get(url)
    response = admin_client.post(url, inline_post_data(default_persona, {"roast-back": 2.5}))

    assert page.status_code == 200
    assert "disposition_weights-0-weight" in page.content.decode()
    assert response.status_code == 302
    weight = PersonaDispositionWeight.objects.get(persona=default_persona, disposition__slug="roast-back")
    assert weight.weight == 2.5


def test_a_negative_inline_weight_is_refused_with_the_field_named(admin_client, default_persona):
    url = reverse("admin:dispositions_persona_change", args=[default_persona.pk])

    response = admin_client.post(url, inline_post_data(default_persona, {"vibing": -1}))

    assert response.status_code == 200
    assert "Ensure this value is greater than or equal to 0.0." in response.content.decode()
    assert PersonaDispositionWeight.objects.get(persona=default_persona, disposition__slug="vibing").weight == 1.0


def test_the_persona_form_edits_lists_one_item_per_line(admin_client, default_persona):
    url = reverse("admin:dispositions_persona_change", args=[default_persona.pk])
    data = inline_post_data(default_persona, {})
    data["wake_words"] = "Dit\r\n\r\nditto  \r\n"
    data["eligible_voices"] = ["deadpan", "playful"]

    response = admin_client.post(url, data)

    assert response.status_code == 302
    default_persona.refresh_from_db()
    assert default_persona.wake_words == ["dit", "ditto"]
    assert default_persona.eligible_voices == ["deadpan", "playful"]


def test_the_disposition_page_groups_the_dimensions_and_validates_the_window(admin_client, default_persona):
    disposition = Disposition.objects.get(slug="settle-debate")
    url = reverse("admin:dispositions_disposition_change", args=[disposition.pk])

    page = admin_client.get(url).content.decode()
    response = admin_client.post(
        url,
        {
            "name": disposition.name,
            "slug": disposition.slug,
            "reasoning_depth": "high",
            "context_strategy": "contrasting",
            "voice": "sincere",
            "output_shape": "burst",
            "search_posture": "contradiction-hunt",
            "risk_appetite": "safe",
            "followup_bias": "add-nuance",
            "followup_probability": "0.3",
            "followup_window_min_seconds": "300",
            "followup_window_max_seconds": "60",
            "fanout_plan": ["memory-archeologist"],
            "enabled": "on",
        },
    )

    assert "Dimensions" in page
    assert "Self-followup hint" in page
    assert "Fan-out" in page
    assert response.status_code == 200
    assert "The window maximum must not be below the minimum." in response.content.decode()
    disposition.refresh_from_db()
    assert disposition.followup_window_max_seconds == 300


def test_the_decision_list_is_read_only_and_filterable(admin_client, default_persona):
    reactive = mention_decision(default_persona)
    speculative = decide_turn(
        moment=Moment(trigger="speculative", lull_seconds=7200),
        persona_id=default_persona.pk,
        config=RouterConfig(),
        seed=1,
        guild_id="g-1",
        channel_id="c-random",
        bot_id=1,
    )

    page = admin_client.get(CHANGELIST)
    by_trigger = admin_client.get(CHANGELIST, {"trigger_kind__exact": "speculative"})
    by_channel = admin_client.get(CHANGELIST, {"channel_id": "c-general"})

    assert page.status_code == 200
    assert "Add disposition decision" not in page.content.decode()
    assert list(by_trigger.context["cl"].result_list) == [speculative]
    assert list(by_channel.context["cl"].result_list) == [reactive]
    assert admin_client.get(CHANGELIST, {"created_at__year": reactive.created_at.year}).status_code == 200


def test_a_decision_cannot_be_changed_or_deleted_in_admin(admin_client, default_persona):
    decision = mention_decision(default_persona)
    change = reverse("admin:dispositions_dispositiondecision_change", args=[decision.pk])
    delete = reverse("admin:dispositions_dispositiondecision_delete", args=[decision.pk])

    assert admin_client.post(change, {"chosen_slug": "roast-back"}).status_code == 403
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    decision.refresh_from_db()
    assert DispositionDecision.objects.filter(pk=decision.pk).exists()


def test_the_decision_changelist_query_count_does_not_grow_with_rows(
    admin_client, default_persona, django_assert_num_queries
):
    for seed in range(3):
        make_decision(persona=default_persona, seed=seed, channel_id=f"c-{seed}")
    admin_client.get(CHANGELIST)  # warm the session and content types

    with django_assert_num_queries(9):  # the outcome filter lists the endings in one query
        small = admin_client.get(CHANGELIST)
    for seed in range(3, 30):
        make_decision(persona=default_persona, seed=seed, channel_id=f"c-{seed}")
    with django_assert_num_queries(9):  # the outcome filter lists the endings in one query
        large = admin_client.get(CHANGELIST)

    assert len(small.context["cl"].result_list) == 3
    assert len(large.context["cl"].result_list) == 30


def test_the_decision_page_shows_each_candidates_score_and_reasons(admin_client, default_persona):
    decision = mention_decision(default_persona)

    html = admin_client.get(
        reverse("admin:dispositions_dispositiondecision_change", args=[decision.pk])
    ).content.decode()

    assert 'class="dispositions-scores"' in html
    for row in decision.candidate_scores:
        assert row["slug"] in html
        assert f"{row['score']:.3f}" in html
    assert "persona weight x0.60" in html
    assert "eliminated: addressed: silence not allowed" in html
    assert "speculative-only on a reactive trigger" in html
    assert reverse("admin:dispositions_dispositiondecision_replay", args=[decision.pk]) in html


def test_the_replay_view_says_the_same_choice_came_out(admin_client, default_persona):
    decision = mention_decision(default_persona)

    html = admin_client.get(
        reverse("admin:dispositions_dispositiondecision_replay", args=[decision.pk])
    ).content.decode()

    assert "Replay matches" in html
    assert f"the router chose {decision.chosen_slug} with {decision.context_strategy_used} again" in html
    assert "Replayed scores" in html


def test_the_replay_view_says_when_the_choice_differs(admin_client, default_persona):
    decision = mention_decision(default_persona)
    DispositionDecision.objects.filter(pk=decision.pk).update(chosen_slug="late-night-musing")

    html = admin_client.get(
        reverse("admin:dispositions_dispositiondecision_replay", args=[decision.pk])
    ).content.decode()

    assert "Replay differs" in html
    assert "logged late-night-musing" in html


def test_the_what_if_view_takes_weights_and_shows_the_new_choice_and_scores(admin_client, default_persona):
    decision = mention_decision(default_persona)
    url = reverse("admin:dispositions_dispositiondecision_what_if", args=[decision.pk])
    weights = {row["slug"]: "0" for row in decision.candidate_scores}
    weights["contrarian-take"] = "3"

    form_page = admin_client.get(url).content.decode()
    result = admin_client.post(url, weights).content.decode()

    assert 'name="roast-back"' in form_page
    assert 'value="0.6"' in form_page
    assert "With these weights the router chooses contrarian-take" in result
    assert "persona weight x3.00" in result
    assert "eliminated: persona weight 0" in result
    assert DispositionDecision.objects.count() == 1


def test_the_what_if_view_refuses_a_negative_weight(admin_client, default_persona):
    decision = mention_decision(default_persona)
    url = reverse("admin:dispositions_dispositiondecision_what_if", args=[decision.pk])

    html = admin_client.post(url, {"vibing": "-1"}).content.decode()

    assert "Ensure this value is greater than or equal to 0" in html
    assert "With these weights" not in html


def test_the_replay_action_reports_how_many_decisions_replayed_the_same(admin_client, default_persona):
    decisions = [mention_decision(default_persona, seed=seed) for seed in range(4)]

    response = admin_client.post(
        CHANGELIST,
        {"action": "replay_selected", "_selected_action": [d.pk for d in decisions]},
        follow=True,
    )

    assert "All 4 replayed to the same choice." in response.content.decode()


def test_the_persona_page_query_count_does_not_grow_with_weights(
    admin_client, default_persona, django_assert_num_queries
):
    url = reverse("admin:dispositions_persona_change", args=[default_persona.pk])
    admin_client.get(url)

    with django_assert_num_queries(6):
        full = admin_client.get(url)
    PersonaDispositionWeight.objects.filter(persona=default_persona).exclude(disposition__slug="vibing").delete()
    with django_assert_num_queries(6):
        admin_client.get(url)

    assert 'name="disposition_weights-9-weight"' in full.content.decode()


def _ended(decision, end, **outcome):
    DispositionDecision.objects.filter(pk=decision.pk).update(
        outcome={"end": end, **outcome}, router_latency_ms=37.27489499999592, latency_ms=1834.5612
    )
    decision.refresh_from_db()
    return decision


def test_the_decision_list_shows_how_each_turn_ended_and_filters_on_it(admin_client, default_persona):
    spoke = _ended(make_decision(persona=default_persona, seed=1), "spoke")
    failed = _ended(make_decision(persona=default_persona, seed=2), "error", error="RuntimeError: boom")

    page = admin_client.get(CHANGELIST)
    by_error = admin_client.get(CHANGELIST, {"outcome_end": "error"})

    html = page.content.decode()
    assert "column-ending" in html
    assert ">spoke<" in html
    assert ">error<" in html
    assert "?outcome_end=spoke" in html
    assert "?outcome_end=error" in html
    assert list(by_error.context["cl"].result_list) == [failed]
    assert spoke not in by_error.context["cl"].result_list


def test_the_decision_list_and_page_round_latencies_to_milliseconds(admin_client, default_persona):
    decision = _ended(make_decision(persona=default_persona, seed=3), "spoke")
    change = reverse("admin:dispositions_dispositiondecision_change", args=[decision.pk])

    listing = admin_client.get(CHANGELIST).content.decode()
    page = admin_client.get(change).content.decode()

    for html in (listing, page):
        assert "37 ms" in html
        assert "1,835 ms" in html
        assert "37.2748" not in html
        assert "1834.56" not in html


def test_the_decision_page_shows_the_outcome_as_a_formatted_block(admin_client, default_persona):
    decision = _ended(make_decision(persona=default_persona, seed=4), "error", error="RuntimeError: boom")
    change = reverse("admin:dispositions_dispositiondecision_change", args=[decision.pk])

    html = admin_client.get(change).content.decode()

    assert '<pre class="dispositions-outcome"' in html
    assert "{\n  &quot;end&quot;: &quot;error&quot;,\n  &quot;error&quot;: &quot;RuntimeError: boom&quot;" in html


def test_the_decision_changelist_counts_each_decisions_reception(admin_client, default_persona):
    from django.utils import timezone

    from dispositions.services import reception_record

    decision = make_decision(persona=default_persona)
    for n in range(2):
        reception_record(
            decision_id=decision.pk, kind="reaction", key=f"reaction:{n}", message_id="m-1", at=timezone.now()
        )
    reception_record(decision_id=decision.pk, kind="reply", key="reply:m-3", message_id="m-1", at=timezone.now())

    response = admin_client.get(CHANGELIST)
    page = admin_client.get(reverse("admin:dispositions_dispositiondecision_change", args=[decision.pk]))

    assert "2 reaction, 1 reply" in response.content.decode()
    assert "how its messages landed" in page.content.decode().lower()
    assert page.content.decode().count("2 reaction, 1 reply") == 1
