"""A fixed pool of threads for ORM work from asyncio code, each thread keeping its own connection.

The host's port runs every statement of its turns here (`bots.host.port`), and a task worker runs its row's
writes, the gateway's accounting and its tools' reads on a pool of its own (`bots.task_workers`), outside the
reactor's transaction.
"""

from __future__ import annotations

import asyncio
import contextvars
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import connections

T = TypeVar("T")

DEFAULT_THREADS = 4


class DatabaseThreads:
    """A fixed pool of threads for ORM work; each keeps its connection and closes it when the pool shuts."""

    def __init__(self, size: int = DEFAULT_THREADS, *, name: str = "host-db") -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[[], Any], asyncio.Future[Any], asyncio.AbstractEventLoop] | None]
        self._jobs = queue.SimpleQueue()
        self._threads = [threading.Thread(target=self._work, name=f"{name}-{n}", daemon=True) for n in range(size)]
        for thread in self._threads:
            thread.start()
        self._closed = False

    @property
    def closed(self) -> bool:
        """Whether `close` has begun; no new work is taken after that."""
        return self._closed

    def _work(self) -> None:
        try:
            while True:
                job = self._jobs.get()
                if job is None:
                    return
                call, future, loop = job
                try:
                    result = call()
                except BaseException as exc:  # noqa: BLE001 - handed to the awaiting coroutine, which raises it
                    loop.call_soon_threadsafe(_settle_future, future, None, exc)
                else:
                    loop.call_soon_threadsafe(_settle_future, future, result, None)
        finally:
            connections.close_all()

    async def run(self, function: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run `function(*args, **kwargs)` on a database thread (with this task's context) and await it."""
        if self._closed:
            raise RuntimeError("the host's database threads are shut down")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        context = contextvars.copy_context()
        self._jobs.put((lambda: context.run(function, *args, **kwargs), future, loop))
        return await future

    async def close(self) -> None:
        """Finish queued work, close every thread's connection and stop the threads."""
        if self._closed:
            return
        self._closed = True
        for _ in self._threads:
            self._jobs.put(None)
        await asyncio.to_thread(self._join)

    def _join(self) -> None:
        for thread in self._threads:
            thread.join(10)


def _settle_future(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
