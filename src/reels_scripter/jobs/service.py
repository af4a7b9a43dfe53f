"""Job use cases. The HTTP API calls these; they own the transaction and enqueue after commit."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable

from sqlalchemy.orm import Session

from reels_scripter.config import Settings
from reels_scripter.db.base import utcnow
from reels_scripter.jobs import keyframes
from reels_scripter.jobs.models import STAGE_DEDUPLICATED, STAGE_QUEUED, Job, JobState
from reels_scripter.jobs.repository import JobRepository
from reels_scripter.providers.registry import result_options
from reels_scripter.storage.base import Storage, StorageError

log = logging.getLogger(__name__)

# Bump when the pipeline changes what it writes, so old results stop counting as duplicates.
FINGERPRINT_VERSION = 1
MAX_PAGE_SIZE = 100


def settings_fingerprint(settings: Settings) -> str:
    """Everything that changes the result for the same bytes; equal fingerprint => reusable."""
    material = {
        "v": FINGERPRINT_VERSION,
        "provider": settings.ai_provider,
        "provider_options": result_options(settings.ai_provider, settings),
        "fallback": settings.ai_fallback,
        "target_language": settings.target_language,
        "whisper_model": settings.whisper_model,
        "max_video_duration_sec": settings.max_video_duration_sec,
    }
    blob = json.dumps(material, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()


class JobService:
    def __init__(
        self,
        session: Session,
        storage: Storage,
        settings: Settings,
        enqueue: Callable[[str], None] | None = None,
    ) -> None:
        self.session = session
        self.repo = JobRepository(session)
        self.storage = storage
        self.settings = settings
        self.enqueue = enqueue

    def submit(
        self,
        *,
        object_name: str,
        sha256: str,
        display_name: str | None,
        size_bytes: int,
        duration: float | None,
        owner: str | None,
    ) -> Job:
        """Record an uploaded video as a job and queue it, or answer from an identical one.

        The video must already be in storage under `object_name`.
        """
        fingerprint = settings_fingerprint(self.settings)
        duplicate = self.repo.find_completed_duplicate(sha256, fingerprint)
        now = utcnow()
        job = Job(
            sha256=sha256,
            display_name=display_name,
            size_bytes=size_bytes,
            duration=duration,
            settings_fingerprint=fingerprint,
            owner=owner,
            attempts=0,
            max_attempts=self.settings.job_max_attempts,
            progress=0,
            created_at=now,
            updated_at=now,
        )
        if duplicate is not None:
            # Same bytes, same settings: the answer is known. No analysis, no AI call.
            job.state = JobState.completed
            job.stage = STAGE_DEDUPLICATED
            job.progress = 100
            job.result = duplicate.result
            job.provider = duplicate.provider
            job.model = duplicate.model
            job.duration = duration if duration is not None else duplicate.duration
            job.started_at = job.finished_at = now
            job.object_name = None
            self.repo.add(job)
            self.session.commit()
            self._delete_object(object_name)
            return job
        job.state = JobState.waiting
        job.stage = STAGE_QUEUED
        job.object_name = object_name
        self.repo.add(job)
        # Commit first: a worker that gets the id must find the row.
        self.session.commit()
        if self.enqueue is not None:
            try:
                self.enqueue(job.id)
            except Exception:
                # The row is durable; the sweeper re-enqueues waiting jobs whose message was
                # lost, so an unreachable broker delays the job instead of losing it.
                log.exception("could not enqueue job %s; the sweeper will retry", job.id)
        return job

    def get(self, job_id: str, owner: str | None) -> Job | None:
        """The job if it exists and belongs to `owner` (None: jobs submitted without a key)."""
        return self.repo.get(job_id, owner)

    def history(self, owner: str | None, limit: int, offset: int) -> tuple[list[Job], int]:
        """A page of the owner's jobs, newest first, and their total count."""
        limit = max(1, min(limit, MAX_PAGE_SIZE))
        return self.repo.list_for_owner(owner, limit, max(0, offset))

    def delete(self, job_id: str, owner: str | None) -> bool:
        """Delete the job and its stored video. A running analysis notices and stops."""
        job = self.repo.get(job_id, owner)
        if job is None:
            return False
        object_name, sha256 = job.object_name, job.sha256
        self.repo.delete(job.id)
        self.session.commit()
        if object_name:
            self._delete_object(object_name)
        # keyframes are shared by every job of the same content (dedupe): the last one takes them
        if not self.repo.exists_with_sha256(sha256):
            try:
                keyframes.delete_all(self.storage, sha256)
            except StorageError as exc:
                log.warning("could not delete keyframes of %s: %s", sha256[:12], exc.message)
        return True

    def counts_by_state(self) -> dict[str, int]:
        return self.repo.count_by_state()

    def _delete_object(self, name: str) -> None:
        try:
            self.storage.delete(name)
        except StorageError as exc:
            # Not fatal: the sweeper and the bucket's lifecycle rule remove it later.
            log.warning("could not delete stored object %s: %s", name, exc.message)
