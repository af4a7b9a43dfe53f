from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from reels_scripter.config import Settings
from reels_scripter.db import Base, database_url, get_engine, upgrade_database
from reels_scripter.db.engine import dispose_engines
from reels_scripter.db.migrate import alembic_config
from support.settings import make_settings
from support.threads import run_in_threads

HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_database_url_normalises_postgres_schemes(tmp_path: Path) -> None:
    for given in ("postgres://u@h/db", "postgresql://u@h/db", "postgresql+psycopg://u@h/db"):
        assert database_url(make_settings(tmp_path, DATABASE_URL=given)) == (
            "postgresql+psycopg://u@h/db"
        )
    assert database_url(make_settings(tmp_path)) == f"sqlite:///{(tmp_path / 'reels.db')}"


def test_migrations_match_the_models(db_settings: Settings) -> None:
    """The shipped migration creates exactly what the ORM declares (no drift)."""
    engine = get_engine(db_settings)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    indexes = {ix["name"] for ix in inspect(engine).get_indexes("jobs")}
    assert {"ix_jobs_owner_created_at", "ix_jobs_dedupe", "ix_jobs_state_heartbeat_at"} <= indexes


def test_upgrade_is_idempotent(db_settings: Settings) -> None:
    upgrade_database(db_settings)
    with get_engine(db_settings).connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD


def test_sqlite_uses_wal(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    upgrade_database(settings)
    with get_engine(settings).connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30000
    dispose_engines()


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_concurrent_upgrades_do_not_collide(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Several processes starting at once all migrate without 'table already exists'."""
    if kind == "postgres":
        # A database of its own: the shared session database is already migrated.
        import uuid

        import psycopg

        name = f"reels_mig_{uuid.uuid4().hex[:10]}"
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    else:
        url = None
    errors: list[BaseException] = []

    def run() -> None:
        try:
            # Separate engines per "process": distinct DATA_DIR spellings of the same place
            # would share one; distinct settings objects with the same URL share the pool,
            # which is fine: the lock is what is under test, and it is per connection.
            upgrade_database(make_settings(tmp_path, DATABASE_URL=url))
        except BaseException as exc:
            errors.append(exc)

    run_in_threads(run, 4)
    dispose_engines()
    if url is not None:
        import psycopg

        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    assert errors == []
