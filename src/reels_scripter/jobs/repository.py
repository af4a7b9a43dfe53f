"""Every query on the `jobs` table. Callers own the transaction: nothing here commits.

Writes the worker makes while running (progress, heartbeat, complete, fail) are fenced by
`attempts`: a worker only touches the row while it is still the attempt it claimed, so a
worker that was presumed dead and replaced can never overwrite its successor's work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, Engine, bindparam, case, delete, func, or_, select, update
from sqlalchemy.orm import Session

from reels_scripter.db.base import utcnow
from reels_scripter.jobs.current import LatestScript, current_result
from reels_scripter.jobs.models import (
    STAGE_DEDUPLICATED,
    STAGE_DONE,
    STAGE_FAILED,
    STAGE_QUEUED,
    STAGE_REQUEUED,
    STAGE_RETRYING,
    WEBHOOK_PENDING,
    WEBHOOK_SENDING,
    Job,
    JobState,
    ScriptVersion,
    is_job_id,
)

# JOB_MAX_LOSSES' default, for callers without settings at hand (tests, tools).
DEFAULT_MAX_LOSSES = 5
# `updated_at` of a waiting job whose queue message was never sent (`mark_unsent`).
UNSENT_AT = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Claim:
    """A successful claim: the job id and the (attempts, lost_count) pair that fences later
    writes. The pair is unique per claim: every claim adds one to their sum."""

    job_id: str
    attempt: int
    losses: int = 0


@dataclass
class StaleSweep:
    requeued: list[str] = field(default_factory=list)
    failed: list[tuple[str, str | None]] = field(default_factory=list)  # (id, object name)


@dataclass(frozen=True)
class DueWebhook:
    """A notification taken for one attempt (see `take_due_webhooks`)."""

    job_id: str
    url: str
    state: str
    progress: int
    error: str | None
    error_code: str | None
    record: dict[str, Any]


def _owned_by(owner: str | None) -> Any:
    """Jobs of one owner; jobs made without a key (owner NULL) when `owner` is None."""
    return Job.owner.is_(None) if owner is None else Job.owner == owner


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
            stmt = stmt.where(_owned_by(owner))
        # populate_existing: writes here are bulk UPDATEs that bypass the identity map, so a
        # row loaded earlier in this session must be refreshed, not returned stale.
        return self.session.scalars(stmt.execution_options(populate_existing=True)).one_or_none()

    def list_for_owner(self, owner: str | None, limit: int, offset: int) -> tuple[list[Job], int]:
        """One owner's jobs, newest first, and the owner's total (for pagination)."""
        owned = _owned_by(owner)
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

    def find_completed_duplicate(
        self, sha256: str, fingerprint: str, owner: str | None, provider: str
    ) -> Job | None:
        """The owner's newest completed job for this content, analysed with these settings
        and written by `provider` itself (the configured one).

        Scoped to one owner: a duplicate answered across API keys would tell one tenant what
        another uploaded. Keyed on the provider that wrote the result, not only the settings:
        a fallback's answer written during an AI outage is never handed out again once the
        configured provider works; the next upload is analysed and replaces it. The model is
        in the fingerprint (the provider's result options), so provider + fingerprint is
        provider + model."""
        return self.session.scalars(
            select(Job)
            .where(
                Job.sha256 == sha256,
                Job.settings_fingerprint == fingerprint,
                Job.state == JobState.completed,
                Job.result.is_not(None),
                Job.provider == provider,
                _owned_by(owner),
            )
            .order_by(Job.finished_at.desc())
            .limit(1)
        ).first()

    def find_completed_by_source(
        self, source_key: str, fingerprint: str, owner: str | None, provider: str
    ) -> Job | None:
        """The newest completed import of the same video analysed with these settings, among
        `owner`'s jobs (one client's imports never reveal another's), written by `provider`
        itself (as `find_completed_duplicate`: a fallback's answer is not reused)."""
        return self.session.scalars(
            select(Job)
            .where(
                _owned_by(owner),
                Job.provider == provider,
                Job.source_key == source_key,
                Job.settings_fingerprint == fingerprint,
                Job.state == JobState.completed,
                Job.result.is_not(None),
            )
            .order_by(Job.finished_at.desc())
            .limit(1)
        ).first()

    def exists_with_sha256(
        self, sha256: str, owner: str | None = None, *, any_owner: bool = False
    ) -> bool:
        """Whether a job of `owner` (or of anyone) in any state is about this content."""
        stmt = select(Job.id).where(Job.sha256 == sha256)
        if not any_owner:
            stmt = stmt.where(_owned_by(owner))
        return self.session.scalars(stmt.limit(1)).first() is not None

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
        """Storage keys any job still refers to (queued, running, or kept for playback)."""
        rows = self.session.scalars(select(Job.object_name).where(Job.object_name.is_not(None)))
        return {name for name in rows if name}

    def object_in_use(self, object_name: str, *, besides: str | None = None) -> bool:
        """Whether a job (other than `besides`) still refers to this stored object (a
        deduplicated job shares its original's video)."""
        stmt = select(Job.id).where(Job.object_name == object_name)
        if besides is not None:
            stmt = stmt.where(Job.id != besides)
        return self.session.scalars(stmt.limit(1)).first() is not None

    def expired_videos(self, now: datetime, limit: int = 500) -> list[str]:
        """Stored objects of finished jobs past their retention."""
        rows = self.session.scalars(
            select(Job.object_name)
            .where(Job.video_expires_at < now, Job.object_name.is_not(None))
            .distinct()
            .limit(limit)
        )
        return [name for name in rows if name]

    def detach_expired(self, object_name: str, now: datetime) -> int:
        """Forget an expired object on every job that still names it (after deleting it)."""
        return _rowcount(
            self.session.execute(
                update(Job)
                .where(Job.object_name == object_name, Job.video_expires_at < now)
                .values(object_name=None, video_expires_at=None)
                .execution_options(synchronize_session=False)
            )
        )

    def _active_where(self, condition: Any) -> list[Job]:
        return list(
            self.session.scalars(
                select(Job)
                .where(Job.state == JobState.active, condition)
                .execution_options(populate_existing=True)
            )
        )

    def waiting_since(self, before: datetime) -> list[str]:
        """Waiting jobs untouched since `before`: their queue message may have been lost."""
        return list(
            self.session.scalars(
                select(Job.id)
                .where(Job.state == JobState.waiting, Job.updated_at < before)
                .order_by(Job.created_at)  # re-sent oldest first
            )
        )

    # --- writes ----------------------------------------------------------------------------

    def add(self, job: Job) -> Job:
        self.session.add(job)
        self.session.flush()
        return job

    def delete(self, job_id: str) -> bool:
        return _rowcount(self.session.execute(delete(Job).where(Job.id == job_id))) == 1

    def claim(
        self,
        job_id: str,
        stale_before: datetime,
        *,
        max_losses: int = DEFAULT_MAX_LOSSES,
        worker: str | None = None,
    ) -> Claim | None:
        """Atomically take the job: only one concurrent caller gets a Claim.

        Claimable: waiting with attempts left, or active with a heartbeat older than
        `stale_before` (its worker died) and losses left; taking over such a job counts the
        loss, not an attempt. The single UPDATE ... WHERE is the lock: the database
        serialises the writes, and the loser's WHERE no longer matches.
        """
        now = utcnow()
        taking_over = (Job.state == JobState.active) & (Job.heartbeat_at < stale_before)
        result = self.session.execute(
            update(Job)
            .where(
                Job.id == job_id,
                or_(
                    (Job.state == JobState.waiting) & (Job.attempts < Job.max_attempts),
                    taking_over & (Job.lost_count + 1 < max_losses),
                ),
            )
            .values(
                # evaluated against the row before the update (SQL semantics)
                attempts=case((Job.state == JobState.active, Job.attempts), else_=Job.attempts + 1),
                lost_count=case(
                    (Job.state == JobState.active, Job.lost_count + 1), else_=Job.lost_count
                ),
                state=JobState.active,
                stage=STAGE_QUEUED,
                claimed_by=worker,
                heartbeat_at=now,
                started_at=func.coalesce(Job.started_at, now),
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        if _rowcount(result) != 1:
            return None
        row = self.session.execute(
            select(Job.attempts, Job.lost_count).where(Job.id == job_id)
        ).one()
        return Claim(job_id, int(row[0]), int(row[1]))

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
                Job.lost_count == claim.losses,
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
        self,
        claim: Claim,
        result: dict[str, Any],
        provider: str | None,
        model: str | None,
        *,
        video_expires_at: datetime | None = None,
    ) -> bool:
        """Finished with a result. The stored video stays until `video_expires_at` (for
        playback); None detaches it now (the caller deletes the object)."""
        values: dict[str, Any] = {}
        if video_expires_at is None:
            values["object_name"] = None
        return self._fenced_update(
            claim,
            stage=STAGE_DONE,
            provider=provider,
            model=model,
            video_expires_at=video_expires_at,
            **_completed(result),
            **values,
        )

    def attach_import(
        self,
        claim: Claim,
        *,
        object_name: str,
        sha256: str,
        size_bytes: int,
        duration: float | None,
        probe: dict[str, Any],
        source_key: str | None,
        imported: dict[str, Any],
        display_name: str | None = None,
    ) -> bool:
        """An imported reel is downloaded and stored: from here on the job is like an upload's."""
        values: dict[str, Any] = {}
        if source_key is not None:
            values["source_key"] = source_key
        if display_name:
            values["display_name"] = display_name
        return self._fenced_update(
            claim,
            object_name=object_name,
            sha256=sha256,
            size_bytes=size_bytes,
            duration=duration,
            probe=probe,
            imported=imported,
            updated_at=utcnow(),
            **values,
        )

    def complete_as_duplicate(
        self, claim: Claim, original: Job, result: dict[str, Any], sha256: str | None
    ) -> bool:
        """An import whose video turned out to be analysed already: the earlier answer."""
        values: dict[str, Any] = {"sha256": sha256} if sha256 is not None else {}
        return self._fenced_update(
            claim,
            stage=STAGE_DEDUPLICATED,
            provider=original.provider,
            model=original.model,
            duration=original.duration,
            probe=original.probe,
            size_bytes=original.size_bytes,
            **original.shared_video(),
            **_completed(result),
            **values,
        )

    def fail(self, claim: Claim, error: str, code: str) -> bool:
        """Finished, failed: `error` is the text a person reads, `code` the stable code."""
        return self._fenced_update(claim, **_failed(error, code))

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

    def requeue_stale(
        self,
        stale_before: datetime,
        lost_error: tuple[str, str],
        max_losses: int = DEFAULT_MAX_LOSSES,
    ) -> StaleSweep:
        """Active jobs whose worker stopped heartbeating: back to waiting, their attempt given
        back and the loss counted, or failed with `lost_error` (text, code) at the
        `max_losses`-th loss. Each row is moved by a guarded UPDATE, so a worker that
        heartbeats at the same moment wins and keeps its job."""
        return self._requeue_lost(Job.heartbeat_at < stale_before, lost_error, max_losses)

    def requeue_claimed_by(
        self, worker: str, lost_error: tuple[str, str], max_losses: int = DEFAULT_MAX_LOSSES
    ) -> StaleSweep:
        """The same for the jobs of a worker known to be dead (its supervisor saw it die),
        without waiting for their heartbeats to go stale."""
        return self._requeue_lost(Job.claimed_by == worker, lost_error, max_losses)

    def _requeue_lost(self, lost: Any, lost_error: tuple[str, str], max_losses: int) -> StaleSweep:
        swept = StaleSweep()
        now = utcnow()
        for job in self._active_where(lost):
            still_stale = (
                (Job.id == job.id)
                & (Job.state == JobState.active)
                & (Job.attempts == job.attempts)
                & (Job.lost_count == job.lost_count)
                & lost
            )
            if job.lost_count + 1 >= max_losses:
                res = self.session.execute(
                    update(Job)
                    .where(still_stale)
                    .values(
                        lost_count=Job.lost_count + 1,
                        **_failed(job.error or lost_error[0], job.error_code or lost_error[1], now),
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
                    # not the job's fault: the run gives its attempt back
                    attempts=case((Job.attempts > 0, Job.attempts - 1), else_=0),
                    lost_count=Job.lost_count + 1,
                    claimed_by=None,
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

    def mark_unsent(self, job_id: str) -> None:
        """A waiting job whose queue message could not be sent: dated back so that the next
        sweep's `waiting_since` finds it and sends it (`touch` then dates it to now)."""
        self.session.execute(
            update(Job)
            .where(Job.id == job_id, Job.state == JobState.waiting)
            .values(updated_at=UNSENT_AT)
            .execution_options(synchronize_session=False)
        )

    # --- webhooks (an outbox read by every worker's dispatcher) -------------------------------

    def take_due_webhooks(self, now: datetime, lease: timedelta, limit: int) -> list[DueWebhook]:
        """Notifications due now, each taken for one attempt by a guarded UPDATE (pending, or
        sending with its lease run out: the dispatcher holding it died). Taken rows are
        `sending` until `now + lease`, so no other dispatcher sends them meanwhile."""
        due = self.session.execute(
            select(Job.id, Job.webhook_state, Job.webhook_due_at)
            .where(
                Job.webhook_state.in_([WEBHOOK_PENDING, WEBHOOK_SENDING]),
                Job.webhook_due_at <= now,
            )
            .order_by(Job.webhook_due_at)
            .limit(limit)
        ).all()
        taken: list[DueWebhook] = []
        for job_id, state, due_at in due:
            res = self.session.execute(
                update(Job)
                .where(
                    Job.id == job_id,
                    Job.webhook_state == state,
                    Job.webhook_due_at == due_at,
                )
                .values(webhook_state=WEBHOOK_SENDING, webhook_due_at=now + lease)
                .execution_options(synchronize_session=False)
            )
            if _rowcount(res) != 1:
                continue  # another dispatcher took it first
            row = self.session.execute(
                select(
                    Job.callback_url,
                    Job.state,
                    Job.progress,
                    Job.error,
                    Job.error_code,
                    Job.webhook,
                ).where(Job.id == job_id)
            ).one()
            if not row.callback_url:
                continue
            taken.append(
                DueWebhook(
                    job_id=job_id,
                    url=row.callback_url,
                    state=row.state,
                    progress=row.progress or 0,
                    error=row.error,
                    error_code=row.error_code,
                    record=dict(row.webhook or {}),
                )
            )
        return taken

    def record_webhook(
        self, job_id: str, record: dict[str, Any], state: str, due_at: datetime | None
    ) -> bool:
        """Store an attempt's outcome: `pending` again at `due_at`, or delivered/failed."""
        return (
            _rowcount(
                self.session.execute(
                    update(Job)
                    .where(Job.id == job_id, Job.webhook_state == WEBHOOK_SENDING)
                    .values(webhook=record, webhook_state=state, webhook_due_at=due_at)
                    .execution_options(synchronize_session=False)
                )
            )
            == 1
        )


def _finished(now: datetime | None = None) -> dict[str, Any]:
    """Values every finishing job writes: when it finished, and its webhook due now if it
    has a callback URL."""
    now = now or utcnow()
    has_callback = Job.callback_url.is_not(None)
    return {
        "finished_at": now,
        "updated_at": now,
        "webhook_state": case((has_callback, WEBHOOK_PENDING), else_=Job.webhook_state),
        "webhook_due_at": case((has_callback, now), else_=Job.webhook_due_at),
    }


def _completed(result: dict[str, Any]) -> dict[str, Any]:
    """Values of a job that finished with `result`: no error (a retried run's is cleared)."""
    return {
        "state": JobState.completed,
        "progress": 100,
        "result": result,
        "error": None,
        "error_code": None,
        **_finished(),
    }


def _failed(error: str, code: str, now: datetime | None = None) -> dict[str, Any]:
    """Values of a job that finished failed: `error` for people, `code` stable; its video is
    detached (the caller deletes the object)."""
    return {
        "state": JobState.failed,
        "stage": STAGE_FAILED,
        "error": error,
        "error_code": code,
        "object_name": None,
        **_finished(now),
    }


class StatusQuery:
    """The status poll's one query: the six columns the body needs, as one prepared Core
    statement per owner kind (building an ORM statement per poll cost more than running it).
    Same visibility rule as `JobRepository.get`: a job is seen only by its owner, and jobs
    made without a key (owner NULL) only without one."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        t = Job.__table__
        v = ScriptVersion.__table__
        # the creator's newest script version, if any (a primary-key lookup): the body shows
        # the current result, as every other reader does (`jobs.current`)
        mine = v.alias("mine")
        newest = (
            select(func.max(mine.c.version))
            .where(mine.c.job_id == t.c.id)
            .correlate(t)
            .scalar_subquery()
        )
        columns = select(
            t.c.state,
            t.c.progress,
            t.c.stage,
            t.c.error,
            t.c.error_code,
            t.c.result,
            v.c.version,
            v.c.script,
        ).select_from(t.outerjoin(v, (v.c.job_id == t.c.id) & (v.c.version == newest)))
        by_id = t.c.id == bindparam("job_id")
        self._unowned = columns.where(by_id, t.c.owner.is_(None))
        self._owned = columns.where(by_id, t.c.owner == bindparam("owner"))

    def fetch(self, job_id: str, owner: str | None) -> StatusRow | None:
        """(state, progress, stage, error, error_code, result, newest script version and its
        script), or None. Blocking."""
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
    script_version: int | None = None  # the newest edited version; None: the AI's only
    script: list[dict[str, Any]] | None = None

    @property
    def current_result(self) -> dict[str, Any] | None:
        latest = None
        if self.script_version is not None and self.script is not None:
            latest = LatestScript(self.script_version, self.script)
        return current_result(self.result, latest)


def stale_cutoff(stale_after_sec: float) -> datetime:
    return utcnow() - timedelta(seconds=stale_after_sec)
