"""Fixtures for the HTTP API: settings on embedded defaults under a temp DATA_DIR, the app,
a client, a real uvicorn server, and a set of good and bad videos made once per session."""

from __future__ import annotations

import random
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from reels_scripter.api.app import create_app
from reels_scripter.api.deps import Services
from reels_scripter.config import Settings
from reels_scripter.db import upgrade_database
from support.reelgen import make_audio_only, make_reel

PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)

# Files that belong under DATA_DIR whatever happens: the SQLite database and broker.
_DB_SUFFIXES = (".lock", ".db", ".db-wal", ".db-shm", ".db-journal", ".sqlite", ".sqlite-wal")


def leftovers(data_dir: Path) -> list[Path]:
    """Files under DATA_DIR other than databases: temp uploads, stored videos, keyframes."""
    if not data_dir.exists():
        return []
    return [
        p
        for p in data_dir.rglob("*")
        if p.is_file() and not p.name.endswith(_DB_SUFFIXES) and "__pycache__" not in p.parts
    ]


def app_of(client: TestClient) -> FastAPI:
    """The FastAPI app behind a test client (TestClient.app is typed as any ASGI app)."""
    app = client.app
    assert isinstance(app, FastAPI)
    return app


def services_of(client: TestClient) -> Services:
    """The app's services; app.state holds anything, so the type is named here once."""
    services: Services = app_of(client).state.services
    return services


@pytest.fixture
def make_app(settings_factory: Callable[..., Settings]) -> Callable[..., FastAPI]:
    def factory(**env: Any) -> FastAPI:
        settings = settings_factory(**env)
        upgrade_database(settings)
        return create_app(settings)

    return factory


@pytest.fixture
def make_client(make_app: Callable[..., FastAPI]) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def factory(**env: Any) -> TestClient:
        client = TestClient(make_app(**env), raise_server_exceptions=False)
        clients.append(client)
        return client

    yield factory
    for c in clients:
        c.close()


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


class LiveServer:
    def __init__(self, app: FastAPI) -> None:
        self.app = app
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def live_server(make_app: Callable[..., FastAPI]) -> Iterator[Callable[..., LiveServer]]:
    servers: list[LiveServer] = []

    def factory(**env: Any) -> LiveServer:
        server = LiveServer(make_app(**env)).__enter__()
        servers.append(server)
        return server

    yield factory
    for s in servers:
        s.__exit__(None, None, None)


@pytest.fixture(scope="session")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Good and bad uploads, made once: small so probing them is quick."""
    d = tmp_path_factory.mktemp("videos")
    good = make_reel(d / "good.mp4", duration=2.0, width=64, height=112, fps=15, audio="tone")
    data = good.read_bytes()
    files = {
        "good": good,
        "long": make_reel(d / "long.mp4", duration=3.0, width=64, height=112, fps=5),
        "audio_only": make_audio_only(d / "audio.mp4", duration=1.0),
        "huge": make_reel(d / "huge.mp4", width=8192, height=8192, duration=0.1, fps=10),
    }
    for name, content in {
        "empty": b"",
        "text": "Это не видео, а просто текст.\n".encode() * 20,
        "png": PNG_1X1,
        "junk_ftyp": data[:32] + random.Random(2).randbytes(8000),
        "truncated": data[: len(data) // 2],
        "avi": b"RIFF\x00\x10\x00\x00AVI LIST" + bytes(4096),
    }.items():
        path = d / f"{name}.mp4"  # every bad file claims to be an mp4
        path.write_bytes(content)
        files[name] = path
    return files
