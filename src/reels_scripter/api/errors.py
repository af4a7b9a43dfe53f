"""Every error leaves the API as JSON `{"error": <text for people>, "code": <stable code>}`.

One handler serves every `AppError` (the analysis, provider, storage, job and HTTP errors all
derive from it): the status comes from the error class, the person-facing text from
`reels_scripter.texts` in the target language, the code from the class. Front ends written for
the seed show `error`; scripts branch on `code`, which never changes once published. The OpenAPI
error responses are generated from the same classes (`error_responses`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from slowapi.errors import RateLimitExceeded
from starlette.exceptions import HTTPException as StarletteHTTPException

from reels_scripter.analysis.errors import InputError
from reels_scripter.errors import AppError

# raised by the renderer itself; re-exported beside the HTTP layer's own errors for OpenAPI
from reels_scripter.render.subtitles import NoSubtitlesError as NoSubtitlesError
from reels_scripter.render.subtitles import NoTranslationError as NoTranslationError
from reels_scripter.texts import describe, error_text, status_code_name

log = logging.getLogger(__name__)


class ErrorBody(BaseModel):
    """The shape of every error response."""

    error: str = Field(description="What went wrong, for people, in the target language.")
    code: str = Field(description="Stable machine code; never changes once published.")
    detail: Any | None = Field(None, description="Technical detail (English), when useful.")


class ApiError(AppError, http_status=400):
    """An error only the HTTP layer raises. Subclasses fix the code and status."""

    def __init__(
        self,
        message: str = "",
        *,
        detail: Any | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message or (type(self).__doc__ or self.code).strip(), params=params)
        self.detail = detail
        self.headers = dict(headers) if headers is not None else None


class NoFileError(ApiError, code="no_file"):
    """No file in the `video` field."""


class MalformedMultipartError(ApiError, code="malformed_multipart"):
    """The multipart body is malformed or cut short."""


class ClientDisconnectedError(ApiError, code="client_disconnected"):
    """The client went away during the upload."""


class UnauthorizedError(ApiError, code="unauthorized", http_status=401):
    """API keys are on and no valid key was sent."""


class JobNotFoundError(ApiError, code="job_not_found", http_status=404):
    """No such job (or it belongs to another API key)."""


class KeyframeNotFoundError(ApiError, code="keyframe_not_found", http_status=404):
    """The job has no such keyframe (or it was removed from storage)."""


class NotCompletedError(ApiError, code="not_completed", http_status=409):
    """The job has not completed, so it has nothing to export yet."""


class ScriptVersionNotFoundError(ApiError, code="script_version_not_found", http_status=404):
    """The job's script has no such version."""


class NotFoundError(ApiError, code="not_found", http_status=404):
    """No such file."""


class VideoGoneError(ApiError, code="video_gone", http_status=410):
    """The uploaded video is no longer stored (it is kept for VIDEO_RETENTION_HOURS)."""


class RangeNotSatisfiableError(ApiError, code="range_not_satisfiable", http_status=416):
    """The requested byte range lies outside the file."""


class HeadersTooLargeError(ApiError, code="headers_too_large", http_status=431):
    """The request's headers are too many or too large."""


class InvalidAccessTokenError(ApiError, code="invalid_access_token", http_status=401):
    """The `?access=` token is malformed or was not made by this service."""


class ExpiredAccessTokenError(InvalidAccessTokenError, code="access_token_expired"):
    """The `?access=` token has expired."""


class ReadOnlyAccessTokenError(InvalidAccessTokenError, code="access_token_read_only"):
    """An `?access=` token only reads one job."""


class RateLimitedError(ApiError, code="rate_limited", http_status=429):
    """Too many requests from this client."""


class TooManyUploadsError(ApiError, code="too_many_uploads", http_status=503, transient=True):
    """This API process is receiving as many uploads as it may (MAX_CONCURRENT_UPLOADS)."""


