"""Fixtures for the HTTP API: settings on embedded defaults under a temp DATA_DIR, the app,
a client, a real uvicorn server, and a set of good and bad videos made once per session."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from reels_scripter.api.app import create_app
from reels_scripter.api.deps import Services
from reels_scripter.config import Settings
from reels_scripter.db import get_engine, upgrade_database
from support.reelgen import make_audio_only, make_reel
from support.served import ServedApp, started_servers
from support.settings import make_settings

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


WORKER_CODE = """
from reels_scripter.config import Settings
from reels_scripter.worker.celery_app import run_worker
run_worker(Settings(), sweep=False, concurrency=1)
"""
# Settings a developer's shell may hold that would pick the worker's backends or AI for it.
SERVICE_ENV = (
    "DATA_DIR",
    "DATABASE_URL",
    "REDIS_URL",
    "JOB_QUEUE",
    "AI_PROVIDER",
    "AI_FALLBACK",
    "STORAGE_BACKEND",
    "API_KEYS",
    "GOOGLE_AI_API_KEY",
)


@pytest.fixture(
    params=[
        "embedded",
        pytest.param("postgres_redis", marks=[pytest.mark.postgres, pytest.mark.redis]),
    ]
)
def backend_env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The settings naming the service's backends, with a job queue of this test's own:
    embedded defaults (SQLite database and broker), or the session's PostgreSQL database and
    the local Redis. The shared PostgreSQL database is emptied afterwards."""
    env: dict[str, Any] = {"JOB_QUEUE": f"api-test-{uuid.uuid4().hex[:8]}"}
    if request.param == "postgres_redis":
        env["DATABASE_URL"] = request.getfixturevalue("pg_url")
        env["REDIS_URL"] = "redis://127.0.0.1:6379/0"
    yield env
    if "DATABASE_URL" in env:  # leave the session's database as other tests expect it
        settings = make_settings(tmp_path / "data", DATABASE_URL=env["DATABASE_URL"])
        with get_engine(settings).begin() as conn:
            conn.execute(text("TRUNCATE jobs, workers, ai_settings CASCADE"))


@contextmanager
def worker_process(tmp_path: Path, **env: Any) -> Iterator[subprocess.Popen[bytes]]:
    """A real Celery worker process on DATA_DIR `tmp_path / "data"`, local storage and the
    offline provider, `env` on top (as strings) and nothing of SERVICE_ENV from this process.
    It logs to `tmp_path / "worker.log"` and runs in `tmp_path`, so no developer .env is picked
    up; SIGTERM stops it (a kill after 20 s)."""
    worker_env = {k: v for k, v in os.environ.items() if k not in SERVICE_ENV}
    worker_env.update(
        DATA_DIR=str(tmp_path / "data"),
        AI_PROVIDER="local",
        STORAGE_BACKEND="local",
        **{k: str(v) for k, v in env.items()},
    )
    with (tmp_path / "worker.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-c", WORKER_CODE],
            env=worker_env,
            cwd=tmp_path,
            stdout=log,
            stderr=log,
        )
        try:
            yield proc
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


class LiveServer(ServedApp):
    """The API app served by uvicorn (`url`, `port`, `app`)."""

    app: FastAPI


@pytest.fixture
def live_server(make_app: Callable[..., FastAPI]) -> Iterator[Callable[..., LiveServer]]:
    yield from started_servers(lambda **env: LiveServer(make_app(**env)))


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
