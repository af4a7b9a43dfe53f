"""The job row: the single source of truth for an analysis (the queue carries only its id)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from reels_scripter.db.base import Base, UTCDateTime, utcnow


class JobState(StrEnum):
    waiting = "waiting"
    active = "active"
    completed = "completed"
    failed = "failed"


FINISHED_STATES = frozenset({JobState.completed, JobState.failed})
# Stage codes the job layer writes besides the pipeline's own (probe, video, speech, audio,
# ai); `texts.stage_label` turns any of them into what a person reads.
STAGE_QUEUED = "queued"
STAGE_DOWNLOAD = "download"
# Fetching an imported reel from its link (the first stage of a `POST /api/import` job).
STAGE_IMPORT = "import"
STAGE_RETRYING = "retrying"
STAGE_REQUEUED = "requeued"
STAGE_DONE = "done"
STAGE_FAILED = "failed"
STAGE_DEDUPLICATED = "deduplicated"

# Webhook states (Job.webhook_state).
WEBHOOK_PENDING = "pending"
WEBHOOK_SENDING = "sending"
WEBHOOK_DELIVERED = "delivered"
WEBHOOK_FAILED = "failed"

# JSON on SQLite, JSONB on PostgreSQL (indexable, compact).
JSONType = JSON().with_variant(JSONB(), "postgresql")


def new_job_id() -> str:
    return str(uuid.uuid4())


def is_job_id(value: str) -> bool:
    """Whether `value` can be a job id (a canonical UUID). Anything else is no job on every
    database; checking first keeps bytes such as NUL, which PostgreSQL refuses in text, from
    ever reaching a query."""
    if len(value) != 36:
        return False
    try:
        return str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


class Job(Base):
    __tablename__ = "jobs"

    # A string UUID: identical on SQLite and PostgreSQL and in JSON, no driver conversions.
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_job_id)
    state: Mapped[str] = mapped_column(String(16), default=JobState.waiting)
    stage: Mapped[str | None] = mapped_column(String(32))
    progress: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    error_code: Mapped[str | None] = mapped_column(String(64))
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONType)

    sha256: Mapped[str] = mapped_column(String(64))
    # The client's file name: shown back to its owner, never used as a storage key or path.
    display_name: Mapped[str | None] = mapped_column(String(255))
    # Random storage key; NULL once the video has been deleted from storage. A completed job
    # keeps it until `video_expires_at` (VIDEO_RETENTION_HOURS) for playback in the studio; a
    # deduplicated job shares its original's object rather than keeping a copy.
    object_name: Mapped[str | None] = mapped_column(String(255))
    video_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    size_bytes: Mapped[int] = mapped_column(Integer)
    duration: Mapped[float | None] = mapped_column(Float)
    # The upload's probe facts (ProbeInfo: container, MIME type, duration, streams...), found
    # once at upload and handed to the analysis, which then neither probes nor guesses again.
    probe: Mapped[dict[str, Any] | None] = mapped_column(JSONType)

    # A reel imported by its link (POST /api/import): the link as given, fetched by the worker
    # as the job's first stage (until then `object_name` is NULL and `sha256` a placeholder),
    # and what names its video for dedupe: `platform:id`, else `url:<canonical link>`.
    source_url: Mapped[str | None] = mapped_column(Text)
    source_key: Mapped[str | None] = mapped_column(String(400))
    # Once fetched: {"source": contract.Source, "notices": [Notice]}, so that a retry of the
    # analysis (the video is then in storage) still writes them into the result.
    imported: Mapped[dict[str, Any] | None] = mapped_column(JSONType)

    provider: Mapped[str | None] = mapped_column(String(64))
    model: Mapped[str | None] = mapped_column(String(128))
    settings_fingerprint: Mapped[str] = mapped_column(String(64))
    owner: Mapped[str | None] = mapped_column(String(128))

    # Webhook (an outbox): where to POST when the job ends, and how that went. The state is
    # NULL (no webhook), `pending` (due at `webhook_due_at`), `sending` (an attempt holds it
    # until `webhook_due_at`), `delivered` or `failed`; `webhook` holds the delivery id, the
    # absolute status URL and every attempt.
    callback_url: Mapped[str | None] = mapped_column(Text)
    webhook_state: Mapped[str | None] = mapped_column(String(16))
    webhook_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    webhook: Mapped[dict[str, Any] | None] = mapped_column(JSONType)

    # Runs spent on the job's own failures (the running one included); JOB_MAX_ATTEMPTS.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    # Times the worker running it was lost (SIGKILL, OOM, deploy): such a run gives its
    # attempt back and counts here instead, against JOB_MAX_LOSSES. (attempts, lost_count)
    # together fence a run's writes: their sum grows with every claim.
    lost_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The worker process running it now (its Celery node name), for logs and diagnostics.
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    __table_args__ = (
        # History: one owner's jobs, newest first.
        Index("ix_jobs_owner_created_at", "owner", created_at.desc()),
        # Dedupe: a completed job for the same content and the same analysis settings.
        Index("ix_jobs_dedupe", "sha256", "settings_fingerprint", "state"),
        # Dedupe of imports: a completed job for the same video and the same settings.
        Index("ix_jobs_source_key", "source_key", "settings_fingerprint", "state"),
        # Sweeper: active jobs with a stale heartbeat, waiting jobs never picked up.
        Index("ix_jobs_state_heartbeat_at", "state", "heartbeat_at"),
        # Sweeper: stored videos past their retention.
        Index("ix_jobs_video_expires_at", "video_expires_at"),
        # Webhook dispatcher: due notifications.
        Index("ix_jobs_webhook_state_due_at", "webhook_state", "webhook_due_at"),
    )

    @property
    def job_state(self) -> JobState:
        return JobState(self.state)

    def shared_video(self) -> dict[str, Any]:
        """What a duplicate of this job takes of its stored video: the object and its expiry
        while the video is kept for playback (the owner's jobs then share it, counted by
        reference), nothing once it is gone or was never kept."""
        if self.object_name is not None and self.video_expires_at is not None:
            return {"object_name": self.object_name, "video_expires_at": self.video_expires_at}
        return {"object_name": None, "video_expires_at": None}

    def complete_as_copy_of(self, original: Job, now: datetime) -> None:
        """This new job is answered by `original` (same owner, video and settings): its result,
        who wrote it, the shared video while it is kept, and the webhook due at once."""
        self.state = JobState.completed
        self.stage = STAGE_DEDUPLICATED
        self.progress = 100
        self.result = original.result
        self.provider, self.model = original.provider, original.model
        self.started_at = self.finished_at = now
        shared = original.shared_video()
        self.object_name = shared["object_name"]
        self.video_expires_at = shared["video_expires_at"]
        if self.callback_url:
            self.webhook_state, self.webhook_due_at = WEBHOOK_PENDING, now

    def __repr__(self) -> str:
        return f"Job(id={self.id!r}, state={self.state!r}, progress={self.progress})"


class ScriptVersion(Base):
    """A script the creator edited: version 2, 3, ... of a completed job's script rows.

    Version 1 is the AI's, and stays where the analysis wrote it (`Job.result`): it is never
    rewritten, so a deduplicated job copies the AI's result and never someone's edits. Each
    edit adds a row holding the whole script as it then reads; the newest one is what the
    status, the job and every export show (see `jobs.current`).
    """

    __tablename__ = "script_versions"

    job_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The script rows (contract.ScriptRow as JSON), every row, edited or not.
    script: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
