"""Judgement 9. Shape for the question: a plain factual question gets one plain line; asked to explain or to
settle something, the bot may take more room."""

from __future__ import annotations

from bots.host.tests.situations.model import (
    BotMessages,
    Category,
    Expect,
    MomentHas,
    NoLoneReaction,
    Say,
    ShapesOnly,
    Situation,
)

ONE_LINE = frozenset({"single-line"})

SHAPE = [
    Situation(
        id="a-capital-question",
        category=Category.SHAPE,
        description="'@Sol what's the capital of Peru?' gets one line (pins shape following the question)",
        expect=Expect.MUST_SPEAK,
        script=(Say("alice", "{bot} what's the capital of Peru?", label="q"),),
        checks=(ShapesOnly(ONE_LINE), BotMessages(at_most=1), MomentHas({"question_kind": "fact"}, label="q")),
        seeds=3,
    ),
    Situation(
        id="a-when-question-by-name",
        category=Category.SHAPE,
        description="'sol when did the first iphone come out?' gets one line",
        expect=Expect.MUST_SPEAK,
        script=(Say("bob", "sol when did the first iphone come out?"),),
        checks=(ShapesOnly(ONE_LINE), BotMessages(at_most=1)),
        seeds=3,
    ),
    Situation(
        id="a-how-many-question-in-random",
        category=Category.SHAPE,
        description="'@Sol how many legs does a spider have?' in #random gets one line",
        expect=Expect.MUST_SPEAK,
        script=(Say("carol", "{bot} how many legs does a spider have?", channel="random"),),
        checks=(ShapesOnly(ONE_LINE), BotMessages(at_most=1)),
        seeds=3,
    ),
    Situation(
        id="a-factual-question-in-a-reply",
        category=Category.SHAPE,
        description="a factual follow-up replying to the bot gets one line",
        expect=Expect.MUST_SPEAK,
        setup=(Say("alice", "{bot} tell me a fun fact about space"),),
        script=(Say("alice", "which planet is the hottest?", reply_to="bot"),),
        checks=(ShapesOnly(ONE_LINE), BotMessages(at_most=1)),
        seeds=3,
    ),
    Situation(
        id="asked-why-the-sky-is-blue",
        category=Category.SHAPE,
        description="'@Sol why is the sky blue? explain it simply' is an explanation: words, room allowed",
        expect=Expect.MUST_SPEAK,
        script=(Say("bob", "{bot} why is the sky blue? explain it simply", label="q"),),
        checks=(NoLoneReaction(), MomentHas({"question_kind": "explain"}, label="q")),
        seeds=2,
    ),
    Situation(
        id="asked-the-difference-between-two-things",
        category=Category.SHAPE,
        description="'what's the difference between TCP and UDP?' to the bot is an explanation",
        expect=Expect.MUST_SPEAK,
        script=(Say("carol", "dit what's the difference between TCP and UDP?", label="q"),),
        checks=(NoLoneReaction(), MomentHas({"question_kind": "explain"}, label="q")),
        seeds=2,
    ),
]
