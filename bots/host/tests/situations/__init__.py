"""The group-chat situation suite: labelled situations as data, a driver and a report.

Each situation says who says what, where and when, and what the bot must and must not do. The driver plays it
against the real host, the real discord.py client and the local Discord, with the local model server standing
in for the model; it is played once per seed where the router samples. After every run the invariants are
checked (no performed silence as text, no DM leak, no double reply, no bot loop past the cap), and the report
prints, per category, how often the bot spoke when it should have and kept quiet when it should have.

- `model`: the vocabulary situations are written in (steps, expectations, checks).
- `catalog`: the situations themselves, one list per category.
- `model_server`: the local OpenAI-compatible server, answering like a model would for each prompt it gets.
- `driver`: plays one situation for one seed on a fresh local Discord and returns what happened.
- `invariants`: the rules every run must keep, whatever the situation.
- `report`: balanced accuracy per category and every broken invariant, printed at the end of the test run.
"""
