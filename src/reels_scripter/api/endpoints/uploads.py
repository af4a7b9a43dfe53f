"""`POST /api/upload`: the seed's upload, streamed to disk and validated before queuing."""

from __future__ import annotations

import contextlib
import logging
import time
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Request
from slowapi import Limiter
from starlette.requests import ClientDisconnect

from reels_scripter.analysis.models import ProbeInfo
from reels_scripter.api.deps import OwnerDep, Services, ServicesDep
from reels_scripter.api.errors import ClientDisconnectedError, ErrorBody
from reels_scripter.api.metrics import ApiMetrics
from reels_scripter.api.schemas import UploadResponse
from reels_scripter.api.upload_stream import ReceivedFile, receive_file
from reels_scripter.errors import AppError
from reels_scripter.logs import job_id_var
from reels_scripter.pipeline import analysis_options

log = logging.getLogger(__name__)

FIELD = "video"
CONTENT_TYPES = {
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "webm": "video/webm",
    "matroska": "video/x-matroska",
}

# The body is parsed by hand (see upload_stream), so FastAPI cannot infer it: describe it.
UPLOAD_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": [FIELD],
                    "properties": {
                        FIELD: {
                            "type": "string",
                            "format": "binary",
                            "description": "The reel: MP4, MOV or WebM, up to MAX_FILE_SIZE_MB.",
                        }
                    },
                }
            }
        },
    }
}

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "No file in the `video` field (`no_file`)."},
    401: {"model": ErrorBody, "description": "API keys are on and none was sent."},
    413: {"model": ErrorBody, "description": "Larger than MAX_FILE_SIZE_MB (`too_large`)."},
    415: {"model": ErrorBody, "description": "A video container we do not read."},
    422: {
        "model": ErrorBody,
        "description": "Not a video, empty, corrupt, audio only, too long or too big a picture.",
    },
    429: {"model": ErrorBody, "description": "Too many uploads from this client."},
}


async def upload(request: Request, services: ServicesDep, owner: OwnerDep) -> UploadResponse:
    """Upload a reel in the multipart field `video`; returns the job id to poll.

    The file is checked by content before it is queued, so bad input is refused here with
    a precise code rather than failing later in the worker.
    """
    metrics: ApiMetrics = request.app.state.metrics
    settings = services.settings
    started = time.perf_counter()
    received: ReceivedFile | None = None
    try:
        received = await receive_file(
            request,
            field_name=FIELD,
            max_bytes=settings.max_file_size_bytes,
            tmp_dir=services.tmp_dir,
        )
        from reels_scripter.analysis.probe import probe

        info: ProbeInfo = await anyio.to_thread.run_sync(
            probe, received.path, analysis_options(settings)
        )
        job_id = await anyio.to_thread.run_sync(_store_and_submit, services, received, info, owner)
    except ClientDisconnect:
        metrics.uploads.labels("client_disconnected").inc()
        log.info("client went away during upload")
        raise ClientDisconnectedError() from None
    except AppError as exc:
        metrics.uploads.labels(exc.code).inc()
        log.info("upload refused: %s", exc.code)
        raise
    finally:
        if received is not None:
            with contextlib.suppress(FileNotFoundError):
                received.path.unlink()
    elapsed = time.perf_counter() - started
    metrics.uploads.labels("ok").inc()
    metrics.upload_seconds.observe(elapsed)
    metrics.upload_bytes.observe(received.size)
    job_id_var.set(job_id)
    log.info(
        "upload queued",
        extra={
            "size_bytes": received.size,
            "seconds": round(elapsed, 3),
            "container": info.container,
        },
    )
    return UploadResponse(jobId=job_id)


def _store_and_submit(
    services: Services, received: ReceivedFile, info: ProbeInfo, owner: str | None
) -> str:
    """Copy the file to storage under a random name, then create and enqueue the job."""
    storage = services.storage
    object_name = storage.new_object_name()
    storage.upload_file(received.path, object_name, CONTENT_TYPES.get(info.container))
    try:
        with services.sessions() as session:
            job = services.job_service(session).submit(
                object_name=object_name,
                sha256=received.sha256,
                display_name=_display_name(received.filename),
                size_bytes=received.size,
                duration=info.duration,
                owner=owner,
            )
            job_id = str(job.id)
            kept = getattr(job, "object_name", object_name)
    except BaseException:
        # No job points at the object: remove it now rather than leave it to the sweeper.
        with contextlib.suppress(Exception):
            storage.delete(object_name)
        raise
    if kept != object_name:
        # Deduplicated onto an existing job; our copy of the same bytes is not needed.
        with contextlib.suppress(Exception):
            storage.delete(object_name)
    return job_id


def _display_name(filename: str | None) -> str | None:
    """The client's file name, for showing back only: no directories, bounded length."""
    if not filename:
        return None
    name = Path(filename.replace("\\", "/")).name.strip()
    name = "".join(ch for ch in name if ch.isprintable())
    return name[:255] or None


def build_router(limiter: Limiter, rate: str) -> APIRouter:
    """The upload route, rate-limited with this app's limiter (limits differ per app)."""
    router = APIRouter(prefix="/api", tags=["uploads"])
    endpoint = limiter.limit(rate)(upload) if rate.strip() else upload
    router.add_api_route(
        "/upload",
        endpoint,
        methods=["POST"],
        response_model=UploadResponse,
        responses=_ERRORS,
        openapi_extra=UPLOAD_OPENAPI,
        summary="Upload a reel for analysis",
    )
    return router
