"""Engines and sessions from settings: SQLite in DATA_DIR, or PostgreSQL via DATABASE_URL."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from reels_scripter.config import Settings

# How long a SQLite writer waits for another process's write lock before giving up. Workers,
# the sweeper and the API all write the same file; progress writes are tiny, so waits are short.
SQLITE_BUSY_TIMEOUT_MS = 30_000

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def database_url(settings: Settings) -> str:
    """The SQLAlchemy URL: DATABASE_URL normalised to psycopg 3, else `{DATA_DIR}/reels.db`."""
    url = settings.database_url
    if not url:
        path = (settings.data_dir / "reels.db").resolve()
        return f"sqlite:///{path}"
    # Heroku-style and plain URLs name no driver; SQLAlchemy would pick psycopg2, not installed.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        # WAL lets the API read job rows while a worker writes progress.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def get_engine(settings: Settings) -> Engine:
    """One engine per URL per process (engines own connection pools and are thread-safe)."""
    url = database_url(settings)
    with _lock:
        engine = _engines.get(url)
        if engine is not None:
            return engine
        if url.startswith("sqlite"):
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            engine = create_engine(
                url,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
            )
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = create_engine(url, pool_pre_ping=True)
        _engines[url] = engine
        return engine


def ping(engine: Engine) -> None:
    """Raise if the database does not answer (readiness checks)."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def session_factory(settings: Settings) -> sessionmaker[Session]:
    # expire_on_commit=False: services return ORM rows to the API after committing.
    return sessionmaker(bind=get_engine(settings), expire_on_commit=False)


def dispose_engines(*, close: bool = True) -> None:
    """Forget every pool. In a forked child pass close=False: the parent still owns the
    sockets, so the child must drop them without closing (SQLAlchemy's fork recipe)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose(close=close)
        _engines.clear()
