from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import pytest

from dispositions.defaults import default_routing
from dispositions.router import aroute_turn
from dispositions.specs import Moment, RouterConfig
from dispositions.tiebreak import make_gateway_tiebreaker, parse_tiebreak_answer
from dit_project.errors import ApplicationError

PERSONA, SPECS = default_routing()


@dataclass
class FakeCompletion:
    text: str


class RecordingClient:
    """Stands in for `gateway.client`, recording the calls the tie-break makes."""

    def __init__(self, answer: str | None = None, error: Exception | None = None) -> None:
        self.answer = answer
        self.error = error
        self.calls: list[dict] = []

    async def complete(self, **kwargs):
        self.calls.append(kwargs)
        if self.error:
            raise self.error
        return FakeCompletion(self.answer or "")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("factual-recall", "factual-recall"),
        ("  Factual-Recall.\n", "factual-recall"),
        ("`quick-react`", "quick-react"),
        ("I would go with quick-react here", "quick-react"),
        ("quick", None),
        ("", None),
        (None, None),
    ],
)
def test_the_tiebreak_answer_is_read_leniently_but_must_name_an_option(text, expected):
    assert parse_tiebreak_answer(text, ["quick-react", "factual-recall"]) == expected


def test_the_longest_option_named_wins_over_its_prefix():
    assert parse_tiebreak_answer("go quick-react-deep", ["quick-react", "quick-react-deep"]) == "quick-react-deep"


async def test_the_gateway_tiebreak_asks_router_classify_and_returns_the_named_option():
    client = RecordingClient(answer="factual-recall")
    tiebreak = make_gateway_tiebreaker(bot_id=4, guild_id="g-9", model=client)

    answer = await tiebreak("which?", ["quick-react", "factual-recall"])

    assert answer == "factual-recall"
    (call,) = client.calls
    assert call["purpose"] == "router-classify"
    assert (call["bot_id"], call["guild_id"], call["temperature"]) == (4, "g-9", 0.0)
    assert call["messages"][-1] == {"role": "user", "content": "which?"}
    assert call["max_tokens"] > 0


async def test_a_gateway_failure_makes_the_router_sample_instead(caplog):
    client = RecordingClient(error=ApplicationError("budget envelope exhausted", code="budget_exhausted"))
    tiebreak = make_gateway_tiebreaker(bot_id=4, guild_id="g-9", model=client)
    context = Moment(message_text="@dit", addressed=True, address_kind="mention")
    config = replace(RouterConfig(), tiebreak_enabled=True, tiebreak_margin=0.05)

    with caplog.at_level(logging.WARNING, logger="dispositions.tiebreak"):
        result = await aroute_turn(context, PERSONA, SPECS, config, seed=3, tiebreaker=tiebreak)

    assert client.calls
    assert result.tiebreak is not None
    assert result.tiebreak.answer is None
    assert result.tiebreak.applied is False
    assert "budget_exhausted" in caplog.text


async def test_the_router_uses_the_gateway_answer():
    client = RecordingClient(answer="quick-react")
    tiebreak = make_gateway_tiebreaker(bot_id=4, guild_id="g-9", model=client)
    context = Moment(message_text="@dit", addressed=True, address_kind="mention")
    config = replace(RouterConfig(), tiebreak_enabled=True, tiebreak_margin=0.05)

    results = [await aroute_turn(context, PERSONA, SPECS, config, seed=s, tiebreaker=tiebreak) for s in range(20)]

    assert {r.chosen.slug for r in results} == {"quick-react"}
    assert "Options:" in client.calls[0]["messages"][-1]["content"]
