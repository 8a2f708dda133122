"""The shipped default persona and dispositions as router specs, read straight from the fixture file.

For callers without a database (the router's tests, the benchmark): they route over exactly what
`loaddata default_persona` installs. Everything else reads personas through `selectors`.
"""

from __future__ import annotations

import json
from pathlib import Path

from dispositions.router import DispositionSpec, FollowupHint, PersonaSpec

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
    specs = []
    for number, f in enumerate(rows, start=1):
        hint = None
        if f["followup_bias"]:
            hint = FollowupHint(
                f["followup_probability"],
                f["followup_bias"],
                f["followup_window_min_seconds"],
                f["followup_window_max_seconds"],
            )
        specs.append(
            DispositionSpec(
                slug=f["slug"],
                name=f["name"],
                id=number,
                reasoning_depth=f["reasoning_depth"],
                context_strategy=f["context_strategy"],
                voice=f["voice"],
                output_shape=f["output_shape"],
                search_posture=f["search_posture"],
                risk_appetite=f["risk_appetite"],
                fanout_plan=tuple(f["fanout_plan"]),
                followup_hint=hint,
                speculative_only=f["speculative_only"],
            )
        )
    persona = PersonaSpec(
        name=persona_fields["name"],
        id=1,
        eligible_voices=frozenset(persona_fields["eligible_voices"]),
        weights=weights,
        wake_words=tuple(persona_fields["wake_words"]),
    )
    return persona, specs
