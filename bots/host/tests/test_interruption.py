"""What to do with the rest of a burst when a human speaks in the middle of it; the channel ledger."""

from __future__ import annotations

from bots.host.addressing import NOT_ADDRESSED
from bots.host.interruption import route_interruption
from bots.host.ledger import ChannelLedger
from bots.host.tests.builders import ADDRESSED, arrival, message
from dispositions.choices import InterruptionHandling


def test_an_interruption_aborts_the_rest_of_a_burst_by_default():
    handling = route_interruption(interrupting=[arrival("wait that's wrong")], addresses=[NOT_ADDRESSED], remaining=3)
    assert handling == InterruptionHandling.ABORTED


def test_an_interruption_that_addresses_the_bot_is_folded_in():
    handling = route_interruption(interrupting=[arrival("dit, go on")], addresses=[ADDRESSED], remaining=3)
    assert handling == InterruptionHandling.FOLDED


def test_a_backchannel_lets_a_short_remainder_continue():
    assert route_interruption(interrupting=[arrival("lol")], addresses=[NOT_ADDRESSED], remaining=1) == (
        InterruptionHandling.CONTINUED
    )
    assert route_interruption(interrupting=[arrival("lol")], addresses=[NOT_ADDRESSED], remaining=4) == (
        InterruptionHandling.ABORTED
    )


def test_the_ledger_records_each_message_once_and_lists_later_arrivals():
    ledger = ChannelLedger()
    first = ledger.record(message(mid="1"), is_own=False)
    assert ledger.record(message(mid="1"), is_own=False) is None
    ledger.record(message(mid="2"), is_own=False)
    assert first is not None
    assert [a.message_id for a in ledger.since("c1", first.seq)] == ["2"]
