"""One attempt at one job: claim it, fetch the video, analyse, store the result.

`run_job` is the whole logic as a plain function (testable without a broker); the Celery task
in `tasks` only turns a "retry" outcome into a delayed retry. Exceptions escape only when the
claim itself fails (database down): the job is untouched then, and the caller retries later.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session, sessionmaker

from reels_scripter.analysis.models import Notice, ProbedVideo, ProbeInfo
from reels_scripter.analysis.progress import ProgressCallback
from reels_scripter.config import Settings
from reels_scripter.contract import Source
from reels_scripter.db.base import utcnow
from reels_scripter.db.engine import session_factory
from reels_scripter.errors import AppError
from reels_scripter.jobs.failures import JobSuperseded, Outcome, backoff_seconds, classify
from reels_scripter.jobs.keyframes import StorageSink
from reels_scripter.jobs.liveness import Liveness
from reels_scripter.jobs.models import STAGE_DOWNLOAD, Job
from reels_scripter.jobs.repository import Claim, JobRepository, stale_cutoff
from reels_scripter.providers.registry import AIChoice
from reels_scripter.storage import ObjectNotFoundError, Storage, StorageError, get_storage
from reels_scripter.texts import describe

log = logging.getLogger(__name__)


def _temp_path(settings: Settings, job_id: str) -> Path:
    # Named by the job id alone: the client's file name never reaches a path.
    tmp_dir = settings.data_dir / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=tmp_dir, prefix=f"job-{job_id}-", suffix=".video")
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


def _probed(job: Job, path: Path) -> ProbedVideo | Path:
    """The downloaded video with the facts its upload found; a bare path (probe again) only
    for rows written before the facts were stored."""
    if job.probe is None:
        return path
    return ProbedVideo(path=path, info=ProbeInfo.model_validate(job.probe), sha256=job.sha256)


def ai_choice(session: Session, settings: Settings) -> AIChoice:
    """The provider this job uses: the studio's stored choice, unless the environment's
    AI_PROVIDER decides (`ai_settings.service`)."""
    from reels_scripter.ai_settings.service import AISettingsService

    return AISettingsService(session, settings).current_choice()


def _after_import(report: ProgressCallback) -> ProgressCallback:
    """The analysis' overall figure on the part of the bar the download left."""
    from reels_scripter.imports.stage import IMPORT_SHARE

    return lambda stage, fraction: report(stage, IMPORT_SHARE + (1 - IMPORT_SHARE) * fraction)


def _imported_before(job: Job) -> tuple[Source | None, list[Notice] | None]:
    if not job.imported:
        return None, None
    from reels_scripter.imports.stage import imported_of

    return imported_of(job)


def video_expiry(settings: Settings) -> datetime | None:
    """Until when a completed job keeps its video for playback; None: delete it now."""
    if settings.video_retention_hours <= 0:
        return None
    return utcnow() + timedelta(hours=settings.video_retention_hours)


def run_job(
    job_id: str,
    settings: Settings,
    *,
    storage: Storage | None = None,
    worker: str | None = None,
) -> Outcome:
    """Claim and analyse one job; see the module docstring. `worker` names the process
    (its Celery node name) on the row while it runs."""
    # Built before the claim: a storage backend that cannot be built (bad credentials) then
    # leaves the job untouched instead of escaping with the job claimed.
    storage = storage or get_storage(settings)
    sessions = session_factory(settings)
    with sessions() as session:
        repo = JobRepository(session)
        claim = repo.claim(
            job_id,
            stale_cutoff(settings.heartbeat_stale_sec),
            max_losses=settings.job_max_losses,
            worker=worker,
        )
        session.commit()
        if claim is None:
            return Outcome("skipped")  # another worker has it, or it is finished or gone
        job = repo.get(job_id, any_owner=True)
        assert job is not None
        object_name, owner = job.object_name, job.owner

    tmp: Path | None = None
    workdir: Path | None = None
    try:
        _remove_earlier_temp_files(settings, job_id)
        with Liveness(sessions, claim, settings) as live:
            imported = None
            if object_name is None and job.source_url:
                # an import: its first stage fetches the reel (imports.stage)
                from reels_scripter.imports.stage import import_video

                workdir = settings.data_dir / "tmp" / f"job-{job_id}-import"
                imported = import_video(job, claim, settings, storage, live, sessions, workdir)
                if imported is None:
                    return Outcome("completed")  # the same video was analysed already
                object_name = imported.object_name
            if object_name is None:
                raise ObjectNotFoundError("job has no stored video")
            # Read per job (one primary-key query): a key connected from the page applies
            # to the next job, in every worker process, without a restart.
            with sessions() as session:
                ai = ai_choice(session, settings)
            from reels_scripter.pipeline import analyze_reel  # heavy; only in workers

            source: Source | None
            notices: list[Notice] | None
            if imported is not None:
                video: ProbedVideo | Path = imported.video
                progress = _after_import(live.progress)
                source, notices = imported.source, imported.notices
            else:
                live.progress(STAGE_DOWNLOAD, 0.0)
                tmp = _temp_path(settings, job_id)
                storage.download_to(object_name, tmp)
                video, progress = _probed(job, tmp), live.progress
                source, notices = _imported_before(job)
            result = analyze_reel(
                video,
                settings,
                provider=ai,
                progress=progress,
                video_uri=storage.uri(object_name),
                keyframes=StorageSink(storage, owner),
                source=source,
                notices=notices,
            )
        # before the row says "completed": nothing left behind
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
        payload: dict[str, Any] = result.model_dump(mode="json")
        keep_until = video_expiry(settings)
        with sessions() as session:
            done = JobRepository(session).complete(
                claim,
                payload,
                result.meta.provider,
                result.meta.model,
                video_expires_at=keep_until,
            )
            session.commit()
        if not done:
            return Outcome("superseded")
        if keep_until is None:
            _delete_quietly(storage, object_name)
        log.info("completed with provider %s", result.meta.provider)
        return Outcome("completed")
    except JobSuperseded:
        log.info("job %s: no longer ours (deleted or taken over); stopping", job_id)
        return Outcome("superseded")
    except Exception as exc:
        error = classify(exc, settings)
        if error.code == "internal_error":
            log.exception("job %s: unexpected error", job_id)
        else:
            log.warning(
                "job %s attempt %d: %s (%s)", job_id, claim.attempt, error.message, error.code
            )
        return _record_failure(sessions, storage, claim, object_name, error, settings)
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)


def _record_failure(
    sessions: sessionmaker[Session],
    storage: Storage,
    claim: Claim,
    object_name: str | None,
    error: AppError,
    settings: Settings,
) -> Outcome:
    text = describe(error, settings.target_language)
    retry = error.transient and claim.attempt < _max_attempts(sessions, claim)
    try:
        with sessions() as session:
            repo = JobRepository(session)
            if retry:
                ok = repo.release_for_retry(claim, text, error.code)
            else:
                ok = repo.fail(claim, text, error.code)
            session.commit()
    except sa_exc.SQLAlchemyError:
        # Cannot record anything: the heartbeat goes stale and the sweeper re-queues it.
        log.warning("job %s: could not record failure; leaving it to the sweeper", claim.job_id)
        return Outcome("retry", backoff_seconds(claim.attempt, settings), text, error.code)
    if not ok:
        return Outcome("superseded")
    if retry:
        return Outcome("retry", backoff_seconds(claim.attempt, settings), text, error.code)
    _delete_quietly(storage, object_name)
    return Outcome("failed", error=text, code=error.code)


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
