"""The analysis task. `run_job` is the whole logic (plain function, testable without a broker);
`analyze_job` is its Celery wrapper that turns a "retry" outcome into a delayed retry."""

from __future__ import annotations

import logging
import os
import random
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from billiard.exceptions import SoftTimeLimitExceeded
from celery import Task
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session, sessionmaker

from reels_scripter.analysis.errors import AnalysisError
from reels_scripter.config import Settings
from reels_scripter.db.engine import session_factory
from reels_scripter.jobs import keyframes
from reels_scripter.jobs.models import STAGE_DOWNLOAD
from reels_scripter.jobs.repository import Claim, JobRepository, stale_cutoff
from reels_scripter.logs import bind_job_id
from reels_scripter.providers.base import ProviderError
from reels_scripter.storage import ObjectNotFoundError, Storage, StorageError, get_storage
from reels_scripter.worker.celery_app import ANALYZE_TASK, app, current_settings

log = logging.getLogger(__name__)

PROGRESS_MIN_INTERVAL_SEC = 0.5  # at most two progress writes a second per job
_SAFE_SUFFIX = re.compile(r"^\.[A-Za-z0-9]{1,5}$")

Status = Literal["completed", "failed", "retry", "skipped", "superseded"]


@dataclass(frozen=True)
class Outcome:
    status: Status
    countdown: float | None = None  # for "retry"
    error: str | None = None
    code: str | None = None


class JobSuperseded(Exception):
    """Our claim is no longer valid (job deleted, or re-queued and taken by another worker)."""


@dataclass(frozen=True)
class _Failure:
    message: str
    code: str
    transient: bool


def one_line(message: str, limit: int = 300) -> str:
    """Errors are shown to users: one line, bounded, no tracebacks."""
    text = " ".join(str(message).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def classify(exc: BaseException, settings: Settings) -> _Failure:
    if isinstance(exc, AnalysisError):  # InputError and setup errors: retrying will not help
        return _Failure(one_line(exc.message), exc.code, transient=False)
    if isinstance(exc, ProviderError):
        return _Failure(one_line(exc.message), exc.code, transient=exc.transient)
    if isinstance(exc, ObjectNotFoundError):
        return _Failure("The uploaded video is no longer available.", exc.code, transient=False)
    if isinstance(exc, StorageError):
        return _Failure(one_line(exc.message), exc.code, transient=exc.transient)
    if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.DisconnectionError):
        return _Failure("Database temporarily unavailable.", "database_unavailable", True)
    if isinstance(exc, ConnectionError | TimeoutError):
        return _Failure(f"Connection problem: {type(exc).__name__}.", "connection_error", True)
    if isinstance(exc, SoftTimeLimitExceeded):
        limit = round(settings.job_time_limit_sec)
        return _Failure(
            f"The analysis took longer than {limit} s and was stopped.", "timeout", False
        )
    return _Failure("Internal error while analysing the video.", "internal_error", False)


def backoff_seconds(attempt: int, settings: Settings) -> float:
    """Exponential backoff with a little jitter so retried jobs do not arrive together."""
    base = settings.job_retry_backoff_sec * (2 ** max(attempt - 1, 0))
    delay = min(base, settings.job_retry_backoff_max_sec)
    return float(delay * (1 + random.uniform(0, 0.1)))


class _Liveness:
    """The heartbeat thread and the throttled progress writer of one running attempt.

    Both use their own short sessions: the analysis reports progress from its own threads,
    and a Session must not be shared across threads.
    """

    def __init__(self, sessions: sessionmaker[Session], claim: Claim, settings: Settings) -> None:
        self.sessions = sessions
        self.claim = claim
        self.settings = settings
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._last_write = 0.0
        self._thread = threading.Thread(target=self._beat, name="job-heartbeat", daemon=True)

    def __enter__(self) -> _Liveness:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _write(self, fn: Callable[[JobRepository], bool]) -> None:
        try:
            with self.sessions() as session:
                ok = fn(JobRepository(session))
                session.commit()
        except sa_exc.SQLAlchemyError as exc:
            # A missed write is harmless; a long outage shows up as a stale heartbeat.
            log.warning("job %s: liveness write failed: %s", self.claim.job_id, exc)
            return
        if not ok:
            self.lost.set()

    def _beat(self) -> None:
        while not self._stop.wait(self.settings.heartbeat_interval_sec):
            self._write(lambda repo: repo.heartbeat(self.claim))
            if self.lost.is_set():
                return

    def progress(self, stage: str, fraction: float) -> None:
        if self.settings.job_progress_delay_sec:
            time.sleep(self.settings.job_progress_delay_sec)  # test knob, see Settings
        if self.lost.is_set():
            raise JobSuperseded(self.claim.job_id)
        # 100 is written only by `complete`, so a finished bar always means a stored result.
        percent = min(int(fraction * 100), 99)
        with self._lock:
            now = time.monotonic()
            if now - self._last_write < PROGRESS_MIN_INTERVAL_SEC:
                return
            self._last_write = now
            self._write(lambda repo: repo.set_progress(self.claim, stage, percent))
        if self.lost.is_set():
            raise JobSuperseded(self.claim.job_id)


def _temp_path(settings: Settings, job_id: str, display_name: str | None) -> Path:
    tmp_dir = settings.data_dir / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    suffix = Path(display_name or "").suffix.lower()
    suffix = suffix if _SAFE_SUFFIX.match(suffix) else ".video"
    fd, name = tempfile.mkstemp(dir=tmp_dir, prefix=f"job-{job_id}-", suffix=suffix)
    os.close(fd)
    return Path(name)


