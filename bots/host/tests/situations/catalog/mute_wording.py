"""Judgement 11. Mutes in other words: a request to be quiet in a channel, however it is worded, mutes that
channel (read by the classifier the host already has) and never another."""

from __future__ import annotations

from bots.host.tests.situations.model import (
    Answered,
    Category,
    Expect,
    ModelCalls,
    MuteAcknowledged,
    Muted,
    NoTurn,
    Say,
    Situation,
)

MUTE_WORDING = [
    Situation(
        id="give-us-some-room",
        category=Category.MUTE_WORDING,
        description="'@Sol give us some room' mutes #general (pins the classifier on other wordings)",
        expect=Expect.MUST_STAY_SILENT,
        script=(Say("alice", "{bot} give us some room", label="mute"),),
        checks=(Muted(), MuteAcknowledged("mute"), ModelCalls("classifier", at_least=1)),
        classifier_says="yes",
        seeds=2,
    ),
    Situation(
        id="a-long-polite-request-to-stay-out",
        category=Category.MUTE_WORDING,
        description="a long, polite 'could you stay out of this channel while we do the interview prep' mutes it",
        expect=Expect.MUST_STAY_SILENT,
        script=(
            Say(
                "bob",
                "{bot} could you stay out of this channel for a while? we're doing interview prep",
                label="mute",
            ),
        ),
        checks=(Muted(), MuteAcknowledged("mute")),
        classifier_says="yes",
        seeds=2,
    ),
    Situation(
        id="a-request-in-random-mutes-only-random",
        category=Category.MUTE_WORDING,
        description="'sol, sit this one out please' in #random mutes #random, not #general",
        expect=Expect.MUST_STAY_SILENT,
        script=(Say("carol", "sol, sit this one out please", channel="random", label="mute"),),
        checks=(Muted("random"), Muted("general", active=False), MuteAcknowledged("mute")),
        classifier_says="yes",
        seeds=2,
    ),
    Situation(
        id="a-request-right-after-the-bot-spoke",
        category=Category.MUTE_WORDING,
        description="'ok let us talk please' right after the bot spoke, unaddressed, mutes the channel",
        expect=Expect.MUST_STAY_SILENT,
        setup=(Say("alice", "{bot} what's a fun fact about bees?"),),
        script=(Say("bob", "ok let us talk please", label="mute"), Say("alice", "so, the budget", label="after")),
        checks=(Muted(), MuteAcknowledged("mute"), NoTurn("after")),
        classifier_says="yes",
        seeds=2,
    ),
    Situation(
        id="a-request-the-classifier-reads-as-no",
        category=Category.MUTE_WORDING,
        description="'stay out of the rain discussion, tell me a joke': the classifier reads it as no, it is answered",
        expect=Expect.MUST_SPEAK,
        script=(Say("alice", "{bot} stay out of the rain discussion, just tell me a joke instead", label="m"),),
        checks=(Muted(active=False), Answered("m"), ModelCalls("classifier", at_least=1)),
        classifier_says="no",
        seeds=2,
    ),
    Situation(
        id="the-muted-channel-stays-quiet-after-other-words",
        category=Category.MUTE_WORDING,
        description="after '@Sol leave us alone for a bit', the chatter that follows starts no turn",
        expect=Expect.MUST_STAY_SILENT,
        setup=(Say("alice", "{bot} leave us alone for a bit", label="mute"),),
        script=(Say("bob", "ok where were we", label="a"), Say("carol", "the roadmap", label="b")),
        checks=(Muted(), NoTurn("a"), NoTurn("b")),
        classifier_says="yes",
        seeds=2,
    ),
]
