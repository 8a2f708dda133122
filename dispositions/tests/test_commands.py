from io import StringIO

import pytest
from django.core.management import call_command

from dispositions.models import Disposition, Persona, PersonaDispositionWeight

pytestmark = pytest.mark.django_db


def test_seed_personas_loads_the_default_persona_into_an_empty_database():
    out = StringIO()

    call_command("seed_personas", stdout=out)

    assert list(Persona.objects.values_list("name", flat=True)) == ["Dit"]
    assert Disposition.objects.count() == 10
    assert "loaded default_persona" in out.getvalue()


def test_seed_personas_keeps_weights_tuned_in_admin():
    call_command("seed_personas", stdout=StringIO())
    weight = PersonaDispositionWeight.objects.select_related("disposition").get(disposition__slug="roast-back")
    weight.weight = 7.5
    weight.save(update_fields=["weight"])
    out = StringIO()

    call_command("seed_personas", stdout=out)

    weight.refresh_from_db()
    assert weight.weight == 7.5
    assert "nothing loaded" in out.getvalue()
