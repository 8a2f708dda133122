"""Judgement 1. Questions between people: an unaddressed question is for the people first; the bot takes one up
only when it was put to the room, has waited a while unanswered, and is in its lane (a fact or an explanation)."""

from __future__ import annotations

from bots.host.tests.situations.catalog.presets import NOTHING_UNPROMPTED
from bots.host.tests.situations.model import (
    Category,
    Earlier,
    Expect,
    NotRepliedTo,
    RepliesTo,
    Say,
    Situation,
    Unprompted,
)

QUESTIONS = [
    Situation(
        id="anyone-seen-the-game-between-two-people",
        category=Category.QUESTIONS,
        description="'anyone seen the game last night?' between alice and bob is theirs (pins the wait on questions)",
        expect=Expect.MUST_STAY_SILENT,
        setup=(Say("bob", "home at last"),),
        script=(Say("alice", "anyone seen the game last night?"), Say("bob", "nah, missed it")),
        seeds=3,
    ),
    Situation(
        id="a-question-bob-is-answering",
        category=Category.QUESTIONS,
        description="carol's question that bob answers at once stays theirs (pins 'someone is answering')",
        expect=Expect.MUST_STAY_SILENT,
        script=(
            Say("carol", "what's the wifi password here?", label="q"),
            Say("bob", "tangerine42, on the fridge", reply_to="q"),
        ),
        checks=(NotRepliedTo("q"),),
        seeds=3,
    ),
    Situation(
        id="a-question-to-the-room-just-asked",
        category=Category.QUESTIONS,
        description="a how-to put to the room a moment ago waits for people first (pins the wait on questions)",
        expect=Expect.MUST_STAY_SILENT,
        script=(Say("alice", "does anyone know how to undo a git commit?", channel="random"),),
        seeds=3,
    ),
    Situation(
        id="a-room-question-waiting-five-minutes",
        category=Category.QUESTIONS,
        description="a question put to the room five minutes ago, nobody answering, gets the bot on an unprompted turn",
        expect=Expect.MUST_SPEAK,
        setup=(Earlier("bob", "anyone know how many ml are in a cup?", minutes_ago=5, label="q"),),
        script=(Unprompted("general"),),
        checks=(RepliesTo("q", name="bob"),),
        seeds=3,
    ),
    Situation(
        id="the-asker-bumps-a-room-question",
        category=Category.QUESTIONS,
        description="carol bumps her unanswered room question with 'anyone?': the bot answers the question",
        expect=Expect.MUST_SPEAK,
        setup=(Earlier("carol", "is there a way to mute a single thread on discord?", minutes_ago=6, label="q"),),
        script=(Say("carol", "anyone?", channel="general"),),
        checks=(RepliesTo("q", name="carol"),),
        seeds=3,
    ),
    Situation(
        id="a-personal-question-left-hanging",
        category=Category.QUESTIONS,
        description="'is anyone coming to the gym later?' is about people, not the bot's lane: left alone unanswered",
        expect=Expect.MUST_STAY_SILENT,
        setup=(Earlier("alice", "is anyone coming to the gym later?", minutes_ago=7),),
        script=(Unprompted("general"),),
        weights=NOTHING_UNPROMPTED,
        seeds=3,
    ),
    Situation(
        id="a-room-question-someone-took-up",
        category=Category.QUESTIONS,
        description="a room question bob answered minutes ago is not taken up again on an unprompted turn",
        expect=Expect.MUST_STAY_SILENT,
        setup=(
            Earlier("alice", "does anyone know when the library closes?", minutes_ago=9),
            Earlier("bob", "8pm on weekdays I think", minutes_ago=8),
        ),
        script=(Unprompted("general"),),
        weights=NOTHING_UNPROMPTED,
        seeds=3,
    ),
]
