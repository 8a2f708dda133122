"""Policy quotas in Redis: requests per minute and tokens per UTC day, per policy, bot and guild.

Both are checked and taken in one Lua script, so concurrent callers in any process cannot pass a limit
between a check and an increment. Tokens are reserved from an estimate before the call and corrected
to the real count after it, the same way budgets are.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

import redis

from gateway.errors import QuotaExceeded
from gateway.routing import CallPlan
from gateway.store import key, redis_client

logger = logging.getLogger(__name__)

# Returns {0, 0} when taken, {1, used} when the minute is full, {2, used} when the day's tokens are.
_ACQUIRE = """
local rpm_limit = tonumber(ARGV[1])
local tpd_limit = tonumber(ARGV[2])
local estimate = tonumber(ARGV[3])
if rpm_limit >= 0 then
  local used = tonumber(redis.call('GET', KEYS[1]) or '0')
  if used + 1 > rpm_limit then return {1, used} end
end
if tpd_limit >= 0 then
  local used = tonumber(redis.call('GET', KEYS[2]) or '0')
  if used + estimate > tpd_limit then return {2, used} end
end
if rpm_limit >= 0 then
  redis.call('INCR', KEYS[1])
  redis.call('EXPIRE', KEYS[1], 120)
end
if tpd_limit >= 0 then
  redis.call('INCRBY', KEYS[2], estimate)
  redis.call('EXPIRE', KEYS[2], 172800)
end
return {0, 0}
"""


SECONDS_PER_MINUTE = 60
SECONDS_PER_DAY = 86_400


def _seconds_until_next(moment: float, window: int) -> int:
    """Whole seconds (at least 1) until the window containing `moment` ends: when the quota renews.

    UTC days are multiples of 86,400 s since the epoch, as the minute windows are of 60 s.
    """
    return max(1, math.ceil((moment // window + 1) * window - moment))


@dataclass(frozen=True)
class QuotaTicket:
    """What a call took from the day's token quota, to correct once the real count is known."""

    tokens_key: str | None
    estimated_tokens: int


def _scope(plan: CallPlan, bot_id: int | None, guild_id: str | None) -> str:
    return f"{plan.policy_id}:{bot_id if bot_id is not None else '-'}:{guild_id if guild_id is not None else '-'}"


async def quota_acquire(
    *, plan: CallPlan, bot_id: int | None, guild_id: str | None, estimated_tokens: int, now: float | None = None
) -> QuotaTicket:
    """Take one request and the estimated tokens from the policy's quotas, or raise QuotaExceeded."""
    if plan.policy_id is None or (plan.requests_per_minute is None and plan.tokens_per_day is None):
        return QuotaTicket(tokens_key=None, estimated_tokens=0)
    moment = time.time() if now is None else now
    scope = _scope(plan, bot_id, guild_id)
    minute_key = key("quota", "rpm", scope, int(moment // 60))
    day_key = key("quota", "tpd", scope, time.strftime("%Y%m%d", time.gmtime(moment)))
    rpm = plan.requests_per_minute if plan.requests_per_minute is not None else -1
    tpd = plan.tokens_per_day if plan.tokens_per_day is not None else -1
    client = redis_client()
    status, used = await client.eval(  # type: ignore[misc]
        _ACQUIRE, 2, minute_key, day_key, str(rpm), str(tpd), str(estimated_tokens)
    )
    if int(status) == 1:
        raise QuotaExceeded(
            f"The {plan.purpose} quota of {rpm} requests per minute is used up; try again next minute",
            limit="requests_per_minute",
            retry_after=_seconds_until_next(moment, SECONDS_PER_MINUTE),
        )
    if int(status) == 2:
        raise QuotaExceeded(
            f"The {plan.purpose} quota of {tpd} tokens per day would be passed ({used} used, about "
            f"{estimated_tokens} needed); it renews at 00:00 UTC",
            limit="tokens_per_day",
            retry_after=_seconds_until_next(moment, SECONDS_PER_DAY),
        )
    return QuotaTicket(tokens_key=day_key if tpd >= 0 else None, estimated_tokens=estimated_tokens)


async def quota_settle(ticket: QuotaTicket, *, actual_tokens: int) -> None:
    """Replace the estimate taken from the day's tokens by the real count."""
    if ticket.tokens_key is None or actual_tokens == ticket.estimated_tokens:
        return
    try:
        await redis_client().incrby(ticket.tokens_key, actual_tokens - ticket.estimated_tokens)
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        # The call itself is done and its answer must reach the caller; the day's count keeps the
        # estimate instead of the real number, which errs by one call's difference at most.
        logger.warning("gateway: could not correct the token quota of %s: %s", ticket.tokens_key, exc)