def _remove_earlier_temp_files(settings: Settings, job_id: str) -> None:
    # A killed attempt leaves its download behind; after our claim nobody else owns it.
    tmp_dir = settings.data_dir / "tmp"
    if tmp_dir.is_dir():
        for path in tmp_dir.glob(f"job-{job_id}-*"):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def run_job(job_id: str, settings: Settings, *, storage: Storage | None = None) -> Outcome:
    """Claim and analyse one job. Exceptions escape only when the claim itself fails
    (database down): the job is untouched then, and the caller retries later."""
    sessions = session_factory(settings)
    with sessions() as session:
        claim = JobRepository(session).claim(job_id, stale_cutoff(settings.heartbeat_stale_sec))
        session.commit()
        if claim is None:
            return Outcome("skipped")  # another worker has it, or it is finished or gone
        job = JobRepository(session).get(job_id, any_owner=True)
        assert job is not None
        object_name, display_name, sha256 = job.object_name, job.display_name, job.sha256

    _remove_earlier_temp_files(settings, job_id)
    storage = storage or get_storage(settings)
    tmp: Path | None = None
    try:
        with _Liveness(sessions, claim, settings) as live:
            if object_name is None:
                raise ObjectNotFoundError("job has no stored video")
            live.progress(STAGE_DOWNLOAD, 0.0)
            tmp = _temp_path(settings, job_id, display_name)
            storage.download_to(object_name, tmp)
            from reels_scripter.pipeline import analyze_reel  # heavy; only in workers

            frames = tmp.with_name(f"job-{job_id}-keyframes")
            result = analyze_reel(
                tmp,
                settings,
                progress=live.progress,
                video_uri=storage.uri(object_name),
                keyframes_dir=frames,
                sha256=sha256,  # hashed at upload; no second read of the file
            )
            keyframes.publish(result, frames, sha256, storage)
        tmp.unlink(missing_ok=True)  # before the row says "completed": nothing left behind
        payload: dict[str, Any] = result.model_dump(mode="json")
        with sessions() as session:
            done = JobRepository(session).complete(
                claim, payload, result.meta.provider, result.meta.model
            )
            session.commit()
        if not done:
            return Outcome("superseded")
        _delete_quietly(storage, object_name)
        log.info("completed with provider %s", result.meta.provider)
        return Outcome("completed")
    except JobSuperseded:
        log.info("job %s: no longer ours (deleted or taken over); stopping", job_id)
        return Outcome("superseded")
    except Exception as exc:
        failure = classify(exc, settings)
        if failure.code == "internal_error":
            log.exception("job %s: unexpected error", job_id)
        else:
            log.warning(
                "job %s attempt %d: %s (%s)", job_id, claim.attempt, failure.message, failure.code
            )
        return _record_failure(sessions, storage, claim, object_name, failure, settings)
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)


def _record_failure(
    sessions: sessionmaker[Session],
    storage: Storage,
    claim: Claim,
    object_name: str | None,
    failure: _Failure,
    settings: Settings,
) -> Outcome:
    retry = failure.transient and claim.attempt < _max_attempts(sessions, claim)
    try:
        with sessions() as session:
            repo = JobRepository(session)
            if retry:
                ok = repo.release_for_retry(claim, failure.message, failure.code)
            else:
                ok = repo.fail(claim, failure.message, failure.code)
            session.commit()
    except sa_exc.SQLAlchemyError:
        # Cannot record anything: the heartbeat goes stale and the sweeper re-queues it.
        log.warning("job %s: could not record failure; leaving it to the sweeper", claim.job_id)
        return Outcome(
            "retry", backoff_seconds(claim.attempt, settings), failure.message, failure.code
        )
    if not ok:
        return Outcome("superseded")
    if retry:
        return Outcome(
            "retry", backoff_seconds(claim.attempt, settings), failure.message, failure.code
        )
    if object_name:
        _delete_quietly(storage, object_name)
    return Outcome("failed", error=failure.message, code=failure.code)


def _max_attempts(sessions: sessionmaker[Session], claim: Claim) -> int:
    try:
        with sessions() as session:
            job = JobRepository(session).get(claim.job_id, any_owner=True)
            return job.max_attempts if job is not None else 0
    except sa_exc.SQLAlchemyError:
        return claim.attempt + 1  # unknown: assume a retry is allowed


def _delete_quietly(storage: Storage, name: str | None) -> None:
    if not name:
        return
    try:
        storage.delete(name)
    except StorageError as exc:
        log.warning("could not delete stored video %s (the sweeper will): %s", name, exc.message)


@app.task(bind=True, name=ANALYZE_TASK, max_retries=None, acks_late=True)  # type: ignore[untyped-decorator]
def analyze_job(self: Task[Any, Any], job_id: str) -> str:
    settings = current_settings()
    try:
        with bind_job_id(job_id):
            outcome = run_job(job_id, settings)
    except (sa_exc.OperationalError, sa_exc.InterfaceError, ConnectionError) as exc:
        # Could not even claim: nothing recorded; try the whole task again later.
        countdown = backoff_seconds(self.request.retries + 1, settings)
        raise self.retry(exc=exc, countdown=countdown) from exc
    if outcome.status == "retry":
        raise self.retry(countdown=outcome.countdown)
    return outcome.status
