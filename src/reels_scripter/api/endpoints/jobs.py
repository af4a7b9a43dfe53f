"""Job status (the seed's `/api/status/{jobId}`) and the history beyond it."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from reels_scripter.api.deps import (
    FinishedJobDep,
    JobServiceDep,
    OwnedJobDep,
    OwnerDep,
    ScriptServiceDep,
    Services,
    ServicesDep,
    SettingsDep,
    bind_job,
)
from reels_scripter.api.endpoints.exports import attachment_headers
from reels_scripter.api.errors import (
    JobNotFoundError,
    KeyframeNotFoundError,
    NotCompletedError,
    UnauthorizedError,
    error_responses,
    file_responses,
)
from reels_scripter.api.schemas import JobDetail, JobPage, JobSummary, StatusResponse
from reels_scripter.api.signed_urls import ACCESS_PARAM
from reels_scripter.jobs import keyframes
from reels_scripter.storage import ObjectNotFoundError
from reels_scripter.texts import describe

router = APIRouter(prefix="/api", tags=["jobs"])

_NOT_FOUND = error_responses(JobNotFoundError, UnauthorizedError)
# How often the event stream looks at the job, and how often it proves it is alive.
EVENTS_POLL_SEC = 0.5
EVENTS_HEARTBEAT_SEC = 15.0
# A stream is not a job's lifetime: clients reconnect (EventSource does so by itself).
EVENTS_MAX_SEC = 30 * 60.0


@router.get(
    "/status/{jobId}",
    response_model=StatusResponse,
    responses=_NOT_FOUND,
    summary="Job state, progress and result (the seed's status call)",
)
async def get_status(jobId: str, request: Request) -> Response:
    # Front ends poll this: a cached body costs no thread hop and no query (see status.py),
    # and the route declares no dependencies, so FastAPI has none to solve per poll.
    services: Services = request.app.state.services
    owner = services.owner_of(request)
    bind_job(jobId)
    body = await _status_body(services, jobId, owner)
    if body is None:
        raise JobNotFoundError()
    return Response(body, media_type="application/json")


@router.get(
    "/jobs",
    response_model=JobPage,
    responses=error_responses(UnauthorizedError),
    summary="History of jobs, newest first",
)
def list_jobs(
    jobs: JobServiceDep,
    owner: OwnerDep,
    settings: SettingsDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int | None, Query(ge=0, le=1_000_000)] = None,
    page: Annotated[
        int | None, Query(ge=1, le=100_000, description="1-based page; or use offset")
    ] = None,
) -> JobPage:
    if offset is None:
        offset = (page - 1) * limit if page is not None else 0
    items, total = jobs.history(owner, limit, offset)
    language = settings.target_language
    return JobPage(
        items=[JobSummary.of(j, language) for j in items], total=total, limit=limit, offset=offset
    )


@router.get(
    "/jobs/{job_id}", response_model=JobDetail, responses=_NOT_FOUND, summary="One job, full"
)
def get_job(
    job: OwnedJobDep, scripts: ScriptServiceDep, settings: SettingsDep, request: Request
) -> JobDetail:
    current = scripts.current(job) if job.state == "completed" else None
    detail = JobDetail.with_result(job, settings.target_language, current)
    if request.query_params.get(ACCESS_PARAM):
        # a read-only link (a share page's, or one for <img>/<video>) shows the result, not
        # the owner's webhook address and delivery attempts
        detail = detail.model_copy(update={"webhook": None})
    return detail


@router.delete(
    "/jobs/{job_id}",
    status_code=204,
    responses=_NOT_FOUND,
    summary="Delete a job, its result and its stored video",
)
def delete_job(
    job_id: str, jobs: JobServiceDep, owner: OwnerDep, services: ServicesDep
) -> Response:
    bind_job(job_id)
    deleted = jobs.delete(job_id, owner)
    services.status_reader.invalidate(job_id)
    if not deleted:
        raise JobNotFoundError()
    return Response(status_code=204)


@router.get(
    "/jobs/{job_id}/script.md",
    response_class=Response,
    responses=file_responses(
        "text/markdown",
        "The script as Markdown.",
        JobNotFoundError,
        UnauthorizedError,
        NotCompletedError,
    ),
    summary="The finished script as a Markdown document",
)
def get_script_markdown(finished: FinishedJobDep) -> Response:
    from reels_scripter.render.markdown import render_markdown

    job, result = finished
    return Response(
        render_markdown(result),
        media_type="text/markdown; charset=utf-8",
        headers=attachment_headers(job, "md", "script", disposition="inline"),
    )


@router.get(
    "/jobs/{job_id}/keyframes/{index}.jpg",
    response_class=Response,
    responses=file_responses(
        "image/jpeg",
        "The scene's keyframe.",
        JobNotFoundError,
        KeyframeNotFoundError,
        UnauthorizedError,
    ),
    summary="A scene's keyframe (JPEG), as linked from the result's timeline",
)
def get_keyframe(index: int, job: OwnedJobDep, jobs: JobServiceDep) -> Response:
    name = keyframes.stored_name(job.result, index) if job.state == "completed" else None
    if name is None:
        raise KeyframeNotFoundError()
    try:
        data = jobs.storage.read_bytes(name)
    except ObjectNotFoundError:
        # removed by the bucket's lifecycle rule: the result stays, its pictures are gone
        raise KeyframeNotFoundError() from None
    return Response(
        data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=86400"}
    )


@router.get(
    "/jobs/{job_id}/events",
    response_class=StreamingResponse,
    responses={
        **_NOT_FOUND,
        200: {
            "content": {"text/event-stream": {}},
            "description": "`progress` events with the status body; the last one is "
            "`completed` or `failed`.",
        },
    },
    summary="Server-sent events with the job's progress until it finishes",
)
async def job_events(
    job_id: str, request: Request, services: ServicesDep, owner: OwnerDep
) -> StreamingResponse:
    bind_job(job_id)
    first = await _status(services, job_id, owner)
    if first is None:
        raise JobNotFoundError()
    return StreamingResponse(
        _event_stream(request, services, job_id, owner, first),
        media_type="text/event-stream",
        # no-transform and X-Accel-Buffering keep proxies (nginx, Cloud Run's GFE) from
        # buffering the stream into one late lump
        headers={"Cache-Control": "no-cache, no-transform", "X-Accel-Buffering": "no"},
    )


async def _status_body(services: Services, job_id: str, owner: str | None) -> bytes | None:
    reader = services.status_reader
    body = reader.cached(job_id, owner)
    if body is None:
        body = await anyio.to_thread.run_sync(reader.load, job_id, owner)
    return body


async def _status(services: Services, job_id: str, owner: str | None) -> StatusResponse | None:
    body = await _status_body(services, job_id, owner)
    return None if body is None else StatusResponse.model_validate_json(body)


def _sse(event: str, data: dict[str, Any], event_id: int) -> bytes:
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return f"id: {event_id}\nevent: {event}\ndata: {payload}\n\n".encode()


async def _event_stream(
    request: Request, services: Services, job_id: str, owner: str | None, first: StatusResponse
) -> AsyncIterator[bytes]:
    status: StatusResponse | None = first
    last_sent: tuple[str, int, str | None] | None = None
    event_id = 0
    started = last_beat = time.monotonic()
    yield b"retry: 2000\n\n"
    while True:
        if status is None:  # deleted while watched
            event_id += 1
            gone = JobNotFoundError()
            body = {"error": describe(gone, services.settings.target_language), "code": gone.code}
            yield _sse("failed", body, event_id)
            return
        key = (status.state, status.progress, status.stageCode)
        if key != last_sent:
            last_sent = key
            event_id += 1
            finished = status.state in ("completed", "failed")
            yield _sse(status.state if finished else "progress", status.model_dump(), event_id)
            if finished:
                return
            last_beat = time.monotonic()
        elif time.monotonic() - last_beat >= EVENTS_HEARTBEAT_SEC:
            last_beat = time.monotonic()
            yield b": keep-alive\n\n"
        if time.monotonic() - started > EVENTS_MAX_SEC or await request.is_disconnected():
            return
        await asyncio.sleep(EVENTS_POLL_SEC)
        status = await _status(services, job_id, owner)
