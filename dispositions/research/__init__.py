"""The research personas a turn fans out to before the synthesizer, one module each, under one registry.

`registry.personas_for` picks who fires; `fanout.fan_out` runs them in parallel; `material.research_block`
is what the synthesizer reads; `uptake.measure` is how much of each payload the reply used.
"""
