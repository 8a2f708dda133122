"""Judgement 3. Celebrations and jokes: good news or a joke that lands gets a reaction as the likely answer;
unaddressed, never a text reply; addressed, a reaction or a short line, never a burst."""

from __future__ import annotations

from bots.host.tests.situations.model import (
    Category,
    Expect,
    MomentHas,
    ReactedTo,
    Say,
    ShapesOnly,
    Situation,
)

SHORT = frozenset({"react-only", "single-line"})

CELEBRATIONS = [
    Situation(
        id="good-news-in-capitals-in-general",
        category=Category.CELEBRATIONS,
        description="'I GOT THE JOB!!!' to the room: a reaction if anything (pins the celebration rule)",
        expect=Expect.NO_WORDS,
        script=(Say("alice", "I GOT THE JOB!!!", label="news"),),
        checks=(ReactedTo("news"), MomentHas({"celebration": True}, label="news")),
        seeds=3,
    ),
    Situation(
        id="good-news-with-a-party-emoji",
        category=Category.CELEBRATIONS,
        description="'we shipped it 🎉' in #random: a reaction if anything",
        expect=Expect.NO_WORDS,
        script=(Say("bob", "we shipped it 🎉", channel="random", label="news"),),
        checks=(ReactedTo("news"),),
        seeds=3,
    ),
    Situation(
        id="good-news-told-to-the-bot-by-name",
        category=Category.CELEBRATIONS,
        description="'dit, I passed my exam!!' gets a reaction or a short line",
        expect=Expect.MUST_SPEAK,
        script=(Say("carol", "dit, I passed my exam!!"),),
        checks=(ShapesOnly(SHORT),),
        seeds=3,
    ),
    Situation(
        id="good-news-replying-to-the-bot",
        category=Category.CELEBRATIONS,
        description="a reply to the bot with good news gets a reaction or a short line",
        expect=Expect.MUST_SPEAK,
        setup=(Say("alice", "{bot} any tips for a job interview today?"),),
        script=(Say("alice", "update: got the offer!! 🥳", reply_to="bot"),),
        checks=(ShapesOnly(SHORT),),
        seeds=3,
    ),
    Situation(
        id="a-pun-the-room-laughs-at",
        category=Category.CELEBRATIONS,
        description="bob's pun, carol's 'lmao': a reaction on the pun, if anything (pins the joke that landed)",
        expect=Expect.NO_WORDS,
        script=(
            Say("bob", "I'm reading a book about anti-gravity. it's impossible to put down", label="joke"),
            Say("carol", "lmao", label="laugh"),
        ),
        checks=(ReactedTo("joke"), MomentHas({"celebration": True}, label="laugh")),
        seeds=3,
    ),
    Situation(
        id="a-joke-in-random-laughed-at",
        category=Category.CELEBRATIONS,
        description="alice's one-liner in #random and bob's 'hahaha 😂': a reaction on the one-liner, no text",
        expect=Expect.NO_WORDS,
        script=(
            Say("alice", "my code doesn't have bugs, it has surprise features", channel="random", label="joke"),
            Say("bob", "hahaha 😂", channel="random"),
        ),
        checks=(ReactedTo("joke"),),
        seeds=3,
    ),
]
