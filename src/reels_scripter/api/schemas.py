"""Response bodies. The seed's two (upload, status) keep its field names exactly; the
additions use the same camelCase so a front end sees one style."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from reels_scripter.contract import ScriptRow
from reels_scripter.texts import UPLOAD_ACCEPTED, stage_label

if TYPE_CHECKING:
    from reels_scripter.jobs.models import Job

JobStateName = Literal["waiting", "active", "completed", "failed"]


class UploadResponse(BaseModel):
    success: Literal[True] = True
    jobId: str  # the seed's field name
    message: str = UPLOAD_ACCEPTED


class StatusResponse(BaseModel):
    """The seed's status body, plus the stage and, once failed, the error and its code."""

    state: JobStateName
    progress: int = Field(ge=0, le=100)
    result: dict[str, Any] | None = Field(
        None, description="The analysis result (see `reels-scripter schema`) once completed."
    )
    error: str | None = Field(None, description="Why the job failed, for people (Russian).")
    code: str | None = Field(None, description="Stable machine code of the failure.")
    stage: str | None = Field(None, description="What the job is doing now, for people.")
    stageCode: str | None = Field(
        None, description="The same as a stable code: queued, download, video, speech, ai..."
    )


class JobSummary(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, from_attributes=True)

    id: str
    state: JobStateName
    stage: str | None = Field(description="What the job is doing now, for people.")
    stage_code: str | None = Field(None, description="The same as a stable code.")
    progress: int
    error: str | None
    error_code: str | None
    display_name: str | None
    size_bytes: int
    duration: float | None
    provider: str | None
    model: str | None
    attempts: int
    lost_count: int = Field(
        0, description="Times the worker running it was lost (crash, deploy) and it was re-run."
    )
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, job: Job, language: str) -> JobSummary:
        from reels_scripter.api.status import shown_progress

        # the job's own columns by name; what is shown differently is derived here
        return cls.model_validate(job).model_copy(
            update={
                "stage": stage_label(job.stage, language),
                "stage_code": job.stage,
                "progress": shown_progress(job.state, job.progress),
            }
        )


class WebhookAttempt(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    number: int
    at: str
    status: int | None = Field(description="The receiver's HTTP status; null: no answer.")
    error: str | None = Field(description="Why the attempt failed (English); null: delivered.")
    duration_ms: int


class WebhookInfo(BaseModel):
    """The notification of the job's end; the URL itself is not shown (it may hold a token)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    state: str = Field(
        description="scheduled (sent when the job ends), pending, sending, delivered or failed."
    )
    delivery_id: str | None = Field(None, description="The X-Reels-Delivery header.")
    code: str | None = Field(None, description="Why the destination was refused, if it was.")
    attempts: list[WebhookAttempt] = []

    @classmethod
    def of(cls, job: Job) -> WebhookInfo | None:
        if not job.callback_url:
            return None
        record = job.webhook or {}
        return cls(
            state=job.webhook_state or "scheduled",
            delivery_id=record.get("deliveryId"),
            code=record.get("code"),
            attempts=[WebhookAttempt.model_validate(a) for a in record.get("attempts", [])],
        )


class JobDetail(JobSummary):
    result: dict[str, Any] | None = None
    video_stored: bool = Field(
        False, description="The uploaded video is still stored: GET /api/jobs/{id}/video plays it."
    )
    video_expires_at: datetime | None = Field(
        None, description="When a completed job's video is deleted (VIDEO_RETENTION_HOURS)."
    )
    webhook: WebhookInfo | None = Field(
        None, description="The job's webhook (callbackUrl or WEBHOOK_URL): state and attempts."
    )

    @classmethod
    def with_result(cls, job: Job, language: str, current: dict[str, Any] | None) -> JobDetail:
        """`current`: the job's current result (`ScriptService.current`), None unless
        completed."""
        from reels_scripter.jobs import keyframes

        result = keyframes.with_urls(current, job.id) if job.state == "completed" else None
        return cls.model_validate(
            {
                **JobSummary.of(job, language).model_dump(),
                "result": result,
                "video_stored": job.object_name is not None,
                "video_expires_at": job.video_expires_at if job.object_name else None,
                "webhook": WebhookInfo.of(job),
            }
        )


class ScriptVersionResponse(BaseModel):
    """One version of a job's script (`GET /api/jobs/{id}/script`)."""

    version: int = Field(description="This version: 1 is the AI's, each edit makes the next.")
    latestVersion: int = Field(description="The newest version: the one the result shows.")
    edited: bool = Field(description="Some row of this version differs from the AI's.")
    script: list[ScriptRow]


class JobPage(BaseModel):
    items: list[JobSummary]
    total: int
    limit: int
    offset: int


class HealthResponse(BaseModel):
    status: Literal["ok"] = "ok"


class ReadyResponse(BaseModel):
    status: Literal["ok", "unavailable"]
    checks: dict[str, str]
