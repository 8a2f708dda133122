"""Judgement 2. Announcements: @everyone and @here do not address the bot, and get at most a reaction."""

from __future__ import annotations

from bots.host.tests.situations.model import Category, Expect, MomentHas, Reactions, Say, Situation

ANNOUNCEMENTS = [
    Situation(
        id="an-everyone-standup-reminder",
        category=Category.ANNOUNCEMENTS,
        description="'@everyone standup in 5' gets at most a reaction (pins the announcement rule)",
        expect=Expect.NO_WORDS,
        script=(Say("alice", "@everyone standup in 5 minutes", label="a"),),
        checks=(Reactions(at_most=1), MomentHas({"announcement": True}, label="a")),
        seeds=3,
    ),
    Situation(
        id="a-here-ping-for-reviews",
        category=Category.ANNOUNCEMENTS,
        description="'@here anyone around to review a PR?' is an announcement even as a question",
        expect=Expect.NO_WORDS,
        script=(Say("bob", "@here anyone around to review a PR?"),),
        checks=(Reactions(at_most=1),),
        seeds=3,
    ),
    Situation(
        id="a-release-announcement-in-random",
        category=Category.ANNOUNCEMENTS,
        description="a long @everyone release note in #random: no burst, no reply",
        expect=Expect.NO_WORDS,
        script=(
            Say(
                "carol",
                "@everyone v2.3 is out!! new dashboard, faster search, and the dark mode you all asked for",
                channel="random",
            ),
        ),
        checks=(Reactions(at_most=1),),
        seeds=3,
    ),
    Situation(
        id="an-announcement-then-replies",
        category=Category.ANNOUNCEMENTS,
        description="an @everyone lunch call and the replies to it: the bot says nothing in words",
        expect=Expect.NO_WORDS,
        script=(
            Say("alice", "@everyone lunch is here, kitchen!"),
            Say("bob", "omw"),
            Say("carol", "coming!"),
        ),
        checks=(Reactions(at_most=1),),
        seeds=3,
    ),
    Situation(
        id="an-announcement-that-also-mentions-the-bot",
        category=Category.ANNOUNCEMENTS,
        description="'@everyone ... @Sol can you post the agenda?' addresses the bot: it answers in words",
        expect=Expect.MUST_SPEAK,
        script=(Say("alice", "@everyone meeting at 3. {bot} can you post the agenda?", label="m"),),
        checks=(MomentHas({"announcement": False}, label="m"),),
        seeds=2,
    ),
    Situation(
        id="an-everyone-with-the-setting-on",
        category=Category.ANNOUNCEMENTS,
        description="with ADDRESS_ON_EVERYONE the operator wants @everyone to address the bot: not an announcement",
        expect=Expect.MUST_SPEAK,
        script=(Say("bob", "@everyone what's the plan for friday?", label="m"),),
        checks=(MomentHas({"announcement": False, "addressed": True}, label="m"),),
        settings={"ADDRESS_ON_EVERYONE": "true"},
        seeds=2,
    ),
]
