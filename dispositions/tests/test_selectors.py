from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from dispositions.models import DispositionDecision
from dispositions.selectors import aload_routing_candidates, decision_aggregate, load_routing_candidates
from dispositions.specs import FollowupHint
from dispositions.tests.factories import (
    DispositionFactory,
    PersonaDispositionWeightFactory,
    PersonaFactory,
    make_decision,
)
from dit_project.errors import NotFound

pytestmark = pytest.mark.django_db


def test_routing_candidates_load_in_two_queries_with_weights_by_slug(django_assert_num_queries):
    persona = PersonaFactory.create(wake_words=["dit", "ditto"], banned_phrases=["as an ai"])
    weighted = DispositionFactory.create(
        slug="quick-react",
        followup_bias="go-deeper",
        followup_probability=0.1,
        followup_window_min_seconds=30,
        followup_window_max_seconds=120,
        fanout_plan=["comedian"],
    )
    DispositionFactory.create(slug="unweighted")
    DispositionFactory.create(slug="disabled", enabled=False)
    PersonaDispositionWeightFactory.create(persona=persona, disposition=weighted, weight=2.5)
    PersonaDispositionWeightFactory.create(
        disposition=DispositionFactory.create(slug="other-persona-weight"), weight=0.0
    )

    with django_assert_num_queries(2):
        spec, candidates = load_routing_candidates(persona.pk)

    assert [c.slug for c in candidates] == ["other-persona-weight", "quick-react", "unweighted"]
    assert spec.weights == {"other-persona-weight": 1.0, "quick-react": 2.5, "unweighted": 1.0}
    assert spec.wake_words == ("dit", "ditto")
    assert spec.banned_phrases == ("as an ai",)
    quick = candidates[1]
    assert quick.id == weighted.pk
    assert quick.fanout_plan == ("comedian",)
    assert quick.followup_hint == FollowupHint(0.1, "go-deeper", 30, 120)
    assert candidates[2].followup_hint is None


def test_routing_candidates_for_a_missing_persona_is_not_found():
    with pytest.raises(NotFound, match="Persona 999999 does not exist"):
        load_routing_candidates(999999)


async def test_routing_candidates_load_on_the_event_loop(async_db_connections):
    from asgiref.sync import sync_to_async

    persona = await sync_to_async(PersonaFactory.create)()
    disposition = await sync_to_async(DispositionFactory.create)(slug="vibing")
    await sync_to_async(PersonaDispositionWeightFactory.create)(persona=persona, disposition=disposition, weight=0.4)

    spec, candidates = await aload_routing_candidates(persona.pk)

    assert spec.weights == {"vibing": 0.4}
    assert [c.slug for c in candidates] == ["vibing"]


def test_the_aggregate_counts_decisions_per_disposition_and_shape_inside_the_window(default_persona):
    now = timezone.now()
    inside = [make_decision(persona=default_persona, seed=seed) for seed in range(30)]
    old = make_decision(persona=default_persona, seed=99)
    DispositionDecision.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=3))
    make_decision(persona=default_persona, seed=100, guild_id="g-2")

    result = decision_aggregate(since=now - timedelta(hours=1), until=now + timedelta(seconds=5), guild_id="g-1")

    expected_slugs: dict[str, int] = {}
    expected_shapes: dict[str, int] = {}
    for decision in inside:
        expected_slugs[decision.chosen_slug] = expected_slugs.get(decision.chosen_slug, 0) + 1
        expected_shapes[decision.output_shape] = expected_shapes.get(decision.output_shape, 0) + 1
    assert result.total == 30
    assert dict(result.by_disposition) == expected_slugs
    assert dict(result.by_output_shape) == expected_shapes
    counts = [count for _, count in result.by_disposition]
    assert counts == sorted(counts, reverse=True)
