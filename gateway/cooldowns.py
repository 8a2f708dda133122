"""Provider cooldowns in Redis, so every process skips a provider that keeps failing.

Each retryable failure adds to the provider's failure count. From DIT_GATEWAY_COOLDOWN_AFTER_FAILURES
failures on, the provider cools down for base * 2^(failures - threshold) seconds, capped at
DIT_GATEWAY_COOLDOWN_MAX_SECONDS; a Retry-After from the provider lengthens it. A success clears the count.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings

from gateway.store import CONFIG_VERSION, key, redis_client

# KEYS: failures, cooldown. ARGV: threshold, base ms, max ms, retry-after ms (-1 for none).
# Stores the cooldown's end (ms since the epoch, Redis clock) so readers need no second round trip.
_FAIL = """
local failures = redis.call('INCR', KEYS[1])
local max_ms = tonumber(ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.max(2 * max_ms, 60000))
local threshold = tonumber(ARGV[1])
local cooldown = 0
if failures >= threshold then
  cooldown = math.min(tonumber(ARGV[2]) * math.pow(2, failures - threshold), max_ms)
end
local retry_after = tonumber(ARGV[4])
if retry_after > cooldown then cooldown = math.min(retry_after, max_ms) end
cooldown = math.floor(cooldown)
if cooldown > 0 then
  local now = redis.call('TIME')
  local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
  redis.call('SET', KEYS[2], now_ms + cooldown, 'PX', cooldown)
end
return {failures, cooldown}
"""


@dataclass(frozen=True)
class ProviderHealth:
    """A provider's state when a call starts."""

    cooling_until_ms: int | None
    failures: int

    @property
    def cooling(self) -> bool:
        """Whether calls should skip this provider now."""
        return self.cooling_until_ms is not None


def cooldown_seconds(failures: int) -> float:
    """How long a provider cools down after this many failures in a row (0 below the threshold)."""
    threshold = int(settings.DIT_GATEWAY_COOLDOWN_AFTER_FAILURES)
    if failures < threshold:
        return 0.0
    base = float(settings.DIT_GATEWAY_COOLDOWN_BASE_SECONDS)
    return float(min(base * 2 ** (failures - threshold), float(settings.DIT_GATEWAY_COOLDOWN_MAX_SECONDS)))


async def provider_health(endpoint_keys: Iterable[str]) -> tuple[str, dict[str, ProviderHealth]]:
    """The routing configuration version, and the cooldown and failure count of each provider: one round trip."""
    keys = list(dict.fromkeys(endpoint_keys))
    names = [key(CONFIG_VERSION)] + [key("cooldown", k) for k in keys] + [key("failures", k) for k in keys]
    values = await redis_client().mget(names)
    version = values[0].decode() if values[0] is not None else ""
    health = {}
    for index, endpoint_key in enumerate(keys, start=1):
        until, failures = values[index], values[index + len(keys)]
        health[endpoint_key] = ProviderHealth(
            cooling_until_ms=int(until) if until is not None else None, failures=int(failures or 0)
        )
    return version, health


async def provider_failed(endpoint_key: str, *, retry_after: float | None = None) -> float:
    """Count a retryable failure; returns the cooldown started, in seconds (0 if none)."""
    _, cooldown_ms = await redis_client().eval(  # type: ignore[misc]
        _FAIL,
        2,
        key("failures", endpoint_key),
        key("cooldown", endpoint_key),
        str(int(settings.DIT_GATEWAY_COOLDOWN_AFTER_FAILURES)),
        str(int(float(settings.DIT_GATEWAY_COOLDOWN_BASE_SECONDS) * 1000)),
        str(int(float(settings.DIT_GATEWAY_COOLDOWN_MAX_SECONDS) * 1000)),
        str(int(retry_after * 1000) if retry_after is not None else -1),
    )
    return int(cooldown_ms) / 1000


async def provider_recovered(endpoint_key: str) -> None:
    """Clear a provider's failure count after a success."""
    await redis_client().delete(key("failures", endpoint_key))
