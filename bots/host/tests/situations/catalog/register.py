"""Judgement 12. Register: distress never gets teasing, a lone reaction or a burst; thanks gets a reaction or a
short line; an invitation to tease moves the bot; hostility gets nothing long and no teasing back. Cheap cues
read it, the classifier when they are unsure."""

from __future__ import annotations

from bots.host.tests.situations.model import (
    Category,
    Expect,
    ModelCalls,
    MomentHas,
    NoLoneReaction,
    NoTeasing,
    Regular,
    Say,
    ShapesOnly,
    Situation,
)

WORDS = frozenset({"single-line", "multi-line"})
SHORT = frozenset({"react-only", "single-line"})

REGISTER = [
    Situation(
        id="a-pet-that-died-told-to-the-bot",
        category=Category.REGISTER,
        description="'@Sol my dog died this morning' gets sincere words: no tease, no lone 👍, no burst",
        expect=Expect.MUST_SPEAK,
        setup=(Regular("alice", messages=40, days=40),),
        script=(Say("alice", "{bot} my dog died this morning", label="m"),),
        checks=(NoTeasing(), NoLoneReaction(), ShapesOnly(WORDS), MomentHas({"register": "distress"}, label="m")),
        seeds=3,
    ),
    Situation(
        id="a-layoff-shared-by-name",
        category=Category.REGISTER,
        description="'dit, I got laid off today' from a regular: no teasing, no lone reaction",
        expect=Expect.MUST_SPEAK,
        setup=(Regular("bob", messages=50, days=90),),
        script=(Say("bob", "dit, I got laid off today"),),
        checks=(NoTeasing(), NoLoneReaction(), ShapesOnly(WORDS)),
        seeds=3,
    ),
    Situation(
        id="thanks-after-an-answer",
        category=Category.REGISTER,
        description="'thanks, that helped!' replying to the bot gets a reaction or a short line",
        expect=Expect.MUST_SPEAK,
        setup=(Regular("carol", messages=30, days=30), Say("carol", "{bot} how do I center a div?")),
        script=(Say("carol", "thanks, that helped!", reply_to="bot", label="m"),),
        checks=(ShapesOnly(SHORT), NoTeasing(), MomentHas({"register": "gratitude"}, label="m")),
        seeds=3,
    ),
    Situation(
        id="ty-by-name",
        category=Category.REGISTER,
        description="'ty sol' gets a reaction or a short line, never a burst or a callback",
        expect=Expect.MUST_SPEAK,
        setup=(Say("bob", "{bot} what's 12 squared?"),),
        script=(Say("bob", "ty sol"),),
        checks=(ShapesOnly(SHORT),),
        seeds=3,
    ),
    Situation(
        id="an-invitation-to-tease-from-a-regular",
        category=Category.REGISTER,
        description="'@Sol do your worst' is read as an invitation to tease",
        expect=Expect.MUST_SPEAK,
        script=(Say("alice", "{bot} do your worst, I can take it", label="m"),),
        checks=(MomentHas({"register": "tease-invite"}, label="m"),),
        seeds=2,
    ),
    Situation(
        id="an-unsure-cue-goes-to-the-classifier",
        category=Category.REGISTER,
        description="'@Sol rough day tbh' is unsure: the classifier reads it as distress, and the bot is gentle",
        expect=Expect.MUST_SPEAK,
        setup=(Regular("bob", messages=30, days=30),),
        script=(Say("bob", "{bot} rough day tbh", label="m"),),
        checks=(
            ModelCalls("register", at_least=1),
            MomentHas({"register": "distress"}, label="m"),
            NoTeasing(),
            NoLoneReaction(),
        ),
        register_says="distress",
        seeds=2,
    ),
    Situation(
        id="hostility-toward-the-bot",
        category=Category.REGISTER,
        description="'@Sol you're useless' from a regular: nothing long, no teasing back (silence allowed)",
        expect=Expect.MAY_EITHER,
        setup=(Regular("carol", messages=30, days=30),),
        script=(Say("carol", "{bot} you're useless", label="m"),),
        checks=(ShapesOnly(SHORT), NoTeasing(), MomentHas({"register": "hostile"}, label="m")),
        seeds=3,
    ),
    Situation(
        id="a-plain-message-is-not-classified",
        category=Category.REGISTER,
        description="a plain question has no register cue: the classifier is not asked",
        expect=Expect.MUST_SPEAK,
        script=(Say("alice", "{bot} what's a good name for a cat?"),),
        checks=(ModelCalls("register", at_most=0),),
        seeds=2,
    ),
]
