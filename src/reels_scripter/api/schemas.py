"""Response bodies. The seed's two (upload, status) keep its field names exactly; the
additions use the same camelCase so a front end sees one style."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from reels_scripter.texts import stage_label

if TYPE_CHECKING:
    from reels_scripter.jobs.models import Job

JobStateName = Literal["waiting", "active", "completed", "failed"]


class UploadResponse(BaseModel):
    success: Literal[True] = True
    jobId: str  # the seed's field name
    message: str = "Видео загружено и отправлено на анализ"


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
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    id: str
    state: JobStateName
    stage: str | None = Field(description="What the job is doing now, for people.")
    stage_code: str | None = Field(description="The same as a stable code.")
    progress: int
    error: str | None
    error_code: str | None
    display_name: str | None
    size_bytes: int
    duration: float | None
    provider: str | None
    model: str | None
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, job: Job, language: str) -> JobSummary:
        from reels_scripter.api.status import shown_progress

        return cls(
            id=job.id,
            state=job.state,
            stage=stage_label(job.stage, language),
            stage_code=job.stage,
            progress=shown_progress(job.state, job.progress),
            error=job.error,
            error_code=job.error_code,
            display_name=job.display_name,
            size_bytes=job.size_bytes,
            duration=job.duration,
            provider=job.provider,
            model=job.model,
            attempts=job.attempts or 0,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
        )


class JobDetail(JobSummary):
    result: dict[str, Any] | None = None
    video_stored: bool = Field(
        False, description="The uploaded video is still stored: GET /api/jobs/{id}/video plays it."
    )

    @classmethod
    def of(cls, job: Job, language: str) -> JobDetail:
        from reels_scripter.jobs import keyframes

        result = keyframes.with_urls(job.result, job.id) if job.state == "completed" else None
        return cls.model_validate(
            {
                **JobSummary.of(job, language).model_dump(),
                "result": result,
                "video_stored": job.object_name is not None,
            }
        )


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