class WorkerUnavailableError(ApiError, code="worker_unavailable", http_status=503, transient=True):
    """No worker can run jobs: the workers could not start (the reason is given); no job is
    accepted until one can."""


class MetricsUnauthorizedError(ApiError, code="unauthorized", http_status=401):
    """/metrics needs `Authorization: Bearer <METRICS_TOKEN>` (or an API key)."""


def error_responses(*errors: type[AppError]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these error classes: one entry per status, listing the codes."""
    by_status: dict[int, list[type[AppError]]] = {}
    for cls in errors:
        by_status.setdefault(cls.http_status, []).append(cls)
    out: dict[int | str, dict[str, Any]] = {}
    for status, classes in sorted(by_status.items()):
        lines = [
            f"`{c.code}`: {(c.__doc__ or '').strip().splitlines()[0]}" if c.__doc__ else c.code
            for c in classes
        ]
        out[status] = {
            "model": ErrorBody,
            "description": "; ".join(dict.fromkeys(lines)),
            "content": {
                "application/json": {
                    "example": {"error": error_text(classes[0].code), "code": classes[0].code}
                }
            },
        }
    return out


def file_responses(
    media_type: str, description: str, *errors: type[AppError]
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` of a route that answers a file of `media_type` (200) or one of
    `errors`."""
    ok = {"content": {media_type: {}}, "description": description}
    return {**error_responses(*errors), 200: ok}


def error_response(
    status_code: int,
    code: str,
    message: str,
    detail: Any | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"error": message, "code": code}
    if detail is not None:
        body["detail"] = detail
    return JSONResponse(
        jsonable_encoder(body),
        status_code=status_code,
        headers=dict(headers) if headers is not None else None,
    )


def _language(request: Request) -> str:
    services = getattr(request.app.state, "services", None)
    return str(getattr(getattr(services, "settings", None), "target_language", "ru"))


def app_error_response(exc: AppError, language: str) -> JSONResponse:
    """The response for any AppError: status and code from the class, text from `texts`."""
    if exc.http_status >= 500:
        log.warning("%s: %s", exc.code, exc.message)
    detail: Any | None = None
    headers: Mapping[str, str] | None = None
    if isinstance(exc, ApiError):
        detail, headers = exc.detail, exc.headers
    elif isinstance(exc, InputError):
        # The English explanation of bad input (which limit, which format) helps developers;
        # a server-side error's text may name paths or models, so it stays in the log.
        detail = exc.message
    return error_response(exc.http_status, exc.code, describe(exc, language), detail, headers)


async def _app_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return app_error_response(exc, _language(request))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = status_code_name(exc.status_code)
    text = error_text(code, _language(request), http_status=exc.status_code)
    headers = exc.headers
    if exc.status_code == 405:
        # Starlette's Allow names only the first route that matched the path; a path served
        # by several routes (GET and DELETE /api/jobs/{id}) allows the methods of them all.
        headers = {**(headers or {}), "Allow": ", ".join(allowed_methods(request))}
    return error_response(exc.status_code, code, text, headers=headers)


_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of this app serves at the request's path: each is tried
    against the router (routes may be nested in included routers), none is guessed."""
    from starlette.routing import Match

    routes = request.app.router.routes
    return [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes
        )
    ]


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # Only where and why: echoing `input` back could reflect arbitrary bytes.
    detail = [
        {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type")}
        for e in exc.errors()
    ]
    text = error_text("validation_error", _language(request))
    return error_response(422, "validation_error", text, detail)


async def _rate_limited(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RateLimitExceeded)
    retry_after = "60"
    limit = getattr(exc, "limit", None)
    if limit is not None:
        retry_after = str(limit.limit.get_expiry())
    error = RateLimitedError(detail=f"limit: {exc.detail}", headers={"Retry-After": retry_after})
    return app_error_response(error, _language(request))


def install_error_handlers(app: FastAPI) -> None:
    """The handlers; a JSON 500 for anything unhandled is `middleware.ServiceMiddleware`'s."""
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(RateLimitExceeded, _rate_limited)
