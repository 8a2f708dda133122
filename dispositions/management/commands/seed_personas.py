"""`manage.py seed_personas`: load the default persona only into a database that has none.

`loaddata default_persona` always writes the fixture's values, which would undo every weight tuned in
admin; this command is what set-up scripts and deployments run on every start instead.
"""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand

from dispositions.models import Persona

FIXTURE = "default_persona"


class Command(BaseCommand):
    help = "Load the default persona and the canonical dispositions, unless a persona already exists."

    def handle(self, *args: Any, **options: Any) -> None:
        if Persona.objects.exists():
            self.stdout.write("personas already exist: nothing loaded (tuning kept)")
            return
        call_command("loaddata", FIXTURE, verbosity=0)
        self.stdout.write(self.style.SUCCESS(f"loaded {FIXTURE}: {Persona.objects.count()} persona"))
