"""The sweeper: recovers jobs from dead workers, deletes videos past their retention and
orphaned files.

Every worker runs it every SWEEP_INTERVAL_SEC in a thread of its main process
(`worker.housekeeping`), outside the job queue, so a backlog never delays it; it can be
called directly too (`sweep`). Every step is idempotent and each row moves by a guarded
UPDATE, so several workers may sweep at once without double work. Recovered jobs go to the
priority queue that every worker reads first, ahead of the backlog.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from reels_scripter.config import Settings
from reels_scripter.db.base import utcnow
from reels_scripter.db.engine import session_factory
from reels_scripter.errors import WorkerLostError
from reels_scripter.jobs.models import JobState
from reels_scripter.jobs.repository import JobRepository, StaleSweep, stale_cutoff
from reels_scripter.storage import Storage, StorageError, get_storage
from reels_scripter.texts import describe

log = logging.getLogger(__name__)

UPLOADS_PREFIX = "uploads/"


@dataclass
class SweepReport:
    requeued: list[str] = field(default_factory=list)  # stale active -> waiting, re-enqueued
    failed: list[str] = field(default_factory=list)  # stale and out of attempts
    reenqueued: list[str] = field(default_factory=list)  # waiting too long: message re-sent
    deleted_objects: list[str] = field(default_factory=list)
    deleted_temp_files: list[str] = field(default_factory=list)
    expired_videos: list[str] = field(default_factory=list)  # past VIDEO_RETENTION_HOURS
    unsent: list[str] = field(default_factory=list)  # the broker refused: sent next sweep


# A job waiting this long after its message was sent should be in the broker's queues (or a
# worker's hands) by now: the count check below compares only such jobs with the messages.
QUEUED_GRACE_SEC = 20.0


class BrokerWatch(Protocol):
    """What the sweeper asks the broker (worker.broker_watch has the Redis one)."""

    def forgot(self) -> bool:
        """True once after the broker lost everything it held (restarted empty)."""

    def queued(self) -> int | None:
        """The messages it holds for our queues, delivered ones included (None: unknown)."""


def lost_message_after(settings: Settings) -> timedelta:
    """A waiting job untouched this long has probably lost its queue message (a broker that
    dropped it, or a crash between commit and enqueue). Longer than any retry countdown."""
    return timedelta(
        seconds=2 * max(settings.heartbeat_stale_sec, settings.job_retry_backoff_max_sec)
    )


def sweep(
    settings: Settings,
    enqueue: Callable[[str], None],
    *,
    storage: Storage | None = None,
    broker: BrokerWatch | None = None,
) -> SweepReport:
    """One sweep; `enqueue(job_id)` sends a job id to the queue again. With `broker`, a
    broker that lost its messages (see `BrokerWatch`) gets every waiting job again at once,
    not after the age guard."""
    report = SweepReport()
    storage = storage or get_storage(settings)
    sessions = session_factory(settings)
    lost = WorkerLostError("the analysis stopped unexpectedly too many times; giving up")

    with sessions() as session:
        repo = JobRepository(session)
        stale = repo.requeue_stale(
            stale_cutoff(settings.heartbeat_stale_sec),
            (describe(lost, settings.target_language), lost.code),
            settings.job_max_losses,
        )
        session.commit()
        lost_messages = repo.waiting_since(utcnow() - lost_message_after(settings))
        forgotten = _forgotten_by(broker, repo)
        lost_messages += [job_id for job_id in forgotten if job_id not in lost_messages]
        session.commit()
    report.requeued = stale.requeued
    report.failed = [job_id for job_id, _ in stale.failed]
    # A duplicate message is harmless (the claim is atomic); a missing one strands the job.
    unsent: list[str] = []
    for job_id in stale.requeued:
        if not _send(enqueue, job_id):
            unsent.append(job_id)
    for job_id in lost_messages:
        if job_id in stale.requeued:
            continue
        if _send(enqueue, job_id):
            report.reenqueued.append(job_id)
        else:
            unsent.append(job_id)
    if report.reenqueued or unsent:
        with sessions() as session:
            repo = JobRepository(session)
            repo.touch(report.reenqueued)
            # the broker is down: the next sweep sends these (not the backlog guard's wait)
            for job_id in unsent:
                repo.mark_unsent(job_id)
            session.commit()
    report.unsent = unsent
    for _, object_name in stale.failed:
        if object_name:
            _delete(storage, object_name, report)
    _expire_videos(sessions, storage, report)

    age = timedelta(hours=settings.orphan_max_age_hours)
    try:
        candidates = storage.list_older_than(UPLOADS_PREFIX, age)
    except StorageError as exc:
        log.warning("sweeper: cannot list storage: %s", exc.message)
        candidates = []
    if candidates:
        # Read the references after listing: an upload that appears meanwhile is too young.
        with sessions() as session:
            in_use = JobRepository(session).object_names_in_use()
        for name in candidates:
            if name not in in_use:
                _delete(storage, name, report)

    tmp_dir = settings.data_dir / "tmp"
    cutoff = time.time() - age.total_seconds()
    if tmp_dir.is_dir():
        for path in tmp_dir.iterdir():
            try:
                if path.stat().st_mtime >= cutoff:
                    continue
                if path.is_dir():  # a killed worker's keyframe folder
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink()
                report.deleted_temp_files.append(path.name)
            except FileNotFoundError:
                continue  # removed by its worker meanwhile
    if report.requeued or report.failed or report.reenqueued:
        log.info(
            "sweeper: requeued %d, failed %d, re-enqueued %d",
            len(report.requeued),
            len(report.failed),
            len(report.reenqueued),
        )
    return report


def _forgotten_by(broker: BrokerWatch | None, repo: JobRepository) -> list[str]:
    """Waiting jobs whose messages the broker lost: all of them when it restarted empty, the
    settled ones when it holds fewer messages than they need."""
    if broker is None:
        return []
    if broker.forgot():
        waiting = repo.waiting_since(utcnow())
        if waiting:
            log.warning("sweeper: the broker lost its messages; re-sending %d jobs", len(waiting))
        return waiting
    settled = repo.waiting_since(utcnow() - timedelta(seconds=QUEUED_GRACE_SEC))
    if not settled:
        return []
    queued = broker.queued()
    # The count includes the unacknowledged messages (acks late): each running job holds one,
    # so they must be added to what the waiting jobs need, or R lost messages go unseen
    # while R jobs run.
    needed = len(settled) + repo.count_by_state().get(JobState.active.value, 0)
    if queued is None or queued >= needed:
        return []
    log.warning(
        "sweeper: %d jobs wait and %d run but the broker holds %d messages; re-sending them",
        len(settled),
        needed - len(settled),
        queued,
    )
    return settled


def recover_jobs_of(
    settings: Settings, worker: str, *, storage: Storage | None = None
) -> StaleSweep:
    """The jobs of a worker known to be dead (`serve` saw its embedded worker die): back to
    waiting at once, as the sweeper does for stale heartbeats, and marked unsent, so the
    next sweep (the restarted worker's first, right at its start) sends them to the
    priority queue. Recovery then takes the restart's seconds, not the staleness."""
    lost = WorkerLostError("the analysis stopped unexpectedly too many times; giving up")
    with session_factory(settings)() as session:
        repo = JobRepository(session)
        swept = repo.requeue_claimed_by(
            worker,
            (describe(lost, settings.target_language), lost.code),
            settings.job_max_losses,
        )
        for job_id in swept.requeued:
            repo.mark_unsent(job_id)
        session.commit()
    report = SweepReport()
    for _, object_name in swept.failed:
        if object_name:
            _delete(storage or get_storage(settings), object_name, report)
    if swept.requeued or swept.failed:
        log.info(
            "jobs of lost worker %s: requeued %d, failed %d",
            worker,
            len(swept.requeued),
            len(swept.failed),
        )
    return swept


def _send(enqueue: Callable[[str], None], job_id: str) -> bool:
    try:
        enqueue(job_id)
    except Exception as exc:  # the broker: unreachable, restarting
        log.warning("sweeper: could not send job %s (%s)", job_id, type(exc).__name__)
        return False
    return True


def _expire_videos(sessions: sessionmaker[Session], storage: Storage, report: SweepReport) -> None:
    """Delete stored videos of finished jobs past VIDEO_RETENTION_HOURS, then forget them on
    the jobs (a deduplicated job shares its original's object and its expiry)."""
    now = utcnow()
    with sessions() as session:
        expired = JobRepository(session).expired_videos(now)
    for name in expired:
        try:
            storage.delete(name)
        except StorageError as exc:
            log.warning("sweeper: cannot delete expired video %s: %s", name, exc.message)
            continue
        with sessions() as session:
            JobRepository(session).detach_expired(name, now)
            session.commit()
        report.expired_videos.append(name)


def _delete(storage: Storage, name: str, report: SweepReport) -> None:
    try:
        storage.delete(name)
        report.deleted_objects.append(name)
    except StorageError as exc:
        log.warning("sweeper: cannot delete %s: %s", name, exc.message)
