"""Per-channel serialization: one turn in flight per channel, channels in parallel, draining."""

from __future__ import annotations

import asyncio

from bots.host.lanes import ChannelLanes


async def test_turns_in_one_channel_run_one_at_a_time_in_order():
    running: list[str] = []
    overlap: list[tuple[str, str]] = []
    gate = asyncio.Event()

    async def work(item: str) -> None:
        if running:
            overlap.append((running[-1], item))
        running.append(item)
        await gate.wait()
        running.remove(item)
        order.append(item)

    order: list[str] = []
    lanes: ChannelLanes[str] = ChannelLanes(work)
    for item in ("a", "b", "c"):
        lanes.submit("c1", item)
    await asyncio.sleep(0)
    assert lanes.in_flight == 1
    assert lanes.pending == 2
    gate.set()
    await lanes.wait_idle()
    assert order == ["a", "b", "c"]
    assert overlap == []


async def test_turns_in_different_channels_run_in_parallel():
    started: set[str] = set()
    both = asyncio.Event()

    async def work(channel: str) -> None:
        started.add(channel)
        if len(started) == 2:
            both.set()
        # Each turn waits for the other to have started: only parallel lanes get past this.
        await asyncio.wait_for(both.wait(), timeout=5)

    lanes: ChannelLanes[str] = ChannelLanes(work)
    lanes.submit("c1", "c1")
    lanes.submit("c2", "c2")
    await lanes.wait_idle()
    assert started == {"c1", "c2"}


async def test_a_failing_turn_does_not_stall_its_channel():
    done: list[str] = []

    async def work(item: str) -> None:
        if item == "bad":
            raise RuntimeError("boom")
        done.append(item)

    lanes: ChannelLanes[str] = ChannelLanes(work)
    lanes.submit("c1", "bad")
    lanes.submit("c1", "good")
    await lanes.wait_idle()
    assert done == ["good"]


async def test_draining_finishes_running_turns_within_grace_and_drops_queued_ones():
    release = asyncio.Event()
    finished: list[str] = []

    async def work(item: str) -> None:
        await release.wait()
        finished.append(item)

    lanes: ChannelLanes[str] = ChannelLanes(work)
    lanes.submit("c1", "running")
    lanes.submit("c1", "queued")
    await asyncio.sleep(0)
    draining = asyncio.create_task(lanes.drain(grace=5))
    await asyncio.sleep(0)
    assert not lanes.submit("c2", "late")
    release.set()
    report = await draining
    assert finished == ["running"]
    assert (report.finished, report.cancelled, report.dropped) == (1, 0, 1)


async def test_draining_cancels_turns_still_running_after_the_grace_period():
    cancelled: list[str] = []

    async def work(item: str) -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(item)
            raise

    lanes: ChannelLanes[str] = ChannelLanes(work)
    lanes.submit("c1", "stuck")
    await asyncio.sleep(0)
    report = await lanes.drain(grace=0.01)
    assert cancelled == ["stuck"]
    assert report.cancelled == 1
