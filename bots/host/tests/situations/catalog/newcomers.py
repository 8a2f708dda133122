"""Judgement 6. Newcomers: familiarity (messages seen, first seen) is a router input; teasing voices need a member
the bot knows, or an invitation."""

from __future__ import annotations

from bots.host.tests.situations.model import (
    Category,
    Expect,
    MomentHas,
    NoTeasing,
    Regular,
    Say,
    Situation,
)

# Only the teasing dispositions and a plain line: whether teasing is allowed shows in what the bot picks.
TEASING_OR_PLAIN = {
    "vibing": 0.0,
    "factual-recall": 0.0,
    "callback-from-memory": 0.0,
    "settle-debate": 0.0,
    "roast-back": 5.0,
    "contrarian-take": 5.0,
}

NEWCOMERS = [
    Situation(
        id="a-newcomers-first-words-to-the-bot",
        category=Category.NEWCOMERS,
        description="carol's first message ever, to the bot: no roast, no contrarian take (pins the familiarity gate)",
        expect=Expect.MUST_SPEAK,
        script=(Say("carol", "{bot} hey, I'm new here. what's up?", label="m"),),
        checks=(NoTeasing(), MomentHas({"sender_messages_seen": 0}, label="m")),
        weights=TEASING_OR_PLAIN,
        seeds=3,
    ),
    Situation(
        id="a-newcomer-in-random",
        category=Category.NEWCOMERS,
        description="a stranger asking the bot in #random about its opinion is not teased",
        expect=Expect.MUST_SPEAK,
        script=(Say("bob", "sol do you like my avatar?", channel="random"),),
        checks=(NoTeasing(),),
        weights=TEASING_OR_PLAIN,
        seeds=3,
    ),
    Situation(
        id="a-member-seen-only-twice",
        category=Category.NEWCOMERS,
        description="a member with two messages from last week is not yet someone the bot teases",
        expect=Expect.MUST_SPEAK,
        setup=(Regular("alice", messages=2, days=7),),
        script=(Say("alice", "{bot} rate my lunch: cold pizza"),),
        checks=(NoTeasing(),),
        weights=TEASING_OR_PLAIN,
        seeds=3,
    ),
    Situation(
        id="a-regular-of-two-months",
        category=Category.NEWCOMERS,
        description="bob, around for two months, may be teased: the router sees him as known",
        expect=Expect.MUST_SPEAK,
        setup=(Regular("bob", messages=60, days=60),),
        script=(Say("bob", "{bot} rate my lunch: cold pizza", label="m"),),
        checks=(MomentHas({"sender_messages_seen": 60}, label="m"),),
        weights=TEASING_OR_PLAIN,
        seeds=3,
    ),
    Situation(
        id="a-newcomer-inviting-a-roast",
        category=Category.NEWCOMERS,
        description="a stranger who asks to be roasted may be: the invitation stands in for familiarity",
        expect=Expect.MUST_SPEAK,
        script=(Say("carol", "{bot} roast me, first day here", label="m"),),
        checks=(MomentHas({"register": "tease-invite", "sender_messages_seen": 0}, label="m"),),
        weights=TEASING_OR_PLAIN,
        seeds=2,
    ),
    Situation(
        id="a-newcomers-greeting-to-the-room",
        category=Category.NEWCOMERS,
        description="a newcomer's hello to the room: if the bot says anything, it is not a tease",
        expect=Expect.MAY_EITHER,
        script=(Say("alice", "hi everyone, just joined!"),),
        checks=(NoTeasing(),),
        seeds=3,
    ),
]
