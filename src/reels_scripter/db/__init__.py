"""Database access: the declarative base, engine and session factory, and migrations.

Queries do not live here; they live in each domain's repository (`reels_scripter.jobs`).
"""

from reels_scripter.db.base import Base, UTCDateTime, utcnow
from reels_scripter.db.engine import database_url, get_engine, ping, session_factory
from reels_scripter.db.migrate import upgrade_database

__all__ = [
    "Base",
    "UTCDateTime",
    "database_url",
    "get_engine",
    "ping",
    "session_factory",
    "upgrade_database",
    "utcnow",
]
