"""Alembic environment. Normally driven by `upgrade_database`, which passes its connection in
`config.attributes["connection"]`; run stand-alone it builds an engine from the settings."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from reels_scripter.ai_settings import models as _ai_settings  # noqa: F401
from reels_scripter.db.base import Base
from reels_scripter.jobs import models as _models  # noqa: F401 - registers the tables
from reels_scripter.shares import models as _share_models  # noqa: F401
from reels_scripter.worker import presence as _presence  # noqa: F401

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds tables for future migrations.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from reels_scripter.config import get_settings
    from reels_scripter.db.engine import get_engine

    with get_engine(get_settings()).connect() as conn:
        _run(conn)
        conn.commit()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; run upgrade_database")
run_migrations_online()
