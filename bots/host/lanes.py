"""Per-channel serialization: one turn in flight per channel, channels in parallel.

Each channel has a lane, a FIFO of pending turns worked by one task that exists only while the lane has
work. Draining closes every lane: pending turns are dropped, in-flight ones get a grace period to finish
and are cancelled after it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass
class _Lane(Generic[T]):
    pending: deque[T] = field(default_factory=deque)
    task: asyncio.Task[None] | None = None


@dataclass(frozen=True, slots=True)
class DrainReport:
    """What draining did: turns finished within the grace period, cancelled after it, dropped unstarted."""

    finished: int
    cancelled: int
    dropped: int


class ChannelLanes(Generic[T]):
    """Runs `work(item)` for submitted items, one at a time per channel."""

    def __init__(self, work: Callable[[T], Awaitable[None]]) -> None:
        self._work = work
        self._lanes: dict[str, _Lane[T]] = {}
        self._closed = False

    @property
    def in_flight(self) -> int:
        """How many channels have a turn running now."""
        return sum(1 for lane in self._lanes.values() if lane.task is not None and not lane.task.done())

    @property
    def pending(self) -> int:
        """How many turns wait behind the running ones."""
        return sum(len(lane.pending) for lane in self._lanes.values())

    def submit(self, channel_id: str, item: T) -> bool:
        """Queue an item on its channel's lane; False when the lanes are closed."""
        if self._closed:
            return False
        lane = self._lanes.setdefault(channel_id, _Lane())
        lane.pending.append(item)
        if lane.task is None or lane.task.done():
            lane.task = asyncio.create_task(self._run(channel_id, lane), name=f"lane-{channel_id}")
        return True

    async def _run(self, channel_id: str, lane: _Lane[T]) -> None:
        while lane.pending and not self._closed:
            item = lane.pending.popleft()
            try:
                await self._work(item)
            except asyncio.CancelledError:
                raise
            except Exception:
                # One failing turn must not stall its channel; the traceback is logged with the channel.
                logger.exception("turn in channel %s failed", channel_id)
        if not lane.pending and self._lanes.get(channel_id) is lane:
            del self._lanes[channel_id]

    async def wait_idle(self) -> None:
        """Wait until no lane has work (tests and benchmarks)."""
        while True:
            tasks = [lane.task for lane in self._lanes.values() if lane.task is not None and not lane.task.done()]
            if not tasks:
                return
            await asyncio.wait(tasks)

    async def drain(self, grace: float) -> DrainReport:
        """Stop taking turns, drop pending ones, give running ones `grace` seconds, then cancel the rest."""
        self._closed = True
        dropped = 0
        for lane in self._lanes.values():
            dropped += len(lane.pending)
            lane.pending.clear()
        running = [lane.task for lane in self._lanes.values() if lane.task is not None and not lane.task.done()]
        if not running:
            return DrainReport(finished=0, cancelled=0, dropped=dropped)
        done, still = await asyncio.wait(running, timeout=grace)
        for task in still:
            task.cancel()
        if still:
            await asyncio.wait(still)
        return DrainReport(finished=len(done), cancelled=len(still), dropped=dropped)
