"""Which workers are alive, and why one could not start: the `workers` table.

Every worker process writes a row under its Celery node name once its consumer is ready and
refreshes its heartbeat every HEARTBEAT_INTERVAL_SEC (`worker.housekeeping`); a worker that
cannot start (a rejected AI key, an unknown model, broken storage settings) writes a `failed`
row with the cause instead. The API reads the table in every mode, embedded or with separate
workers: `/readyz` reports a missing, stale or failed worker, and uploads are refused with
`503 worker_unavailable` when the newest news from the workers is a start-up failure and no
worker is alive, so no job is accepted that no worker can run.

All access is SQLAlchemy Core on one small table; nothing here imports Celery.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import CursorResult, Integer, String, Text, delete, func, insert, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from reels_scripter.db.base import Base, UTCDateTime, utcnow
from reels_scripter.errors import one_line

RUNNING = "running"
STOPPED = "stopped"
FAILED = "failed"

# Start-up failure causes (`texts` has what a person reads for each).
CAUSE_AI_PROVIDER = "ai_provider"
CAUSE_STORAGE = "storage"
CAUSE_SPEECH_MODEL = "speech_model"
CAUSE_DATABASE = "database"
CAUSE_CRASHED = "crashed"

# Rows of workers gone this long are forgotten by the sweeper.
FORGET_AFTER = timedelta(days=1)


class WorkerRecord(Base):
    __tablename__ = "workers"

    # The Celery node name, `reels-<pid>@<host>` for workers this package starts.
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    hostname: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))
    cause: Mapped[str | None] = mapped_column(String(32))
    # One line, English, for operators: never a secret (the providers' messages name none).
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime())


def node_name(pid: int | None = None, hostname: str | None = None) -> str:
    """The node name `run_worker` gives its Celery worker (unique per process)."""
    return f"reels-{pid or os.getpid()}@{hostname or socket.gethostname()}"


def _write(session: Session, name: str, **values: object) -> None:
    """Update the row, or insert it when there is none yet (names are unique per process,
    so no two writers race for one name)."""
    result = session.execute(
        update(WorkerRecord)
        .where(WorkerRecord.name == name)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    assert isinstance(result, CursorResult)
    if result.rowcount == 0:
        now = utcnow()
        row = {
            "name": name,
            "hostname": socket.gethostname(),
            "pid": os.getpid(),
            "state": RUNNING,
            "started_at": now,
            "heartbeat_at": now,
            **values,
        }
        session.execute(insert(WorkerRecord).values(**row))


def record_running(session: Session, name: str) -> None:
    now = utcnow()
    _write(session, name, state=RUNNING, cause=None, error=None, started_at=now, heartbeat_at=now)


def heartbeat(session: Session, name: str) -> None:
    _write(session, name, state=RUNNING, heartbeat_at=utcnow())


def record_stopped(session: Session, name: str) -> None:
    _write(session, name, state=STOPPED, heartbeat_at=utcnow())


def record_failure(session: Session, name: str, cause: str, error: str) -> None:
    now = utcnow()
    _write(
        session,
        name,
        state=FAILED,
        cause=cause,
        error=one_line(error),
        started_at=now,
        heartbeat_at=now,
    )


def forget_old(session: Session, now: datetime | None = None) -> int:
    """Drop rows of workers not heard from for FORGET_AFTER (dead or long stopped)."""
    cutoff = (now or utcnow()) - FORGET_AFTER
    result = session.execute(
        delete(WorkerRecord)
        .where(WorkerRecord.heartbeat_at < cutoff)
        .execution_options(synchronize_session=False)
    )
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


@dataclass(frozen=True)
class Failure:
    name: str
    cause: str
    error: str
    at: datetime


@dataclass(frozen=True)
class WorkerHealth:
    """What the workers table says now."""

    alive: int  # workers with a fresh heartbeat
    failure: Failure | None  # the newest row, when it is a start-up failure
    last_seen: datetime | None  # the newest heartbeat of any worker that ever ran

    @property
    def can_run_jobs(self) -> bool:
        """False only when no worker is alive and the last news is a start-up failure:
        a worker that is merely restarting (or not started yet) will take queued jobs."""
        return self.alive > 0 or self.failure is None

    def check(self, now: datetime | None = None) -> str:
        """`/readyz`'s worker line: ok, or why not (no secrets: causes and figures only)."""
        if self.alive:
            return "ok"
        if self.failure is not None:
            return f"failed: {self.failure.cause}: {self.failure.error}"
        if self.last_seen is None:
            return "missing: no worker has started"
        age = ((now or utcnow()) - self.last_seen).total_seconds()
        return f"stale: no worker heartbeat for {age:.0f} s"


def health(session: Session, stale_after_sec: float, now: datetime | None = None) -> WorkerHealth:
    w = WorkerRecord
    now = now or utcnow()
    fresh = now - timedelta(seconds=stale_after_sec)
    alive = session.scalar(
        select(func.count()).select_from(w).where(w.state == RUNNING, w.heartbeat_at >= fresh)
    )
    newest = session.execute(
        select(w.name, w.state, w.cause, w.error, w.heartbeat_at)
        .order_by(w.heartbeat_at.desc())
        .limit(1)
    ).first()
    last_seen = session.scalar(select(func.max(w.heartbeat_at)).where(w.state != FAILED))
    failure = None
    if newest is not None and newest.state == FAILED:
        failure = Failure(newest.name, newest.cause or "", newest.error or "", newest.heartbeat_at)
    return WorkerHealth(alive=int(alive or 0), failure=failure, last_seen=last_seen)
