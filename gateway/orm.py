"""Where the gateway's own database work runs: the caller's database threads, or asgiref's one thread.

Each in-process call plans (on a cache miss), may reserve budget, and records its usage through the ORM.
By default that work runs through `sync_to_async` on the one thread all thread-sensitive work shares,
which keeps a test's transaction visible to it. A caller that owns a pool of database threads (the host:
`bots.host.threads.DatabaseThreads`) hands it over for the calls made in its context, so calls in flight
together (five research personas at once) do not queue behind one thread:

    with gateway.orm.database_threads(port.run_for_gateway):
        await complete(...)

The choice is a context variable: tasks started inside the block inherit it, other callers never see it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from typing import Any, TypeVar

from asgiref.sync import sync_to_async

T = TypeVar("T")

Runner = Callable[..., Awaitable[Any]]

_RUNNER: ContextVar[Runner | None] = ContextVar("gateway_database_runner", default=None)


async def run(function: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run the ORM work `function(*args, **kwargs)` where this context says, and await its result."""
    runner = _RUNNER.get()
    if runner is None:
        return await sync_to_async(function)(*args, **kwargs)
    result: T = await runner(function, *args, **kwargs)
    return result


@contextlib.contextmanager
def database_threads(runner: Runner) -> Iterator[None]:
    """Run the gateway's database work of this context (and tasks started in it) through `runner`."""
    token = _RUNNER.set(runner)
    try:
        yield
    finally:
        _RUNNER.reset(token)
