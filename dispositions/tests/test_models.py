from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from dispositions.models import PersonaDispositionWeight
from dispositions.tests.factories import DispositionFactory, PersonaDispositionWeightFactory, PersonaFactory

pytestmark = pytest.mark.django_db


def test_a_followup_window_with_min_above_max_is_refused_by_clean():
    disposition = DispositionFactory.build(
        followup_bias="go-deeper",
        followup_probability=0.2,
        followup_window_min_seconds=120,
        followup_window_max_seconds=30,
    )

    with pytest.raises(ValidationError) as error:
        disposition.full_clean()

    assert "followup_window_max_seconds" in error.value.message_dict


@pytest.mark.parametrize("probability", [-0.1, 1.01])
def test_a_followup_probability_outside_zero_to_one_is_refused_by_clean(probability):
    disposition = DispositionFactory.build(
        followup_bias="go-deeper",
        followup_probability=probability,
        followup_window_min_seconds=1,
        followup_window_max_seconds=2,
    )

    with pytest.raises(ValidationError) as error:
        disposition.full_clean()

    assert "followup_probability" in error.value.message_dict


def test_a_followup_bias_needs_a_window_and_a_probability_needs_a_bias():
    no_window = DispositionFactory.build(followup_bias="add-nuance", followup_probability=0.3)
    no_bias = DispositionFactory.build(followup_probability=0.3)

    with pytest.raises(ValidationError) as first:
        no_window.full_clean()
    with pytest.raises(ValidationError) as second:
        no_bias.full_clean()

    assert {"followup_window_min_seconds", "followup_window_max_seconds"} <= set(first.value.message_dict)
    assert "followup_bias" in second.value.message_dict


def test_a_disposition_dimension_outside_its_choices_is_refused_by_full_clean():
    disposition = DispositionFactory.build(voice="sarcastic", context_strategy="vibes")

    with pytest.raises(ValidationError) as error:
        disposition.full_clean()

    assert {"voice", "context_strategy"} <= set(error.value.message_dict)


def test_the_database_refuses_an_inverted_window_and_a_probability_above_one():
    with pytest.raises(IntegrityError), transaction.atomic():
        DispositionFactory.create(followup_window_min_seconds=10, followup_window_max_seconds=5)
    with pytest.raises(IntegrityError), transaction.atomic():
        DispositionFactory.create(followup_probability=1.5)


def test_a_negative_weight_is_refused_by_clean_and_by_the_database():
    weight = PersonaDispositionWeightFactory.build(
        persona=PersonaFactory.create(), disposition=DispositionFactory.create(), weight=-0.5
    )

    with pytest.raises(ValidationError) as error:
        weight.full_clean()
    assert "weight" in error.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        weight.save()


def test_one_weight_per_persona_and_disposition():
    existing = PersonaDispositionWeightFactory.create()

    with pytest.raises(IntegrityError), transaction.atomic():
        PersonaDispositionWeight.objects.create(persona=existing.persona, disposition=existing.disposition, weight=2)


def test_persona_wake_words_are_normalised_and_must_not_be_blank():
    persona = PersonaFactory.build(wake_words=[" Dit ", "DITTY"])
    persona.full_clean()
    assert persona.wake_words == ["dit", "ditty"]

    persona.wake_words = ["dit", "  "]
    with pytest.raises(ValidationError) as error:
        persona.full_clean()
    assert "wake_words" in error.value.message_dict


def test_a_new_persona_may_use_every_voice():
    persona = PersonaFactory.create()

    assert len(persona.eligible_voices) == 11


def test_natural_keys_name_personas_dispositions_and_weights():
    weight = PersonaDispositionWeightFactory.create(persona__name="Dit", disposition__slug="vibing")

    assert weight.natural_key() == ("Dit", "vibing")
    assert PersonaDispositionWeight.objects.get_by_natural_key("Dit", "vibing") == weight
