"""Judgement 5. Fragments with an answer between them: someone else speaking ends a person's fragments, so what
came before an answer is not merged with what came after."""

from __future__ import annotations

from bots.host.tests.situations.model import Category, Expect, MergedTurn, Say, SeparateTurns, Situation

PIECES = {"FRAGMENT_WINDOW_SECONDS": "0.4", "FRAGMENT_MAX_SECONDS": "3"}

ANSWERED_FRAGMENTS = [
    Situation(
        id="lost-keys-answered-in-between",
        category=Category.ANSWERED_FRAGMENTS,
        description="'has anyone seen my keys?', 'on the hook', 'thanks': two turns, nothing said (pins the split)",
        expect=Expect.MUST_STAY_SILENT,
        script=(
            Say("alice", "has anyone seen my keys?", label="q"),
            Say("bob", "on the hook"),
            Say("alice", "thanks", label="t"),
        ),
        checks=(SeparateTurns("q", "t"),),
        settings=PIECES,
        seeds=3,
    ),
    Situation(
        id="meeting-time-answered-in-between",
        category=Category.ANSWERED_FRAGMENTS,
        description="carol asks when the meeting is, bob answers, carol thanks him: two quiet turns",
        expect=Expect.MUST_STAY_SILENT,
        script=(
            Say("carol", "wait when's the meeting", label="q"),
            Say("bob", "2pm"),
            Say("carol", "ah perfect ty", label="t"),
        ),
        checks=(SeparateTurns("q", "t"),),
        settings=PIECES,
        seeds=3,
    ),
    Situation(
        id="recipe-question-answered-in-random",
        category=Category.ANSWERED_FRAGMENTS,
        description="bob's question in #random, alice's answer, bob's 'nice': not one open question",
        expect=Expect.MUST_STAY_SILENT,
        script=(
            Say("bob", "how long do I bake the cookies", channel="random", label="q"),
            Say("alice", "12 minutes at 180", channel="random"),
            Say("bob", "nice", channel="random", label="t"),
        ),
        checks=(SeparateTurns("q", "t"),),
        settings=PIECES,
        seeds=3,
    ),
    Situation(
        id="fragments-with-nobody-between-still-merge",
        category=Category.ANSWERED_FRAGMENTS,
        description="alice's two pieces with nobody speaking between are still one turn",
        expect=Expect.MAY_EITHER,
        script=(Say("alice", "so the build", label="a"), Say("alice", "is red again", label="b")),
        checks=(MergedTurn(("a", "b")),),
        settings=PIECES,
        seeds=2,
    ),
    Situation(
        id="an-unfinished-address-interrupted",
        category=Category.ANSWERED_FRAGMENTS,
        description="'@Sol so about the trip', bob cuts in, then alice goes on: bob's line ends her first piece",
        expect=Expect.MUST_SPEAK,
        script=(
            Say("alice", "{bot} so about the trip", label="a"),
            Say("bob", "oh the trip! I'm in"),
            Say("alice", "june or july", label="b"),
        ),
        checks=(SeparateTurns("a", "b"),),
        settings=PIECES,
        seeds=2,
    ),
    Situation(
        id="three-people-interleaving",
        category=Category.ANSWERED_FRAGMENTS,
        description="alice, bob and carol interleave short lines: nobody's lines merge across someone else's",
        expect=Expect.MUST_STAY_SILENT,
        script=(
            Say("alice", "pizza?", label="a1"),
            Say("bob", "yes"),
            Say("alice", "pepperoni", label="a2"),
            Say("carol", "veggie for me"),
            Say("alice", "ok both", label="a3"),
        ),
        checks=(SeparateTurns("a1", "a2"), SeparateTurns("a2", "a3")),
        settings=PIECES,
        seeds=3,
    ),
]
