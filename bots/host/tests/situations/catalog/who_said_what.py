"""7. Who said what: labels with display name and stable id; platform replies when others spoke meanwhile; the
right answer for the right person; the re-check before sending."""

from __future__ import annotations

from bots.host.tests.situations.catalog.presets import ALWAYS_SPEAKS, MENTION_ONLY, WORDS_ONLY
from bots.host.tests.situations.model import (
    AnsweringTurns,
    Category,
    Expect,
    NotAnswered,
    PlainMessage,
    PromptHas,
    RepliesTo,
    Say,
    Situation,
    Turns,
    WhileGenerating,
)

WHO_SAID_WHAT = [
    Situation(
        id="labels-carry-display-name-and-id",
        category=Category.WHO_SAID_WHAT,
        description="every line the model sees carries the display name and the stable id (pins the labels)",
        expect=Expect.MUST_SPEAK,
        setup=(Say("bob", "I'm bringing the snacks"),),
        script=(Say("alice", "{bot} who's bringing snacks?"),),
        checks=(PromptHas("Bobby (u:{id:bob}): I'm bringing the snacks"), PromptHas("Answer Ally (u:{id:alice})")),
        display_names={"alice": "Ally", "bob": "Bobby"},
        settings=MENTION_ONLY,
    ),
    Situation(
        id="two-people-with-one-display-name-stay-apart",
        category=Category.WHO_SAID_WHAT,
        description="two members both shown as 'Sam' are told apart by id (pins the stable id in labels)",
        expect=Expect.MUST_SPEAK,
        setup=(Say("bob", "I'll take the early shift"),),
        script=(Say("alice", "{bot} which shift did I take?"),),
        checks=(PromptHas("Sam (u:{id:bob}): I'll take the early shift"), PromptHas("Answer Sam (u:{id:alice})")),
        display_names={"alice": "Sam", "bob": "Sam"},
        settings=MENTION_ONLY,
    ),
    Situation(
        id="a-platform-reply-when-others-spoke-meanwhile",
        category=Category.WHO_SAID_WHAT,
        description="bob speaking while the answer is written makes it a platform reply to alice (pins recheck)",
        expect=Expect.MUST_SPEAK,
        script=(
            WhileGenerating(
                trigger=Say("alice", "{bot} what's a good name for a boat?", label="q"),
                meanwhile=(Say("bob", "lol"),),
            ),
        ),
        checks=(RepliesTo("q", name="alice"),),
        weights=WORDS_ONLY,
        settings=MENTION_ONLY,
    ),
    Situation(
        id="no-platform-reply-when-nobody-spoke-meanwhile",
        category=Category.WHO_SAID_WHAT,
        description="with nothing said in between, the answer is a plain message (pins 'only when needed')",
        expect=Expect.MUST_SPEAK,
        script=(Say("alice", "{bot} what's a good name for a boat?", label="q"),),
        checks=(PlainMessage(), AnsweringTurns(at_least=1, at_most=1)),
        weights=WORDS_ONLY,
        settings=MENTION_ONLY,
    ),
    Situation(
        id="two-people-asking-different-things-get-their-own-answers",
        category=Category.WHO_SAID_WHAT,
        description="alice and bob ask at once: each answer replies to, and is for, the right person",
        expect=Expect.MUST_SPEAK,
        script=(
            WhileGenerating(
                trigger=Say("alice", "{bot} what day is it today?", label="qa"),
                meanwhile=(Say("bob", "{bot} and what time is it?", label="qb"),),
            ),
        ),
        checks=(RepliesTo("qa", name="alice"), RepliesTo("qb", name="bob"), AnsweringTurns(at_least=2, at_most=2)),
        weights=WORDS_ONLY,
        settings=MENTION_ONLY,
        seeds=3,
    ),
    Situation(
        id="the-same-person-adding-more-is-folded-in",
        category=Category.WHO_SAID_WHAT,
        description="alice adding words while her answer is written gets one answer covering both (pins folding)",
        expect=Expect.MUST_SPEAK,
        script=(
            WhileGenerating(
                trigger=Say("alice", "{bot} what time is it?", label="q"),
                meanwhile=(Say("alice", "oh and in which timezone", label="more"),),
            ),
        ),
        checks=(AnsweringTurns(at_least=1, at_most=1), PromptHas("oh and in which timezone"), Turns(at_most=1)),
        weights=WORDS_ONLY,
        settings=MENTION_ONLY,
    ),
    Situation(
        id="an-unaddressed-turn-overtaken-by-the-conversation-is-dropped",
        category=Category.WHO_SAID_WHAT,
        description="three new messages while an ambient answer is written make it stale: it is never sent",
        expect=Expect.MAY_EITHER,
        script=(
            WhileGenerating(
                trigger=Say("alice", "anyone watch the match last night?", label="m0"),
                meanwhile=(
                    Say("bob", "new topic: lunch?"),
                    Say("carol", "pizza"),
                    Say("bob", "ok pizza it is"),
                ),
            ),
        ),
        checks=(NotAnswered("m0"),),
        weights=ALWAYS_SPEAKS,
    ),
    Situation(
        id="a-reply-to-someone-else-is-labelled-as-one",
        category=Category.WHO_SAID_WHAT,
        description="alice replying to bob is shown to the model as a reply to bob (pins reply labels)",
        expect=Expect.MUST_SPEAK,
        setup=(Say("bob", "tabs are objectively better", label="b"),),
        script=(Say("alice", "{bot} is he right?", reply_to="b"),),
        checks=(PromptHas("alice (u:{id:alice}, replying to u:{id:bob})"),),
        settings=MENTION_ONLY,
    ),
]
