"""Judgement 10. Ambient turns compound: unprompted speech is budgeted per channel and time (how recently the bot
spoke, how many people are talking to each other, how long since anyone addressed it), not per message, so the
chance falls while people talk among themselves."""

from __future__ import annotations

from bots.host.tests.situations.model import Category, Earlier, Expect, MomentHas, Say, Situation

AMBIENT_BUDGET = [
    Situation(
        id="six-lines-about-a-movie",
        category=Category.AMBIENT_BUDGET,
        description="six lines of alice and bob on a movie: the bot stays out (pins the budget per exchange)",
        expect=Expect.MUST_STAY_SILENT,
        script=(
            Say("alice", "finally watched dune last night"),
            Say("bob", "and??"),
            Say("alice", "the sound design was insane"),
            Say("bob", "told you, imax was worth it"),
            Say("alice", "part two this weekend then"),
            Say("bob", "deal", label="last"),
        ),
        checks=(MomentHas({"exchange_humans": 2, "exchange_messages": 6}, label="last"),),
        seeds=3,
    ),
    Situation(
        id="four-people-planning-dinner",
        category=Category.AMBIENT_BUDGET,
        description="four people planning dinner in #random: the bot stays out",
        expect=Expect.MUST_STAY_SILENT,
        script=(
            Say("alice", "dinner friday, who's in", channel="random"),
            Say("bob", "me", channel="random"),
            Say("carol", "me too, somewhere cheap", channel="random"),
            Say("dave", "the noodle place then", channel="random"),
            Say("alice", "booked for 7", channel="random"),
        ),
        members=("alice", "bob", "carol", "dave"),
        seeds=3,
    ),
    Situation(
        id="chatter-right-after-the-bot-spoke",
        category=Category.AMBIENT_BUDGET,
        description="the bot just answered carol; bob and alice keep chatting among themselves: it stays out",
        expect=Expect.MUST_STAY_SILENT,
        setup=(Say("carol", "{bot} what's a good houseplant for a dark room?"),),
        script=(
            Say("bob", "mine all died lol"),
            Say("alice", "you overwater them"),
            Say("bob", "probably"),
        ),
        seeds=3,
    ),
    Situation(
        id="a-long-quiet-chat-after-yesterday",
        category=Category.AMBIENT_BUDGET,
        description="a slow chat between two people an hour after the bot last spoke: still theirs",
        expect=Expect.MUST_STAY_SILENT,
        setup=(Earlier("sol", "good morning all", minutes_ago=60),),
        script=(
            Say("carol", "coffee run anyone"),
            Say("alice", "oat latte please"),
            Say("carol", "on it"),
            Say("alice", "you're the best"),
        ),
        seeds=3,
    ),
    Situation(
        id="a-lone-musing-in-an-empty-channel",
        category=Category.AMBIENT_BUDGET,
        description="one person thinking aloud in an empty channel may draw the bot now and then, never more than once",
        expect=Expect.MAY_EITHER,
        script=(Say("alice", "I think I'm finally getting the hang of sourdough", label="m"),),
        checks=(MomentHas({"exchange_humans": 1}, label="m"),),
        seeds=3,
    ),
    Situation(
        id="the-exchange-is-counted-per-channel",
        category=Category.AMBIENT_BUDGET,
        description="chatter in #random does not count toward #general's exchange",
        expect=Expect.MAY_EITHER,
        setup=(Say("bob", "anyone watching the race", channel="random"), Say("carol", "yes!", channel="random")),
        script=(Say("alice", "quiet in here today", label="m"),),
        checks=(MomentHas({"exchange_messages": 1, "exchange_humans": 1}, label="m"),),
        seeds=2,
    ),
]
