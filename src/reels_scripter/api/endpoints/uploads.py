"""`POST /api/upload`: the seed's upload, streamed to disk, then handed to the job service.

Before a byte of the body is read, the upload must find a free slot (MAX_CONCURRENT_UPLOADS
per process, else 503 with Retry-After) and a worker able to run it (else 503
`worker_unavailable`, with the reason). While it is read, a client that goes quiet for
UPLOAD_IDLE_TIMEOUT_SEC or runs past UPLOAD_DEADLINE_SEC is cut off with 408; the temp file
goes in every case.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Request
from slowapi import Limiter
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import ClientDisconnect

from reels_scripter.analysis.errors import INPUT_ERRORS
from reels_scripter.api.deps import OwnerDep, Services, ServicesDep
from reels_scripter.api.errors import (
    ClientDisconnectedError,
    MalformedMultipartError,
    NoFileError,
    RateLimitedError,
    TooManyUploadsError,
    UnauthorizedError,
    WorkerUnavailableError,
    error_responses,
)
from reels_scripter.api.metrics import ApiMetrics
from reels_scripter.api.multipart import ReceivedFile, UploadTimeoutError
from reels_scripter.api.schemas import UploadResponse
from reels_scripter.api.upload_stream import receive_video
from reels_scripter.errors import AppError
from reels_scripter.jobs.service import Upload
from reels_scripter.logs import api_keys_of, job_id_var, redact
from reels_scripter.webhooks import CallbackUrlError, validate_callback_url

log = logging.getLogger(__name__)

FIELD = "video"
CALLBACK_FIELD = "callbackUrl"
# What a refused upload's Retry-After says: uploads in flight end within seconds to minutes.
RETRY_AFTER_SEC = 10

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
                        },
                        CALLBACK_FIELD: {
                            "type": "string",
                            "format": "uri",
                            "maxLength": 2048,
                            "description": "Optional: POST a signed webhook here when the job "
                            "completes or fails (default: WEBHOOK_URL). http(s) to public "
                            "addresses only, unless WEBHOOK_ALLOW_PRIVATE=true.",
                        },
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
    *INPUT_ERRORS,  # everything the probe refuses a file for
    RateLimitedError,
    UploadTimeoutError,
    TooManyUploadsError,
    WorkerUnavailableError,
    CallbackUrlError,
)


async def upload(request: Request, services: ServicesDep, owner: OwnerDep) -> UploadResponse:
    """Upload a reel in the multipart field `video`; returns the job id to poll.

    The file is checked by content before it is queued, so bad input is refused here with
    a precise code rather than failing later in the worker. Optional field `callbackUrl`:
    where to POST a signed notification when the job ends (default: WEBHOOK_URL).
    """
    metrics: ApiMetrics = request.app.state.metrics
    settings = services.settings
    if services.uploads_in_flight >= settings.max_concurrent_uploads:
        metrics.uploads.labels(TooManyUploadsError.code).inc()
        raise TooManyUploadsError(
            detail=f"{settings.max_concurrent_uploads} uploads are being received already.",
            headers={"Retry-After": str(RETRY_AFTER_SEC)},
            params={"retry_after": RETRY_AFTER_SEC},
        )
    services.uploads_in_flight += 1
    try:
        return await _receive_and_submit(request, services, owner, metrics)
    finally:
        services.uploads_in_flight -= 1


async def _receive_and_submit(
    request: Request, services: Services, owner: str | None, metrics: ApiMetrics
) -> UploadResponse:
    settings = services.settings
    started = time.perf_counter()
    received: ReceivedFile | None = None
    try:
        await _require_a_worker(services)
        received = await receive_video(
            request,
            field_name=FIELD,
            max_bytes=settings.max_file_size_bytes,
            tmp_dir=services.tmp_dir,
            idle_timeout=settings.upload_idle_timeout_sec,
            deadline=settings.upload_deadline_sec,
        )
        callback = await _callback_url(services, received.fields.get(CALLBACK_FIELD))
        base_url = settings.public_url or str(request.base_url)
        job_id = await anyio.to_thread.run_sync(
            _submit, services, received, owner, callback, base_url
        )
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


async def _require_a_worker(services: Services) -> None:
    """Refuse the upload (503) when the workers cannot start: the job would never run."""
    try:
        health = await anyio.to_thread.run_sync(services.worker_health)
    except SQLAlchemyError as exc:
        # the upload's own writes will meet the same problem and say so; this is no reason
        log.warning("worker health unknown: %s", type(exc).__name__)
        return
    if health.can_run_jobs or health.failure is None:
        return
    failure = health.failure
    raise WorkerUnavailableError(
        failure.error,
        detail=_redacted(services, f"{failure.cause}: {failure.error}"),
        headers={"Retry-After": "60"},
        params={"cause": failure.cause},
    )


def _redacted(services: Services, text: str) -> str:
    """The workers' one-line reason, as shown to clients: no configured secret in it."""
    # Provider keys are remembered when their options are read (`logs.remember_secret`).
    return redact(text, api_keys_of(services.settings))


async def _callback_url(services: Services, given: str | None) -> str | None:
    """The job's webhook: the form's `callbackUrl` (checked now: 422 when refused), else
    WEBHOOK_URL (the operator's; checked before every delivery)."""
    settings = services.settings
    if given is None or not given.strip():
        return settings.webhook_url or None
    url = given.strip()
    # DNS may block: in a thread. The check runs again before every delivery attempt.
    await anyio.to_thread.run_sync(
        lambda: validate_callback_url(url, allow_private=settings.webhook_allow_private)
    )
    return url


def _submit(
    services: Services,
    received: ReceivedFile,
    owner: str | None,
    callback_url: str | None,
    base_url: str,
) -> str:
    with services.sessions() as session:
        job = services.job_service(session).submit_upload(
            Upload(
                path=received.path,
                size=received.size,
                sha256=received.sha256,
                filename=received.filename,
            ),
            owner,
            callback_url=callback_url,
            public_base_url=base_url,
        )
        return str(job.id)


@dataclass(frozen=True)
class JobRoute:
    """A `POST /api/...` route that accepts a job (the upload, the import), answered with
    `UploadResponse`."""

    path: str
    endpoint: Callable[..., Awaitable[UploadResponse]]
    responses: dict[int | str, dict[str, Any]]
    openapi_extra: dict[str, Any]
    summary: str

    def router(self, limiter: Limiter, rate: str) -> APIRouter:
        """The route, rate-limited per client with this app's limiter (limits differ per
        app) unless `rate` is empty."""
        router = APIRouter(prefix="/api", tags=["uploads"])
        router.add_api_route(
            self.path,
            limiter.limit(rate)(self.endpoint) if rate.strip() else self.endpoint,
            methods=["POST"],
            response_model=UploadResponse,
            responses=self.responses,
            openapi_extra=self.openapi_extra,
            summary=self.summary,
        )
        return router


ROUTE = JobRoute("/upload", upload, ERRORS, UPLOAD_OPENAPI, "Upload a reel for analysis")
