"""The shared fixtures (loaded once by the root conftest as a pytest plugin).

DB-facing tests run on SQLite and on PostgreSQL: a fresh database is created on the local
server for the test session and dropped afterwards.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from reels_scripter.config import Settings
from reels_scripter.db import session_factory, upgrade_database
from reels_scripter.db.engine import dispose_engines, get_engine
from support.fake_ai import GEMINI_KEY, FakeGemini, serve_gemini
from support.reelgen import make_reel
from support.settings import PG_ADMIN_URL, make_settings

GCS_BUCKET = "reels-test-bucket"  # the bucket `gcs_emulator` holds


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_connect(autocommit: bool = True) -> Any:
    import psycopg

    return psycopg.connect(PG_ADMIN_URL, autocommit=autocommit, connect_timeout=3)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    try:
        admin = _pg_connect()
    except Exception as exc:
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    name = f"reels_test_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    yield url
    dispose_engines()
    with _pg_connect() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """Settings pointing at a migrated, empty database of each kind."""
    if request.param == "postgres":
        url = request.getfixturevalue("pg_url")
        settings = make_settings(tmp_path / "data", DATABASE_URL=url)
    else:
        settings = make_settings(tmp_path / "data")
    upgrade_database(settings)
    yield settings
    if request.param == "postgres":
        with get_engine(settings).begin() as conn:
            conn.execute(text("TRUNCATE jobs, workers, ai_settings CASCADE"))
    else:
        dispose_engines()


@pytest.fixture
def session(db_settings: Settings) -> Iterator[Session]:
    with session_factory(db_settings)() as s:
        yield s


@pytest.fixture
def reel(tmp_path: Path) -> Callable[..., Path]:
    """Factory: `reel(name="x.mp4", **ReelSpec fields)` writes a synthetic reel under tmp_path."""

    def factory(name: str = "reel.mp4", **kw: Any) -> Path:
        return make_reel(tmp_path / name, **kw)

    return factory


@pytest.fixture
def settings_factory(tmp_path: Path) -> Callable[..., Settings]:
    """Factory: pinned test settings under this test's DATA_DIR, overridden by env name."""
    return lambda **overrides: make_settings(tmp_path / "data", **overrides)


@pytest.fixture(scope="module")
def gcs_emulator() -> Iterator[str]:
    """gcp-storage-emulator in this process, in memory, on a free port, holding GCS_BUCKET:
    its URL."""
    from gcp_storage_emulator.server import create_server

    port = free_port()
    server = create_server("127.0.0.1", port, in_memory=True, default_bucket=GCS_BUCKET)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def gemini(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGemini]:
    """The fake Gemini API, reached by the real SDK here and in any process started meanwhile
    (a worker inherits GOOGLE_GEMINI_BASE_URL); GEMINI_KEY is the one key it accepts."""
    with serve_gemini(monkeypatch, {GEMINI_KEY}) as server:
        yield server
