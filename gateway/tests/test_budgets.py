import asyncio
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync
from django.db import connections
from django.utils import timezone

from gateway import client as gateway
from gateway.choices import Outcome
from gateway.errors import BudgetExhausted
from gateway.models import BudgetEnvelope, UsageEvent
from gateway.services import budget_refresh_due, budget_reserve, budget_settle
from gateway.tests.factories import BudgetEnvelopeFactory, ModelPriceFactory
from tests.servers.openai_server import Reply

HELLO = [{"role": "user", "content": "hello"}]
# The default provider's synth-mid model; output at 1000 USD per million tokens is 0.001 USD a token.
MODEL = "gpt-4.1-mini"


@pytest.fixture
def priced(db):
    return ModelPriceFactory.create(model=MODEL, input_usd_per_million=Decimal(0), output_usd_per_million=Decimal(1000))


def run_concurrently(calls: int, threads: int, **kwargs) -> list[object]:
    """`calls` gateway calls at once, spread over threads that each have their own loop and DB connection."""
    results: list[object] = []
    lock = threading.Lock()

    async def batch(size: int) -> list[object]:
        coroutines = [gateway.complete(purpose="synth-mid", messages=HELLO, **kwargs) for _ in range(size)]
        return list(await asyncio.gather(*coroutines, return_exceptions=True))

    def worker(size: int) -> None:
        try:
            outcome = async_to_sync(batch)(size)
        finally:
            connections.close_all()
        with lock:
            results.extend(outcome)

    workers = [threading.Thread(target=worker, args=(calls // threads,)) for _ in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(timeout=120)
    return results


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_calls_on_a_budget_for_ten_spend_exactly_the_budget(gateway_on_openai_server, priced):
    # Each call reserves max_tokens (10) at 0.001 USD and really costs the same; the replies are slow so
    # the calls overlap.
    gateway_on_openai_server.default_reply = Reply(text="x", usage=(5, 10), delay=0.2)
    envelope = BudgetEnvelopeFactory.create(guild_id="g50", allocated_usd=Decimal("0.10"))

    results = run_concurrently(50, 5, guild_id="g50", max_tokens=10)

    succeeded = [result for result in results if not isinstance(result, Exception)]
    refused = [result for result in results if isinstance(result, BudgetExhausted)]
    assert (len(succeeded), len(refused)) == (10, 40)
    assert len(gateway_on_openai_server.chat_requests) == 10
    envelope.refresh_from_db()
    assert (envelope.spent_usd, envelope.reserved_usd) == (Decimal("0.10"), 0)
    assert UsageEvent.objects.filter(outcome=Outcome.BUDGET_EXHAUSTED).count() == 40
    with pytest.raises(BudgetExhausted) as later:
        async_to_sync(gateway.complete)(purpose="synth-mid", messages=HELLO, guild_id="g50", max_tokens=10)
    assert later.value.code == "budget_exhausted"
    assert later.value.status == 429


@pytest.mark.django_db(transaction=True)
def test_calls_costing_more_than_estimated_overspend_only_by_the_calls_in_flight(gateway_on_openai_server, priced):
    # Reserved: 10 tokens a call; really produced: 25, so each call overruns its estimate by 0.015 USD.
    gateway_on_openai_server.default_reply = Reply(text="x", usage=(5, 25), delay=0.2)
    envelope = BudgetEnvelopeFactory.create(guild_id="g-over", allocated_usd=Decimal("0.10"))

    results = run_concurrently(50, 5, guild_id="g-over", max_tokens=10)

    succeeded = [result for result in results if not isinstance(result, Exception)]
    assert 1 <= len(succeeded) <= 10
    assert all(isinstance(result, BudgetExhausted) for result in results if result not in succeeded)
    envelope.refresh_from_db()
    assert envelope.spent_usd == Decimal("0.025") * len(succeeded)
    assert envelope.spent_usd <= envelope.allocated_usd + len(succeeded) * Decimal("0.015")
    assert envelope.reserved_usd == 0
    with pytest.raises(BudgetExhausted):
        async_to_sync(gateway.complete)(purpose="synth-mid", messages=HELLO, guild_id="g-over", max_tokens=10)


@pytest.mark.django_db
def test_a_failed_call_releases_its_reservation_and_charges_nothing(gateway_on_openai_server, priced):
    gateway_on_openai_server.queue_fault(400)
    envelope = BudgetEnvelopeFactory.create(guild_id="g1", allocated_usd=Decimal("1"))

    with pytest.raises(Exception, match="rejected"):
        async_to_sync(gateway.complete)(purpose="synth-mid", messages=HELLO, guild_id="g1", max_tokens=10)

    envelope.refresh_from_db()
    assert (envelope.spent_usd, envelope.reserved_usd) == (0, 0)


@pytest.mark.django_db
def test_a_call_without_a_guild_or_with_an_unbudgeted_guild_is_not_limited(gateway_on_openai_server, priced):
    async_to_sync(gateway.complete)(purpose="synth-mid", messages=HELLO, guild_id="no-budget")
    async_to_sync(gateway.complete)(purpose="synth-mid", messages=HELLO)

    assert len(gateway_on_openai_server.chat_requests) == 2


@pytest.mark.django_db
def test_reserving_checks_spent_plus_reserved_against_the_allocation():
    BudgetEnvelopeFactory.create(guild_id="r", allocated_usd=Decimal("1.00"))

    first = budget_reserve(guild_id="r", amount=Decimal("0.60"))
    assert first is not None
    with pytest.raises(BudgetExhausted, match="held by calls in flight"):
        budget_reserve(guild_id="r", amount=Decimal("0.50"))
    budget_settle(reservation=first, actual_usd=Decimal("0.30"))
    second = budget_reserve(guild_id="r", amount=Decimal("0.50"))

    envelope = BudgetEnvelope.objects.get(guild_id="r")
    assert (envelope.spent_usd, envelope.reserved_usd) == (Decimal("0.30"), Decimal("0.50"))
    assert second is not None


@pytest.mark.django_db
def test_a_fully_spent_budget_refuses_even_calls_with_no_known_price():
    BudgetEnvelopeFactory.create(guild_id="z", allocated_usd=Decimal("1.00"), spent_usd=Decimal("1.00"))

    with pytest.raises(BudgetExhausted):
        budget_reserve(guild_id="z", amount=Decimal(0))


@pytest.mark.django_db
def test_an_ended_period_refreshes_on_first_use_with_the_same_allocation(gateway_on_openai_server, priced):
    now = timezone.now()
    old = BudgetEnvelopeFactory.create(
        guild_id="g2",
        period_start=now - timedelta(days=3, hours=2),
        period_end=now - timedelta(days=2, hours=2),
        allocated_usd=Decimal("0.50"),
        spent_usd=Decimal("0.50"),
    )

    async_to_sync(gateway.complete)(purpose="synth-mid", messages=HELLO, guild_id="g2", max_tokens=10)

    current = BudgetEnvelope.objects.filter(guild_id="g2").exclude(pk=old.pk).get()
    # Two whole periods were skipped; the new one is aligned to the old boundaries and contains now.
    assert current.period_start == old.period_end + timedelta(days=2)
    assert current.period_start <= now < current.period_end == current.refresh_at
    assert current.allocated_usd == Decimal("0.50")
    assert current.spent_usd > 0
    old.refresh_from_db()
    assert old.spent_usd == Decimal("0.50")


@pytest.mark.django_db
def test_budget_refresh_due_opens_the_next_period_only_for_guilds_that_reached_it():
    now = timezone.now()
    BudgetEnvelopeFactory.create(
        guild_id="due", period_start=now - timedelta(days=1, hours=1), period_end=now - timedelta(hours=1)
    )
    BudgetEnvelopeFactory.create(
        guild_id="not-due", period_start=now - timedelta(hours=1), period_end=now + timedelta(hours=5)
    )

    opened = budget_refresh_due(now=now)

    assert [envelope.guild_id for envelope in opened] == ["due"]
    assert BudgetEnvelope.objects.filter(guild_id="due").count() == 2
    assert budget_refresh_due(now=now) == []


@pytest.mark.django_db
def test_the_remaining_fraction_is_read_sync_and_async():
    BudgetEnvelopeFactory.create(
        guild_id="f", allocated_usd=Decimal("4"), spent_usd=Decimal("1"), reserved_usd=Decimal("0.5")
    )

    assert gateway.budget_remaining_fraction("f") == pytest.approx(0.625)
    assert async_to_sync(gateway.abudget_remaining_fraction)("f") == pytest.approx(0.625)
    assert gateway.budget_remaining_fraction("nobody") is None


@pytest.mark.django_db
def test_a_period_that_has_ended_reads_as_full():
    now = timezone.now()
    BudgetEnvelopeFactory.create(
        guild_id="e",
        period_start=now - timedelta(days=2),
        period_end=now - timedelta(days=1),
        allocated_usd=Decimal("2"),
        spent_usd=Decimal("2"),
    )

    assert gateway.budget_remaining_fraction("e") == 1.0
