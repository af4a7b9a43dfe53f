"""Fixtures for the service backend tests (db, jobs, storage, worker).

DB-facing tests run on SQLite and on PostgreSQL: a fresh database is created on the local
server for the test session and dropped afterwards. Each subfolder's conftest re-exports
these fixtures.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from reels_scripter.config import Settings
from reels_scripter.db import session_factory, upgrade_database
from reels_scripter.db.engine import dispose_engines, get_engine

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379"

# Every setting the service reads from the environment, pinned so a developer's shell or
# .env cannot change what the tests exercise.
BASE_ENV: dict[str, Any] = {
    "DATABASE_URL": None,
    "REDIS_URL": None,
    "STORAGE_BACKEND": "local",
    "GOOGLE_CLOUD_BUCKET_NAME": None,
    "STORAGE_EMULATOR_HOST": None,
    "AI_PROVIDER": "local",
    "AI_FALLBACK": None,
}


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    values = {**BASE_ENV, "DATA_DIR": data_dir, **overrides}
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


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
            conn.execute(text("TRUNCATE jobs"))
    else:
        dispose_engines()


@pytest.fixture
def session(db_settings: Settings) -> Iterator[Session]:
    with session_factory(db_settings)() as s:
        yield s
