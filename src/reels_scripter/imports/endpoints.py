"""`POST /api/import`: a reel by its link. Answers like the upload (`{success, jobId, message}`).

The link is checked here (form, then every address its host resolves to: 422 before any
connection); the download is the job's first stage in the worker, never in this process. The
same per-client rate limit as uploads applies (UPLOAD_RATE_LIMIT), and the
same refusal when no worker can run the job.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import anyio.to_thread
from fastapi import Request

from reels_scripter.api.deps import OwnerDep, Services, ServicesDep
from reels_scripter.api.endpoints.uploads import JobRoute, _callback_url, _require_a_worker
from reels_scripter.api.errors import (
    ApiError,
    RateLimitedError,
    UnauthorizedError,
    WorkerUnavailableError,
    error_responses,
)
from reels_scripter.api.schemas import UploadResponse
from reels_scripter.errors import AppError
from reels_scripter.imports.errors import (
    LinkForbiddenError,
    LinkInvalidError,
    LinkUnreachableError,
)
from reels_scripter.imports.service import MAX_LINK_LENGTH, submit_import
from reels_scripter.logs import job_id_var
from reels_scripter.texts import message_text
from reels_scripter.webhooks import CallbackUrlError

log = logging.getLogger(__name__)

URL_FIELD = "url"
CALLBACK_FIELD = "callbackUrl"
MAX_BODY_BYTES = 16 * 1024


class NoLinkError(ApiError, code="no_link", http_status=422):
    """No link in the JSON body's `url` (or the form field `url`)."""


IMPORT_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            media: {
                "schema": {
                    "type": "object",
                    "required": [URL_FIELD],
                    "properties": {
                        URL_FIELD: {
                            "type": "string",
                            "format": "uri",
                            "maxLength": MAX_LINK_LENGTH,
                            "description": "A link to an Instagram Reel, a TikTok, a YouTube "
                            "Short, a VK clip, a video file or a page with an og:video.",
                        },
                        CALLBACK_FIELD: {
                            "type": "string",
                            "format": "uri",
                            "description": "Optional webhook, as for POST /api/upload.",
                        },
                    },
                }
            }
            for media in (
                "application/json",
                "application/x-www-form-urlencoded",
                "multipart/form-data",
            )
        },
    }
}

ERRORS = error_responses(
    NoLinkError,
    LinkInvalidError,
    LinkForbiddenError,
    LinkUnreachableError,
    UnauthorizedError,
    RateLimitedError,
    WorkerUnavailableError,
    CallbackUrlError,
)


async def import_link(request: Request, services: ServicesDep, owner: OwnerDep) -> UploadResponse:
    """Import a reel by its link; returns the job id to poll, as the upload does.

    The job's first stage («Скачиваем ролик») downloads the reel in the worker; then it is
    checked and analysed exactly like an upload. Errors of the download (`link_not_found`,
    `link_too_long`, `link_login_required`...) fail the job with their code.
    """
    fields = await _fields(request)
    url = str(fields.get(URL_FIELD) or "").strip()
    if not url:
        raise NoLinkError("no url in the request")
    try:
        await _require_a_worker(services)
        callback = await _callback_url(services, _text(fields.get(CALLBACK_FIELD)))
        base_url = services.settings.public_url or str(request.base_url)
        job_id = await anyio.to_thread.run_sync(_submit, services, url, owner, callback, base_url)
    except AppError as exc:
        log.info("import refused: %s", exc.code)
        raise
    job_id_var.set(job_id)
    log.info("import queued")
    return UploadResponse(jobId=job_id, message=message_text("import_accepted"))


async def _fields(request: Request) -> dict[str, Any]:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.form(max_files=0, max_fields=10)
        return {key: value for key, value in form.items() if isinstance(value, str)}
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise NoLinkError("request body too large for a link")
    try:
        data = json.loads(body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise NoLinkError("the body is not JSON") from None
    if not isinstance(data, dict):
        raise NoLinkError("the body is not a JSON object")
    return data


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _submit(
    services: Services, url: str, owner: str | None, callback_url: str | None, base_url: str
) -> str:
    with services.sessions() as session:
        job = submit_import(
            services.job_service(session),
            url,
            owner,
            callback_url=callback_url,
            public_base_url=base_url,
        )
        return str(job.id)


ROUTE = JobRoute("/import", import_link, ERRORS, IMPORT_OPENAPI, "Import a reel by its link")
