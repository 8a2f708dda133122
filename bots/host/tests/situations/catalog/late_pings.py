"""Judgement 4. Late pings: a ping right after one's own unanswered question gets that question answered, once,
in words; a question put to the bot never gets a reaction alone; a ping about a question the bot already
answered gets no second reply."""

from __future__ import annotations

from bots.host.tests.situations.model import (
    AnsweringTurns,
    BotMessages,
    Category,
    Earlier,
    Expect,
    LateAddressOf,
    MomentHas,
    NoLoneReaction,
    Pause,
    RepliesTo,
    Say,
    Situation,
)

ONCE = (NoLoneReaction(), AnsweringTurns(at_most=1), BotMessages(at_most=1))

LATE_PINGS = [
    Situation(
        id="a-question-then-a-bare-mention",
        category=Category.LATE_PINGS,
        description="alice's question, then a bare '@Sol': the question is answered once, in words",
        expect=Expect.MUST_SPEAK,
        script=(
            Say("alice", "how many days are in a leap year?", label="q"),
            Pause(0.3),
            Say("alice", "{bot}", label="n"),
        ),
        checks=(LateAddressOf("n", "q"), RepliesTo("q", name="alice"), *ONCE),
        seeds=3,
    ),
    Situation(
        id="a-question-then-a-caret-ping",
        category=Category.LATE_PINGS,
        description="bob's question, then '@Sol ^^': answered once, as a reply to the question",
        expect=Expect.MUST_SPEAK,
        script=(
            Say("bob", "who wrote the hitchhiker's guide?", label="q"),
            Pause(0.3),
            Say("bob", "{bot} ^^", label="n"),
        ),
        checks=(LateAddressOf("n", "q"), RepliesTo("q", name="bob"), *ONCE),
        seeds=3,
    ),
    Situation(
        id="a-question-in-random-then-sol-question-mark",
        category=Category.LATE_PINGS,
        description="carol's question in #random, then 'sol?': answered once, in words",
        expect=Expect.MUST_SPEAK,
        script=(
            Say("carol", "what's the boiling point of water in fahrenheit?", channel="random", label="q"),
            Pause(0.3),
            Say("carol", "sol?", channel="random", label="n"),
        ),
        checks=(LateAddressOf("n", "q"), *ONCE),
        seeds=3,
    ),
    Situation(
        id="a-question-asked-a-few-minutes-ago-then-a-ping",
        category=Category.LATE_PINGS,
        description="a question from four minutes ago, then '@Sol ??': the question is answered once",
        expect=Expect.MUST_SPEAK,
        setup=(Earlier("alice", "when does daylight saving end this year?", minutes_ago=4, label="q"),),
        script=(Say("alice", "{bot} ??", label="n"),),
        checks=(LateAddressOf("n", "q"), *ONCE),
        seeds=3,
    ),
    Situation(
        id="a-direct-question-is-never-only-a-reaction",
        category=Category.LATE_PINGS,
        description="a question put straight to the bot is answered in words (pins 'no reaction alone')",
        expect=Expect.MUST_SPEAK,
        script=(Say("bob", "{bot} is it going to rain tomorrow?"),),
        checks=(NoLoneReaction(),),
        weights={"vibing": 20.0},
        seeds=3,
    ),
    Situation(
        id="a-ping-about-a-question-already-answered",
        category=Category.LATE_PINGS,
        description="the bot answered alice a minute ago; her '@Sol ^^' gets no second reply (a reaction at most)",
        expect=Expect.NO_WORDS,
        setup=(
            Earlier("alice", "what's the capital of Australia?", minutes_ago=2, label="q"),
            Earlier("sol", "Canberra, not Sydney.", minutes_ago=1.5),
        ),
        script=(Say("alice", "{bot} ^^", label="n"),),
        checks=(MomentHas({"already_answered": True}, label="n"),),
        seeds=3,
    ),
]
