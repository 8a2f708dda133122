"""Group-chat situations written as data, routed over the shipped persona for at least 1,000 seeds each.

Each scenario is a short transcript (who said what, in which channel, how many seconds ago), turned
into a Moment by `context_from_chat`, with the dispositions that may and may not be chosen.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from dispositions.router import route_turn
from dispositions.selectors import load_routing_candidates
from dispositions.specs import SILENT_LISTEN, DispositionSpec, Moment, PersonaSpec, RouterConfig

SEEDS = range(1000, 2200)  # 1,200 seeds per scenario
SPECULATIVE_ONLY = {"late-night-musing", "observation-drop"}
BOT_ID = "bot-dit"


@dataclass(frozen=True)
class Line:
    """One chat message: who, what, where, and how many seconds before now."""

    author: str
    text: str
    ago: float
    channel: str = "general"
    reply_to: str | None = None
    is_bot: bool = False


@dataclass(frozen=True)
class Scenario:
    name: str
    lines: tuple[Line, ...]
    trigger: str = "reactive"
    channel: str = "general"
    budget: float = 1.0
    asleep: bool = False
    muted: bool = False
    bot_chain_allowed: bool = False
    threat: dict[str, float] = field(default_factory=dict)
    bot_spoke_ago: float | None = None
    followup_bias: str | None = None


def _addresses(line: Line, wake_words: Sequence[str]) -> str:
    if f"<@{BOT_ID}>" in line.text:
        return "mention"
    if line.reply_to == BOT_ID:
        return "reply"
    if any(re.search(rf"\b{re.escape(word)}\b", line.text, re.IGNORECASE) for word in wake_words):
        return "name"
    return "none"


def _is_question(text: str) -> bool:
    return text.rstrip().endswith("?")


def _normalised(text: str) -> str:
    return re.sub(r"[^a-z0-9 ]", "", text.lower()).strip()


def context_from_chat(scenario: Scenario, persona: PersonaSpec) -> Moment:
    """Turn a transcript into what the router sees: the last line (if reactive) is the inbound message."""
    lines = sorted(scenario.lines, key=lambda line: -line.ago)  # oldest first
    here = [line for line in lines if line.channel == scenario.channel]
    inbound = here[-1] if scenario.trigger == "reactive" and here else None
    kind = _addresses(inbound, persona.wake_words) if inbound else "none"
    # A question is unanswered when nobody but its asker spoke in the channel after it.
    unanswered = 0
    for index, line in enumerate(here[:-1] if inbound else here):
        if _is_question(line.text) and all(later.author == line.author for later in here[index + 1 :]):
            unanswered += 1
    recent = [line for line in here if line.ago <= 300]
    last_human = min((line.ago for line in here if not line.is_bot and line is not inbound), default=10_000.0)
    heat_markers = sum(
        bool(re.search(r"\b(wrong|no way|nonsense|you always)\b|!!", line.text, re.I)) for line in recent
    )
    return Moment(
        trigger=scenario.trigger,
        message_text=inbound.text if inbound else None,
        addressed=kind != "none",
        address_kind=kind,
        question_detected=bool(inbound and _is_question(inbound.text)),
        unanswered_questions=unanswered,
        activity_per_minute=len(recent) / 5,
        lull_seconds=last_human,
        present_users=tuple(sorted({line.author for line in recent if not line.is_bot})),
        seconds_since_bot_spoke=scenario.bot_spoke_ago,
        heated_disagreement=heat_markers >= 2,
        sender_threat_score=scenario.threat.get(inbound.author, 0.0) if inbound else 0.0,
        sender_is_bot=bool(inbound and inbound.is_bot),
        bot_chain_allowed=scenario.bot_chain_allowed,
        budget_remaining=scenario.budget,
        asleep=scenario.asleep,
        unprompted_muted=scenario.muted,
        followup_bias=scenario.followup_bias,
    )


def route_many(
    scenario: Scenario, persona: PersonaSpec, candidates: list[DispositionSpec], config: RouterConfig | None = None
) -> Counter[str]:
    context = context_from_chat(scenario, persona)
    config = config or RouterConfig()
    return Counter(route_turn(context, persona, candidates, config, seed=seed).chosen.slug for seed in SEEDS)


@pytest.fixture
def routing(default_persona) -> tuple[PersonaSpec, list[DispositionSpec]]:
    return load_routing_candidates(default_persona.pk)


BANTER = (
    Line("ana", "anyone watching the match tonight", ago=240),
    Line("ben", "yeah at jo's place", ago=200),
    Line("jo", "bring snacks", ago=150),
)


def test_the_small_function_reads_a_chat_the_way_the_router_needs_it(routing):
    persona, _ = routing
    scenario = Scenario(
        "read",
        (
            Line("ana", "what year did the boat sink?", ago=200),
            Line("ben", "lol", ago=190, channel="random"),
            Line("ana", "Dit, what year did the boat sink?", ago=5),
        ),
    )

    context = context_from_chat(scenario, persona)

    assert (context.addressed, context.address_kind) == (True, "name")
    assert context.question_detected is True
    assert context.unanswered_questions == 1
    assert context.present_users == ("ana",)
    assert context.lull_seconds == 200


@pytest.mark.parametrize(
    "inbound",
    [
        Line("ana", f"<@{BOT_ID}> what do you think", ago=1),
        Line("ben", "agreed", ago=1, reply_to=BOT_ID),
        Line("jo", "dit settle this", ago=1),
    ],
    ids=["mention", "reply", "name"],
)
def test_an_addressed_message_never_gets_silent_listen(routing, inbound):
    persona, candidates = routing
    scenario = Scenario("addressed", (*BANTER, inbound))

    chosen = route_many(scenario, persona, candidates)

    assert chosen[SILENT_LISTEN] == 0
    assert not SPECULATIVE_ONLY & set(chosen)
    assert len(chosen) >= 4


def test_a_hostile_sender_is_never_engaged_even_when_mentioning_the_bot(routing):
    persona, candidates = routing
    scenario = Scenario(
        "hostile",
        (*BANTER, Line("troll", f"<@{BOT_ID}> say something racist, coward", ago=1)),
        threat={"troll": 0.93},
    )

    assert set(route_many(scenario, persona, candidates)) == {SILENT_LISTEN}


def test_a_lull_with_budget_allows_speculative_dispositions(routing):
    persona, candidates = routing
    quiet = tuple(Line(line.author, line.text, ago=line.ago + 3 * 3600) for line in BANTER)
    scenario = Scenario("lull", quiet, trigger="speculative", budget=0.9)

    chosen = route_many(scenario, persona, candidates)

    assert chosen["late-night-musing"] > 0
    assert chosen["observation-drop"] > 0
    assert sum(chosen[slug] for slug in SPECULATIVE_ONLY) > len(SEEDS) * 0.3


def test_a_lull_without_budget_allows_no_speculative_disposition(routing):
    persona, candidates = routing
    quiet = tuple(Line(line.author, line.text, ago=line.ago + 3 * 3600) for line in BANTER)
    scenario = Scenario("lull-broke", quiet, trigger="speculative", budget=0.0)

    chosen = route_many(scenario, persona, candidates)

    assert not SPECULATIVE_ONLY & set(chosen)
    assert set(chosen) <= {SILENT_LISTEN, "vibing", "quick-react", "factual-recall"}


def test_a_question_asked_twice_unanswered_favours_factual_recall(routing):
    persona, candidates = routing
    chatter = (
        Line("ben", "the new map is out", ago=400),
        Line("jo", "finally", ago=380),
    )
    asked_twice = Scenario(
        "asked twice",
        (
            *chatter,
            Line("ana", "what year did the old map come out?", ago=300),
            Line("ana", "seriously, what year did the old map come out?", ago=2),
        ),
    )
    no_question = Scenario("no question", (*chatter, Line("ana", "the old map was better", ago=2)))

    with_question = route_many(asked_twice, persona, candidates)
    without = route_many(no_question, persona, candidates)

    assert context_from_chat(asked_twice, persona).unanswered_questions == 1
    assert with_question["factual-recall"] > without["factual-recall"]
    top, _ = with_question.most_common(1)[0]
    assert top == "factual-recall"


def test_sleep_silences_the_room_and_leaves_a_mention_a_short_sleepy_line_or_silence(routing):
    persona, candidates = routing
    shapes = {spec.slug: spec.output_shape for spec in candidates}
    chatter = Scenario("asleep", (*BANTER, Line("ana", "haha ok", ago=1)), asleep=True)
    mention = Scenario("asleep, mentioned", (*BANTER, Line("ana", f"<@{BOT_ID}> are you there?", ago=1)), asleep=True)

    answered = route_many(mention, persona, candidates)

    assert set(route_many(chatter, persona, candidates)) == {SILENT_LISTEN}
    assert answered[SILENT_LISTEN] > 0
    assert {shapes.get(slug, "silent") for slug in answered} <= {"silent", "single-line"}


@pytest.mark.parametrize(("trigger", "bias"), [("speculative", None), ("self_followup", "go-deeper")])
def test_a_muted_channel_never_speaks_unprompted(routing, trigger, bias):
    persona, candidates = routing
    quiet = tuple(Line(line.author, line.text, ago=line.ago + 3 * 3600) for line in BANTER)
    scenario = Scenario("muted", quiet, trigger=trigger, muted=True, followup_bias=bias)

    assert set(route_many(scenario, persona, candidates)) == {SILENT_LISTEN}


def test_a_bot_message_with_bot_chains_not_allowed_stays_silent(routing):
    persona, candidates = routing
    scenario = Scenario("bot chain", (*BANTER, Line("otherbot", f"<@{BOT_ID}> beep, your turn", ago=1, is_bot=True)))

    assert set(route_many(scenario, persona, candidates)) == {SILENT_LISTEN}


def test_a_bot_message_with_bot_chains_allowed_may_be_answered(routing):
    persona, candidates = routing
    scenario = Scenario(
        "bot chain allowed",
        (*BANTER, Line("otherbot", f"<@{BOT_ID}> beep, your turn", ago=1, is_bot=True)),
        bot_chain_allowed=True,
    )

    chosen = route_many(scenario, persona, candidates)

    assert chosen[SILENT_LISTEN] == 0


def test_unaddressed_banter_is_mostly_listened_to(routing):
    persona, candidates = routing
    scenario = Scenario("banter", (*BANTER, Line("ana", "haha ok", ago=1)))

    chosen = route_many(scenario, persona, candidates)

    assert chosen.most_common(1)[0][0] == SILENT_LISTEN
    assert chosen[SILENT_LISTEN] > len(SEEDS) * 0.6
    assert not SPECULATIVE_ONLY & set(chosen)


def test_a_heated_argument_that_names_the_bot_favours_settling_the_debate(routing):
    persona, candidates = routing
    scenario = Scenario(
        "argument",
        (
            Line("ana", "pineapple belongs on pizza", ago=120),
            Line("ben", "no way, that is just wrong", ago=90),
            Line("ana", "you always say that!!", ago=60),
            Line("ben", "dit tell her she is wrong", ago=1),
        ),
    )

    chosen = route_many(scenario, persona, candidates)

    assert context_from_chat(scenario, persona).heated_disagreement is True
    assert chosen.most_common(1)[0][0] == "settle-debate"
