"""Judgement 7. Arguments: heat is read from the live window (two people taking turns, pushing back, quickly);
unaddressed, the bot mostly waits; asked to settle it, settling is favoured."""

from __future__ import annotations

from bots.host.tests.situations.model import Category, Expect, MomentHas, Say, Situation

ARGUMENTS = [
    Situation(
        id="a-pizza-argument-unaddressed",
        category=Category.ARGUMENTS,
        description="alice and bob argue about pineapple pizza: heat is read, the bot waits (pins heat and waiting)",
        expect=Expect.MUST_STAY_SILENT,
        script=(
            Say("alice", "pineapple belongs on pizza"),
            Say("bob", "no way, that is just wrong"),
            Say("alice", "you always say that!!"),
            Say("bob", "because it's true, it's nonsense", label="last"),
        ),
        checks=(MomentHas({"heated_disagreement": True}, label="last"),),
        seeds=3,
    ),
    Situation(
        id="a-framework-argument-in-random",
        category=Category.ARGUMENTS,
        description="carol and bob argue about frameworks in #random: the bot keeps out",
        expect=Expect.MUST_STAY_SILENT,
        script=(
            Say("carol", "react is way better than vue", channel="random"),
            Say("bob", "not true at all, vue is simpler", channel="random"),
            Say("carol", "simpler isn't better, that's ridiculous", channel="random"),
            Say("bob", "are you serious? you never even tried it", channel="random"),
            Say("carol", "I literally used it for a year!!", channel="random"),
        ),
        seeds=3,
    ),
    Situation(
        id="an-argument-put-to-the-bot",
        category=Category.ARGUMENTS,
        description="after a heated back and forth, 'dit tell her she is wrong' gets an answer (heat seen)",
        expect=Expect.MUST_SPEAK,
        script=(
            Say("alice", "cats are better than dogs"),
            Say("bob", "absolutely not, dogs are loyal"),
            Say("alice", "that's wrong, cats are loyal too!!"),
            Say("bob", "dit tell her she is wrong", label="ask"),
        ),
        checks=(MomentHas({"heated_disagreement": True}, label="ask"),),
        seeds=3,
    ),
    Situation(
        id="a-calm-disagreement-is-not-heat",
        category=Category.ARGUMENTS,
        description="two people calmly comparing notes is not an argument (pins the heat reading's markers)",
        expect=Expect.MAY_EITHER,
        script=(
            Say("alice", "I think the blue one looks nicer"),
            Say("bob", "hmm I like the green one more"),
            Say("alice", "fair, both work"),
            Say("bob", "yeah let's ask carol", label="last"),
        ),
        checks=(MomentHas({"heated_disagreement": False}, label="last"),),
        seeds=2,
    ),
    Situation(
        id="an-argument-with-a-third-person-chiming-in",
        category=Category.ARGUMENTS,
        description="alice and bob argue about tabs, carol adds 'lol'; the bot stays out",
        expect=Expect.MUST_STAY_SILENT,
        script=(
            Say("alice", "tabs are objectively correct"),
            Say("bob", "wrong, spaces are the standard"),
            Say("alice", "no, that's not true"),
            Say("carol", "lol here we go"),
            Say("bob", "it literally is!!"),
        ),
        seeds=3,
    ),
    Situation(
        id="asked-to-settle-an-old-argument",
        category=Category.ARGUMENTS,
        description="'Sol, settle this: is a hotdog a sandwich?' gets an answer in words",
        expect=Expect.MUST_SPEAK,
        script=(Say("carol", "Sol, settle this: is a hotdog a sandwich?", label="ask"),),
        checks=(MomentHas({"question_kind": "settle"}, label="ask"),),
        seeds=2,
    ),
]
