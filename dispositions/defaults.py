"""The shipped default persona and dispositions as router specs, read straight from the fixture file.

For callers without a database (the router's tests, the benchmark): they route over exactly what
`loaddata default_persona` installs. Everything else reads personas through `selectors`.
"""

from __future__ import annotations

import json
from pathlib import Path

from dispositions.specs import DispositionSpec, PersonaSpec

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "default_persona.json"


def default_routing() -> tuple[PersonaSpec, list[DispositionSpec]]:
    """The Dit persona and its ten dispositions, ids numbered from 1 in slug order."""
    records = json.loads(FIXTURE.read_text())
    persona_fields = next(r["fields"] for r in records if r["model"] == "dispositions.persona")
    weights = {
        r["fields"]["disposition"][0]: r["fields"]["weight"]
        for r in records
        if r["model"] == "dispositions.personadispositionweight"
    }
    rows = sorted((r["fields"] for r in records if r["model"] == "dispositions.disposition"), key=lambda f: f["slug"])
    specs = [DispositionSpec.from_row(f, id=number) for number, f in enumerate(rows, start=1)]
    persona = PersonaSpec(
        name=persona_fields["name"],
        id=1,
        eligible_voices=frozenset(persona_fields["eligible_voices"]),
        weights=weights,
        wake_words=tuple(persona_fields["wake_words"]),
    )
    return persona, specs
