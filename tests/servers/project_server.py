"""The whole project's ASGI app under uvicorn on 127.0.0.1 and a free port, in a thread, for tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from django.db import connections


@contextmanager
def project_server(*, ws: str = "none", name: str = "project-uvicorn") -> Iterator[str]:
    """Serve `dit_project.asgi:application` (websockets as `ws` says); yields the base URL, stops after."""
    config = uvicorn.Config(
        "dit_project.asgi:application",
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan="off",
        access_log=False,
        ws=ws,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        connections.close_all()
