"""The runner's startup retry: exponential backoff with jitter, retry-after honoured, bad tokens fail fast."""

from __future__ import annotations

import random

import pytest

from bots.adapters.errors import AdapterAuthError, AdapterConnectionError, AdapterRateLimitedError, AdapterRequestError
from bots.adapters.local import LocalAdapter
from bots.errors import BootError
from bots.host.runner import EXIT_AUTH, EXIT_FAILED, RetryPolicy, StartupFailed, load_features, start_with_retry


class FlakyAdapter(LocalAdapter):
    """Fails `start` with the given errors first, then starts."""

    def __init__(self, failures):
        super().__init__()
        self.failures = list(failures)
        self.attempts = 0

    async def start(self, handler):
        self.attempts += 1
        if self.failures:
            raise self.failures.pop(0)
        await super().start(handler)


class NullHandler:
    async def on_ready(self, event): ...
    async def on_resumed(self): ...
    async def on_message(self, message): ...
    async def on_reaction(self, reaction): ...
    async def on_typing(self, event): ...


def test_backoff_grows_exponentially_within_its_jitter_and_cap():
    policy = RetryPolicy(base=1, maximum=10, factor=2, jitter=0.5)
    rng = random.Random(4)
    delays = [policy.delay(attempt, rng) for attempt in range(1, 7)]
    for attempt, delay in enumerate(delays, start=1):
        ceiling = min(10, 2 ** (attempt - 1))
        assert ceiling * 0.5 <= delay <= ceiling
    assert len(set(delays)) == len(delays)


def test_backoff_never_undercuts_a_platform_retry_after():
    assert RetryPolicy(base=1).delay(1, random.Random(1), retry_after=7.5) == 7.5


async def test_connection_failures_are_retried_with_growing_waits_until_the_adapter_starts():
    waits: list[float] = []

    async def stop_wait(seconds: float) -> bool:
        waits.append(seconds)
        return False

    adapter = FlakyAdapter(
        [AdapterConnectionError("down"), AdapterConnectionError("down"), AdapterRateLimitedError("429", retry_after=3)]
    )
    started = await start_with_retry(
        adapter, NullHandler(), policy=RetryPolicy(base=0.5, maximum=60, jitter=0), stop_wait=stop_wait
    )
    assert started
    assert adapter.attempts == 4
    assert waits == [0.5, 1.0, 3]


async def test_a_refused_token_fails_fast_with_exit_code_2():
    adapter = FlakyAdapter([AdapterAuthError("bad token")])

    async def stop_wait(seconds: float) -> bool:
        raise AssertionError("a bad token must not be retried")

    with pytest.raises(StartupFailed) as failure:
        await start_with_retry(adapter, NullHandler(), policy=RetryPolicy(), stop_wait=stop_wait)
    assert failure.value.exit_code == EXIT_AUTH
    assert adapter.attempts == 1


async def test_a_non_retryable_failure_ends_startup_with_exit_code_1():
    adapter = FlakyAdapter([AdapterRequestError("intents refused")])

    async def stop_wait(seconds: float) -> bool:
        raise AssertionError("not retried")

    with pytest.raises(StartupFailed) as failure:
        await start_with_retry(adapter, NullHandler(), policy=RetryPolicy(), stop_wait=stop_wait)
    assert failure.value.exit_code == EXIT_FAILED


async def test_a_stop_during_the_backoff_ends_startup_quietly():
    adapter = FlakyAdapter([AdapterConnectionError("down")])

    async def stop_wait(seconds: float) -> bool:
        return True

    assert not await start_with_retry(adapter, NullHandler(), policy=RetryPolicy(), stop_wait=stop_wait)


def test_features_are_imported_by_module_name():
    [module] = load_features(["bots.host.cues"])

    assert module.__name__ == "bots.host.cues"


def test_a_feature_that_cannot_be_imported_is_a_clear_boot_error():
    with pytest.raises(BootError, match="feature 'cogs.nowhere' listed in the manifest cannot be imported"):
        load_features(["cogs.nowhere"])
