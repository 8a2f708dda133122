"""Where the gateway's database work runs: asgiref's thread by default, a caller's runner inside its block."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from gateway import orm


def where() -> str:
    return threading.current_thread().name


async def test_without_a_runner_the_work_runs_on_asgirefs_thread_and_with_one_through_the_runner():
    seen: list[str] = []

    async def runner(function: Any, /, *args: Any, **kwargs: Any) -> Any:
        seen.append(function.__name__)
        return await asyncio.to_thread(function, *args, **kwargs)

    outside = await orm.run(where)
    with orm.database_threads(runner):
        inside = await orm.run(where)
        in_a_task = await asyncio.create_task(orm.run(where))
    after = await orm.run(where)

    assert seen == ["where", "where"]
    assert inside != outside
    assert in_a_task != outside
    assert after == outside


async def test_a_runner_does_not_leak_into_work_started_outside_its_block():
    calls: list[str] = []

    async def runner(function: Any, /, *args: Any, **kwargs: Any) -> Any:
        calls.append("runner")
        return function(*args, **kwargs)

    started = asyncio.Event()
    release = asyncio.Event()

    async def elsewhere() -> str:
        started.set()
        await release.wait()
        return await orm.run(where)

    task = asyncio.create_task(elsewhere())
    await started.wait()
    with orm.database_threads(runner):
        release.set()
        await task
        await orm.run(where)

    assert calls == ["runner"]
