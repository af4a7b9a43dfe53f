"""Apply the packaged Alembic migrations at start-up, safely from several processes at once."""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text

from reels_scripter.config import Settings
from reels_scripter.db.engine import database_url, get_engine

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Arbitrary but fixed: every process of this app takes the same PostgreSQL advisory lock.
_ADVISORY_LOCK_KEY = 0x7265656C73  # "reels"


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic configuration built in code: no alembic.ini to ship or to find."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", str(MIGRATIONS_DIR / "versions"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@contextmanager
def _sqlite_file_lock(settings: Settings) -> Iterator[None]:
    # SQLite runs DDL outside transactions, so two processes could both see an empty
    # database and both CREATE TABLE. SQLite is single-host, so a host file lock suffices.
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    lock_path = settings.data_dir / ".migrate.lock"
    with lock_path.open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def upgrade_database(settings: Settings, revision: str = "head") -> None:
    """Bring the database to `revision`. Idempotent; concurrent callers wait for each other."""
    engine = get_engine(settings)
    if engine.dialect.name == "sqlite":
        with _sqlite_file_lock(settings), engine.connect() as conn:
            command.upgrade(alembic_config(conn), revision)
            conn.commit()
        return
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            # Session-level lock: survives the commits below, released explicitly.
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _ADVISORY_LOCK_KEY})
            conn.commit()
        try:
            command.upgrade(alembic_config(conn), revision)
            conn.commit()
        finally:
            if engine.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _ADVISORY_LOCK_KEY})
                conn.commit()
    log.debug("database at %s upgraded to %s", database_url(settings).split("@")[-1], revision)
