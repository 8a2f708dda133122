"""Judgement 8. Unprompted turns that answer nothing: they pick what fits an unprompted moment (observing, calling
back, musing) or stay silent, and a nearly spent budget silences them."""

from __future__ import annotations

from bots.host.tests.situations.model import (
    Category,
    ChosenOnly,
    Earlier,
    Expect,
    MomentHas,
    Say,
    Situation,
    Unprompted,
)

FITS = frozenset({"late-night-musing", "observation-drop", "callback-from-memory"})
# Only the cheap answering dispositions could speak: what a nearly spent budget leaves a turn.
CHEAP_ONLY = {"late-night-musing": 0.0, "observation-drop": 0.0, "callback-from-memory": 0.0, "silent-listen": 0.2}

UNPROMPTED = [
    Situation(
        id="an-unprompted-turn-with-one-percent-left",
        category=Category.UNPROMPTED,
        description="a speculative turn with 1% of the budget left stays silent (pins the budget floor)",
        expect=Expect.MUST_STAY_SILENT,
        setup=(Earlier("bob", "night all", minutes_ago=120),),
        script=(Unprompted("general"),),
        budget_left=0.01,
        weights=CHEAP_ONLY,
        seeds=3,
    ),
    Situation(
        id="an-unprompted-turn-with-eight-percent-left",
        category=Category.UNPROMPTED,
        description="a speculative turn with 8% left after a lull stays silent (a nearly spent budget)",
        expect=Expect.MUST_STAY_SILENT,
        setup=(Earlier("alice", "ok back to work", minutes_ago=300),),
        script=(Unprompted("random"),),
        budget_left=0.08,
        seeds=3,
    ),
    Situation(
        id="an-unprompted-turn-after-a-four-hour-lull",
        category=Category.UNPROMPTED,
        description="four quiet hours later, an unprompted turn observes, calls back or muses; it answers nothing",
        expect=Expect.MAY_EITHER,
        setup=(
            Earlier("alice", "what time is the demo tomorrow?", minutes_ago=250),
            Earlier("bob", "10am", minutes_ago=245),
        ),
        script=(Unprompted("general"),),
        checks=(ChosenOnly(FITS),),
        seeds=4,
    ),
    Situation(
        id="an-unprompted-turn-after-a-quiet-night",
        category=Category.UNPROMPTED,
        description="after a night of silence in #random, no answering disposition fires",
        expect=Expect.MAY_EITHER,
        setup=(Earlier("carol", "that movie was wild", minutes_ago=600, channel="random"),),
        script=(Unprompted("random"),),
        checks=(ChosenOnly(FITS),),
        seeds=4,
    ),
    Situation(
        id="an-unprompted-turn-with-only-answering-dispositions",
        category=Category.UNPROMPTED,
        description="with nothing that fits an unprompted moment, an unprompted turn stays silent",
        expect=Expect.MUST_STAY_SILENT,
        setup=(Earlier("alice", "so quiet today", minutes_ago=200),),
        script=(Unprompted("general"),),
        weights=CHEAP_ONLY,
        seeds=3,
    ),
    Situation(
        id="an-unprompted-turn-into-a-busy-chat",
        category=Category.UNPROMPTED,
        description="an unprompted turn while people are chatting answers nothing of theirs",
        expect=Expect.MAY_EITHER,
        setup=(Say("alice", "so what's everyone doing later"), Say("bob", "gym, then pizza")),
        script=(Unprompted("general"),),
        checks=(ChosenOnly(FITS), MomentHas({"unanswered_questions": 0})),
        seeds=3,
    ),
]
