"""Settings and persona weights that make a rule observable from outside, for the situations.

- REQUIRE_MENTION=true turns "not addressed" into "no turn at all", so addressing is judged by what the bot does;
- `vibing` (react-only) at weight 0 makes addressed turns answer in words where a check needs a message to read;
- `silent-listen` and `vibing` at weight 0 make every turn that reaches the router want to say something in words;
- the dispositions that fit an unprompted moment (musing, observing, calling back) at weight 0 leave an unprompted
  turn only what answers something: it speaks only when there is something to answer.
"""

from __future__ import annotations

MENTION_ONLY = {"REQUIRE_MENTION": "true"}
WORDS_ONLY = {"vibing": 0.0}
ALWAYS_SPEAKS = {"silent-listen": 0.0, "vibing": 0.0}
# Every reactive disposition but settle-debate (a burst) off: an addressed message is answered with a burst.
BURST_ONLY = dict.fromkeys(
    (
        "silent-listen",
        "vibing",
        "quick-react",
        "roast-back",
        "factual-recall",
        "callback-from-memory",
        "contrarian-take",
    ),
    0.0,
)
ALLOW_DEPLOYBOT = {"ALLOWED_BOTS": "{id:deploybot}"}
NOTHING_UNPROMPTED = {"late-night-musing": 0.0, "observation-drop": 0.0, "callback-from-memory": 0.0}
