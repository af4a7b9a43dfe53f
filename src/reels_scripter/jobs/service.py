"""Job use cases: submit an upload, read, page, delete. The HTTP API calls these (parse →
service → response); they own the transaction and enqueue after commit."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from reels_scripter.analysis.models import ProbeInfo
from reels_scripter.config import Settings
from reels_scripter.db.base import utcnow
from reels_scripter.jobs import keyframes
from reels_scripter.jobs.models import (
    STAGE_QUEUED,
    Job,
    JobState,
    new_job_id,
)
from reels_scripter.jobs.repository import JobRepository
from reels_scripter.providers.registry import AIChoice
from reels_scripter.storage.base import Storage, StorageError

log = logging.getLogger(__name__)

# Bump when the pipeline changes what it writes, so old results stop counting as duplicates.
FINGERPRINT_VERSION = 2
MAX_PAGE_SIZE = 100


def settings_fingerprint(settings: Settings, ai: AIChoice | None = None) -> str:
    """Everything that changes the result for the same bytes; equal fingerprint => reusable.
    `ai`: the provider new jobs use (the studio's stored choice; default: AI_PROVIDER)."""
    ai = ai or AIChoice(settings.ai_provider)
    material = {
        "v": FINGERPRINT_VERSION,
        "provider": ai.name,
        "provider_options": ai.result_options(settings),
        "fallback": settings.ai_fallback,
        "target_language": settings.target_language,
        "whisper_model": settings.whisper_model,
        "max_video_duration_sec": settings.max_video_duration_sec,
    }
    blob = json.dumps(material, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()


@dataclass(frozen=True)
class NewJob:
    """A video already in storage under `object_name`, with what its upload found out."""

    object_name: str
    sha256: str
    size_bytes: int
    info: ProbeInfo | None = None
    display_name: str | None = None
    owner: str | None = None
    # Where to POST when the job ends (already checked by the caller), and the API's public
    # base URL, for the notification's absolute statusUrl.
    callback_url: str | None = None
    public_base_url: str | None = None


@dataclass(frozen=True)
class Upload:
    """A received upload on local disk (the API removes the file afterwards)."""

    path: Path
    size: int
    sha256: str
    filename: str | None = None


def display_name(filename: str | None) -> str | None:
    """The client's file name, for showing back only: no directories, bounded length."""
    if not filename:
        return None
    name = Path(filename.replace("\\", "/")).name.strip()
    name = "".join(ch for ch in name if ch.isprintable())
    return name[:255] or None


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

    def submit_upload(
        self,
        upload: Upload,
        owner: str | None,
        *,
        callback_url: str | None = None,
        public_base_url: str | None = None,
    ) -> Job:
        """The upload use case: check the file by content (the probe, in its sandbox), copy
        it to storage under a random name, record the job and queue it. Raises the probe's
        InputError for bad input; nothing is left in storage on any failure."""
        from reels_scripter.analysis.probe import probe
        from reels_scripter.pipeline import analysis_options

        info = probe(upload.path, analysis_options(self.settings))
        object_name = self.storage.new_object_name()
        self.storage.upload_file(upload.path, object_name, info.mime_type)
        try:
            job = self.submit(
                NewJob(
                    object_name=object_name,
                    sha256=upload.sha256,
                    size_bytes=upload.size,
                    info=info,
                    display_name=display_name(upload.filename),
                    owner=owner,
                    callback_url=callback_url,
                    public_base_url=public_base_url,
                )
            )
        except BaseException:
            # No job points at the object: remove it now rather than leave it to the sweeper.
            self._delete_object(object_name)
            raise
        return job

    def current_ai(self) -> AIChoice:
        """The AI a job submitted now uses: the studio's connected one, unless the
        environment's AI_PROVIDER decides (its name and options enter the dedupe match)."""
        from reels_scripter.ai_settings.service import AISettingsService

        return AISettingsService(self.session, self.settings).current_choice()

    def submit(self, new: NewJob) -> Job:
        """Record a stored video as a job and queue it, or answer from an identical one
        (then the new copy is deleted: the job needs no analysis, and it shares the earlier
        job's stored video, if that is still kept, rather than keeping a second copy)."""
        ai = self.current_ai()
        fingerprint = settings_fingerprint(self.settings, ai)
        duplicate = self.repo.find_completed_duplicate(new.sha256, fingerprint, new.owner, ai.name)
        now = utcnow()
        duration = new.info.duration if new.info is not None else None
        job = self.new_job(
            now,
            fingerprint,
            new.owner,
            new.callback_url,
            new.public_base_url,
            sha256=new.sha256,
            display_name=new.display_name,
            size_bytes=new.size_bytes,
            duration=duration,
            probe=new.info.model_dump(mode="json") if new.info is not None else None,
        )
        if duplicate is not None:
            # Same owner, same bytes, same settings, written by the configured provider: the
            # answer is known. No analysis, no AI call.
            job.complete_as_copy_of(duplicate, now)
            job.duration = duration if duration is not None else duplicate.duration
            self.repo.add(job)
            self.session.commit()
            self._delete_object(new.object_name)
            return job
        job.object_name = new.object_name
        return self.queue(job)

    def new_job(
        self,
        now: datetime,
        fingerprint: str,
        owner: str | None,
        callback_url: str | None,
        public_base_url: str | None,
        **columns: Any,
    ) -> Job:
        """A submission's row, not added yet: a new id, no attempt made, and the webhook's
        absolute statusUrl when there is a callback URL (already checked by the caller)."""
        job_id = new_job_id()
        webhook: dict[str, object] | None = None
        if callback_url:
            base = (public_base_url or "").rstrip("/")
            webhook = {"statusUrl": f"{base}/api/status/{job_id}"}
        return Job(
            id=job_id,
            callback_url=callback_url or None,
            webhook=webhook,
            settings_fingerprint=fingerprint,
            owner=owner,
            attempts=0,
            max_attempts=self.settings.job_max_attempts,
            progress=0,
            created_at=now,
            updated_at=now,
            **columns,
        )

    def queue(self, job: Job) -> Job:
        """Add a new job as waiting and send it to the workers."""
        job.state = JobState.waiting
        job.stage = STAGE_QUEUED
        self.repo.add(job)
        # Commit first: a worker that gets the id must find the row.
        self.session.commit()
        if self.enqueue is not None:
            try:
                self.enqueue(job.id)
            except Exception as exc:
                # The row is durable; the sweeper re-enqueues waiting jobs whose message was
                # lost, so an unreachable broker delays the job instead of losing it. Marked
                # unsent, it is re-sent by the next sweep rather than after the long wait
                # that guards jobs merely queued behind a backlog.
                log.warning(
                    "could not enqueue job %s (%s); the next sweep sends it",
                    job.id,
                    type(exc).__name__,
                )
                self.repo.mark_unsent(job.id)
                self.session.commit()
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
        # Stored objects are reference-counted by the rows that name them. A deduplicated
        # job shares its original's video (same owner): the last job naming it deletes it.
        if object_name and not self.repo.object_in_use(object_name):
            self._delete_object(object_name)
        # The owner's keyframes of this content serve all the owner's jobs of it: the last
        # one takes them (another owner's job of the same bytes has its own).
        try:
            if not self.repo.exists_with_sha256(sha256, owner):
                keyframes.delete_owned(self.storage, owner, sha256)
            if not self.repo.exists_with_sha256(sha256, any_owner=True):
                keyframes.delete_legacy(self.storage, sha256)
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
