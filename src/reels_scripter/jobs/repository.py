"""Every query on the `jobs` table. Callers own the transaction: nothing here commits.

Writes the worker makes while running (progress, heartbeat, complete, fail) are fenced by
`attempts`: a worker only touches the row while it is still the attempt it claimed, so a
worker that was presumed dead and replaced can never overwrite its successor's work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, Engine, bindparam, case, delete, func, or_, select, update
from sqlalchemy.orm import Session

from reels_scripter.db.base import utcnow
from reels_scripter.jobs.models import (
    STAGE_DONE,
    STAGE_FAILED,
    STAGE_QUEUED,
    STAGE_REQUEUED,
    STAGE_RETRYING,
    Job,
    JobState,
    is_job_id,
)


@dataclass(frozen=True)
class Claim:
    """A successful claim: the job id and the attempt number that fences later writes."""

    job_id: str
    attempt: int


@dataclass
class StaleSweep:
    requeued: list[str] = field(default_factory=list)
    failed: list[tuple[str, str | None]] = field(default_factory=list)  # (id, object name)


def _rowcount(result: Any) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


class JobRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # --- reads -----------------------------------------------------------------------------

    def get(self, job_id: str, owner: str | None = None, *, any_owner: bool = False) -> Job | None:
        if not is_job_id(job_id):
            return None
        stmt = select(Job).where(Job.id == job_id)
        if not any_owner:
            stmt = stmt.where(Job.owner.is_(None) if owner is None else Job.owner == owner)
        # populate_existing: writes here are bulk UPDATEs that bypass the identity map, so a
        # row loaded earlier in this session must be refreshed, not returned stale.
        return self.session.scalars(stmt.execution_options(populate_existing=True)).one_or_none()

    def list_for_owner(self, owner: str | None, limit: int, offset: int) -> tuple[list[Job], int]:
        """One owner's jobs, newest first, and the owner's total (for pagination)."""
        owned = Job.owner.is_(None) if owner is None else Job.owner == owner
        total = self.session.scalar(select(func.count()).select_from(Job).where(owned)) or 0
        rows = self.session.scalars(
            select(Job)
            .where(owned)
            # id breaks ties so pages never overlap when two jobs share a timestamp.
            .order_by(Job.created_at.desc(), Job.id.desc())
            .limit(limit)
            .offset(offset)
        ).all()
        return list(rows), int(total)

    def find_completed_duplicate(self, sha256: str, fingerprint: str) -> Job | None:
        """The newest completed job for this content analysed with these settings."""
        return self.session.scalars(
            select(Job)
            .where(
                Job.sha256 == sha256,
                Job.settings_fingerprint == fingerprint,
                Job.state == JobState.completed,
                Job.result.is_not(None),
            )
            .order_by(Job.finished_at.desc())
            .limit(1)
        ).first()

    def exists_with_sha256(self, sha256: str) -> bool:
        """Whether any job (any owner, any state) is about this content."""
        found = self.session.scalars(select(Job.id).where(Job.sha256 == sha256).limit(1)).first()
        return found is not None

    def count_by_state(self) -> dict[str, int]:
        counts = {state.value: 0 for state in JobState}
        for state, n in self.session.execute(select(Job.state, func.count()).group_by(Job.state)):
            counts[state] = int(n)
        return counts

    def recent_timings(self, limit: int) -> list[tuple[datetime, datetime | None, datetime | None]]:
        """(created, started, finished) of the `limit` most recently finished jobs."""
        rows = self.session.execute(
            select(Job.created_at, Job.started_at, Job.finished_at)
            .where(Job.finished_at.is_not(None), Job.started_at.is_not(None))
            .order_by(Job.finished_at.desc())
            .limit(limit)
        ).all()
        return [(c, s, f) for c, s, f in rows]

    def object_names_in_use(self) -> set[str]:
        """Storage keys still needed by a waiting or active job."""
        rows = self.session.scalars(
            select(Job.object_name).where(
                Job.state.in_([JobState.waiting, JobState.active]), Job.object_name.is_not(None)
            )
        )
        return {name for name in rows if name}

    def stale_active(self, stale_before: datetime) -> list[Job]:
        return list(
            self.session.scalars(
                select(Job)
                .where(Job.state == JobState.active, Job.heartbeat_at < stale_before)
                .execution_options(populate_existing=True)
            )
        )

    def waiting_since(self, before: datetime) -> list[str]:
        """Waiting jobs untouched since `before`: their queue message may have been lost."""
        return list(
            self.session.scalars(
                select(Job.id).where(Job.state == JobState.waiting, Job.updated_at < before)
            )
        )

    # --- writes ----------------------------------------------------------------------------

    def add(self, job: Job) -> Job:
        self.session.add(job)
        self.session.flush()
        return job

    def delete(self, job_id: str) -> bool:
        return _rowcount(self.session.execute(delete(Job).where(Job.id == job_id))) == 1

    def claim(self, job_id: str, stale_before: datetime) -> Claim | None:
        """Atomically take the job: only one concurrent caller gets a Claim.

        Claimable: waiting, or active with a heartbeat older than `stale_before` (its worker
        died), and attempts left. The single UPDATE ... WHERE is the lock: the database
        serialises the writes, and the loser's WHERE no longer matches.
        """
        now = utcnow()
        result = self.session.execute(
            update(Job)
            .where(
                Job.id == job_id,
                Job.attempts < Job.max_attempts,
                or_(
                    Job.state == JobState.waiting,
                    (Job.state == JobState.active) & (Job.heartbeat_at < stale_before),
                ),
            )
            .values(
                state=JobState.active,
                attempts=Job.attempts + 1,
                stage=STAGE_QUEUED,
                heartbeat_at=now,
                started_at=func.coalesce(Job.started_at, now),
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        if _rowcount(result) != 1:
            return None
        attempt = self.session.scalar(select(Job.attempts).where(Job.id == job_id))
        assert attempt is not None
        return Claim(job_id, int(attempt))

    def _fenced_update(self, claim: Claim, **values: Any) -> bool:
        """Write `values` only while the row is still the attempt `claim` took (active, same
        attempt number): a worker presumed dead and replaced can never overwrite its
        successor. Every write of a running job goes through here. True if it applied."""
        result = self.session.execute(
            update(Job)
            .where(
                Job.id == claim.job_id,
                Job.state == JobState.active,
                Job.attempts == claim.attempt,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(result) == 1

    def set_progress(self, claim: Claim, stage: str, progress: int) -> bool:
        """Record the stage and progress; progress never goes backwards (a retry that starts
        the work over keeps the bar where it was)."""
        p = max(0, min(int(progress), 100))
        now = utcnow()
        return self._fenced_update(
            claim,
            stage=stage,
            # max(progress, :p) spelled as CASE: SQLite has no GREATEST().
            progress=case((Job.progress > p, Job.progress), else_=p),
            heartbeat_at=now,
            updated_at=now,
        )

    def heartbeat(self, claim: Claim) -> bool:
        return self._fenced_update(claim, heartbeat_at=utcnow())

    def complete(
        self, claim: Claim, result: dict[str, Any], provider: str | None, model: str | None
    ) -> bool:
        now = utcnow()
        return self._fenced_update(
            claim,
            state=JobState.completed,
            stage=STAGE_DONE,
            progress=100,
            result=result,
            provider=provider,
            model=model,
            error=None,
            error_code=None,
            object_name=None,
            finished_at=now,
            updated_at=now,
        )

    def fail(self, claim: Claim, error: str, code: str) -> bool:
        """Finished, failed: `error` is the text a person reads, `code` the stable code."""
        now = utcnow()
        return self._fenced_update(
            claim,
            state=JobState.failed,
            stage=STAGE_FAILED,
            error=error,
            error_code=code,
            object_name=None,
            finished_at=now,
            updated_at=now,
        )

    def release_for_retry(self, claim: Claim, error: str, code: str) -> bool:
        """Back to waiting after a transient error; the error stays visible meanwhile."""
        return self._fenced_update(
            claim,
            state=JobState.waiting,
            stage=STAGE_RETRYING,
            error=error,
            error_code=code,
            heartbeat_at=None,
            updated_at=utcnow(),
        )

    def requeue_stale(self, stale_before: datetime, lost_error: tuple[str, str]) -> StaleSweep:
        """Active jobs whose worker stopped heartbeating: back to waiting, or failed with
        `lost_error` (text, code) when out of attempts. Each row is moved by a guarded UPDATE,
        so a worker that heartbeats at the same moment wins and keeps its job."""
        swept = StaleSweep()
        now = utcnow()
        for job in self.stale_active(stale_before):
            still_stale = (
                (Job.id == job.id)
                & (Job.state == JobState.active)
                & (Job.attempts == job.attempts)
                & (Job.heartbeat_at < stale_before)
            )
            if job.attempts >= job.max_attempts:
                res = self.session.execute(
                    update(Job)
                    .where(still_stale)
                    .values(
                        state=JobState.failed,
                        stage=STAGE_FAILED,
                        error=job.error or lost_error[0],
                        error_code=job.error_code or lost_error[1],
                        object_name=None,
                        finished_at=now,
                        updated_at=now,
                    )
                    .execution_options(synchronize_session=False)
                )
                if _rowcount(res) == 1:
                    swept.failed.append((job.id, job.object_name))
                continue
            res = self.session.execute(
                update(Job)
                .where(still_stale)
                .values(
                    state=JobState.waiting,
                    stage=STAGE_REQUEUED,
                    heartbeat_at=None,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            if _rowcount(res) == 1:
                swept.requeued.append(job.id)
        return swept

    def touch(self, job_ids: list[str]) -> None:
        """Mark waiting jobs as just handled (the sweeper re-sends each at most once per
        threshold, not on every sweep, when a long backlog keeps them waiting)."""
        if job_ids:
            self.session.execute(
                update(Job)
                .where(Job.id.in_(job_ids), Job.state == JobState.waiting)
                .values(updated_at=utcnow())
                .execution_options(synchronize_session=False)
            )

    def detach_object(self, job_id: str) -> None:
        """Forget the storage key (after the object was deleted)."""
        self.session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(object_name=None)
            .execution_options(synchronize_session=False)
        )


class StatusQuery:
    """The status poll's one query: the six columns the body needs, as one prepared Core
    statement per owner kind (building an ORM statement per poll cost more than running it).
    Same visibility rule as `JobRepository.get`: a job is seen only by its owner, and jobs
    made without a key (owner NULL) only without one."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        t = Job.__table__
        columns = select(t.c.state, t.c.progress, t.c.stage, t.c.error, t.c.error_code, t.c.result)
        by_id = t.c.id == bindparam("job_id")
        self._unowned = columns.where(by_id, t.c.owner.is_(None))
        self._owned = columns.where(by_id, t.c.owner == bindparam("owner"))

    def fetch(self, job_id: str, owner: str | None) -> StatusRow | None:
        """(state, progress, stage, error, error_code, result), or None. Blocking."""
        if not is_job_id(job_id):
            return None
        with self._engine.connect() as conn:
            if owner is None:
                row = conn.execute(self._unowned, {"job_id": job_id}).first()
            else:
                row = conn.execute(self._owned, {"job_id": job_id, "owner": owner}).first()
        return None if row is None else StatusRow(*row)


@dataclass(frozen=True)
class StatusRow:
    state: str
    progress: int | None
    stage: str | None
    error: str | None
    error_code: str | None
    result: dict[str, Any] | None


def stale_cutoff(stale_after_sec: float) -> datetime:
    return utcnow() - timedelta(seconds=stale_after_sec)
