"""An ASGI app served by a real uvicorn on a free local port, on a daemon thread: what the
HTTP tests (`tests/api`) and the browser tests (`tests/web`) talk to over real sockets."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, Self, TypeVar

import uvicorn

from support.fixtures import free_port


class ServedApp:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> Self:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


S = TypeVar("S", bound=ServedApp)


def started_servers(build: Callable[..., S]) -> Iterator[Callable[..., S]]:
    """The body of a factory fixture: each call builds a server with `build(**env)` and starts
    it; after the test every one of them is stopped (`yield from started_servers(...)`)."""
    servers: list[S] = []

    def factory(**env: Any) -> S:
        server = build(**env).start()
        servers.append(server)
        return server

    yield factory
    for server in servers:
        server.stop()
