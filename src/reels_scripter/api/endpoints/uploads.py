"""`POST /api/upload`: the seed's upload, streamed to disk, then handed to the job service."""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Request
from slowapi import Limiter
from starlette.requests import ClientDisconnect

from reels_scripter.analysis.errors import (
    AudioOnlyError,
    CorruptVideoError,
    EmptyFileError,
    NotAVideoError,
    NoVideoStreamError,
    ProbeTimeoutError,
    ResolutionTooLargeError,
    TooLargeError,
    TooLongError,
    UnsupportedFormatError,
)
from reels_scripter.api.deps import OwnerDep, Services, ServicesDep
from reels_scripter.api.errors import (
    ClientDisconnectedError,
    MalformedMultipartError,
    NoFileError,
    RateLimitedError,
    UnauthorizedError,
    error_responses,
)
from reels_scripter.api.metrics import ApiMetrics
from reels_scripter.api.schemas import UploadResponse
from reels_scripter.api.upload_stream import ReceivedFile, receive_video
from reels_scripter.errors import AppError
from reels_scripter.jobs.service import Upload
from reels_scripter.logs import job_id_var

log = logging.getLogger(__name__)

FIELD = "video"

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

ERRORS = error_responses(
    NoFileError,
    MalformedMultipartError,
    ClientDisconnectedError,
    UnauthorizedError,
    TooLargeError,
    UnsupportedFormatError,
    NotAVideoError,
    EmptyFileError,
    CorruptVideoError,
    AudioOnlyError,
    NoVideoStreamError,
    TooLongError,
    ResolutionTooLargeError,
    ProbeTimeoutError,
    RateLimitedError,
)


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
        received = await receive_video(
            request,
            field_name=FIELD,
            max_bytes=settings.max_file_size_bytes,
            tmp_dir=services.tmp_dir,
        )
        job_id = await anyio.to_thread.run_sync(_submit, services, received, owner)
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
    log.info("upload queued", extra={"size_bytes": received.size, "seconds": round(elapsed, 3)})
    return UploadResponse(jobId=job_id)


def _submit(services: Services, received: ReceivedFile, owner: str | None) -> str:
    with services.sessions() as session:
        job = services.job_service(session).submit_upload(
            Upload(
                path=received.path,
                size=received.size,
                sha256=received.sha256,
                filename=received.filename,
            ),
            owner,
        )
        return str(job.id)


def build_router(limiter: Limiter, rate: str) -> APIRouter:
    """The upload route, rate-limited with this app's limiter (limits differ per app)."""
    router = APIRouter(prefix="/api", tags=["uploads"])
    endpoint = limiter.limit(rate)(upload) if rate.strip() else upload
    router.add_api_route(
        "/upload",
        endpoint,
        methods=["POST"],
        response_model=UploadResponse,
        responses=ERRORS,
        openapi_extra=UPLOAD_OPENAPI,
        summary="Upload a reel for analysis",
    )
    return router
