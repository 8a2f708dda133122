"""Limits on answering other bots: consecutive bot-to-bot replies per channel, and replies per minute.

State lives in Redis under keys prefixed per bot (`{prefix}:bot:{bot_id}:...`), so every process running
the bot sees the same counts. A human posting in a channel resets its chain.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

CHAIN_TTL_SECONDS = 3600
MINUTE_SECONDS = 60


@dataclass(frozen=True, slots=True)
class ChainVerdict:
    """Whether the bot may answer another bot now, and why not."""

    allowed: bool
    reason: str = ""
    chain: int = 0


class BotChainLimiter:
    """BOT_REPLY_CHAIN_MAX consecutive bot replies per channel and BOT_REPLIES_PER_MINUTE, then a cooldown."""

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str,
        bot_id: int,
        chain_max: int,
        per_minute: int,
        cooldown_seconds: float,
    ) -> None:
        self._redis = redis
        self._base = f"{prefix}:bot:{bot_id}"
        self.chain_max = chain_max
        self.per_minute = per_minute
        self.cooldown_seconds = cooldown_seconds

    def _chain_key(self, channel_id: str) -> str:
        return f"{self._base}:chain:{channel_id}"

    @property
    def _minute_key(self) -> str:
        return f"{self._base}:bot-replies-minute"

    @property
    def _cooldown_key(self) -> str:
        return f"{self._base}:bot-replies-cooldown"

    async def human_spoke(self, channel_id: str) -> None:
        """A human posted in the channel: the bot-to-bot chain there starts over."""
        await self._redis.delete(self._chain_key(channel_id))

    async def check(self, channel_id: str) -> ChainVerdict:
        """Whether answering a bot in this channel stays within the limits."""
        chain_raw, minute_raw, cooling = await self._redis.mget(
            self._chain_key(channel_id), self._minute_key, self._cooldown_key
        )
        chain = int(chain_raw or 0)
        if cooling is not None:
            return ChainVerdict(False, "bot replies cooling down (BOT_REPLIES_PER_MINUTE reached)", chain)
        if chain >= self.chain_max:
            return ChainVerdict(False, f"bot-to-bot chain at BOT_REPLY_CHAIN_MAX ({self.chain_max})", chain)
        if int(minute_raw or 0) >= self.per_minute:
            await self._redis.set(self._cooldown_key, "1", ex=max(1, round(self.cooldown_seconds)))
            return ChainVerdict(False, f"BOT_REPLIES_PER_MINUTE ({self.per_minute}) reached: cooling down", chain)
        return ChainVerdict(True, chain=chain)

    async def replied(self, channel_id: str) -> int:
        """The bot answered a bot in this channel: count it in the chain and the minute; returns the chain."""
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(self._chain_key(channel_id))
            pipe.expire(self._chain_key(channel_id), CHAIN_TTL_SECONDS)
            pipe.incr(self._minute_key)
            chain, _, minute = await pipe.execute()
        if int(minute) == 1:
            # The minute starts at its first reply and is not extended by the ones after (no EXPIRE NX on Redis 6).
            await self._redis.expire(self._minute_key, MINUTE_SECONDS)
        return int(chain)
