"""Every error leaves the API as JSON `{"error": <Russian text>, "code": <stable code>}`.

Front ends written for the seed show `error` to the user, so it is always Russian and never
a traceback; scripts branch on `code`, which never changes once published.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from slowapi.errors import RateLimitExceeded
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reels_scripter.analysis.errors import AnalysisError, InputError

log = logging.getLogger(__name__)

# The probe's messages are English (they are shared with the CLI); the API speaks Russian
# like the seed, so each stable code gets a fixed Russian text and the probe's English
# explanation travels along in `detail`.
INPUT_MESSAGES: dict[str, str] = {
    "empty_file": "Файл пустой",
    "not_a_video": "Файл не является видео. Загрузите MP4, MOV или WebM",
    "unsupported_format": "Неподдерживаемый формат видео. Загрузите MP4, MOV или WebM",
    "audio_only": "В файле только звук, без видео",
    "no_video_stream": "В файле нет видеодорожки",
    "corrupt_video": "Видеофайл повреждён или загружен не полностью",
    "too_long": "Видео слишком длинное",
    "too_large": "Файл слишком большой",
    "resolution_too_large": "Слишком большое разрешение видео",
    "probe_timeout": "Не удалось проверить видео за отведённое время",
    "invalid_video": "Не удалось прочитать видео",
}

STATUS_MESSAGES: dict[int, tuple[str, str]] = {
    400: ("Некорректный запрос", "bad_request"),
    401: ("Требуется API-ключ", "unauthorized"),
    403: ("Доступ запрещён", "forbidden"),
    404: ("Не найдено", "not_found"),
    405: ("Метод не поддерживается", "method_not_allowed"),
    406: ("Неприемлемый формат ответа", "not_acceptable"),
    409: ("Конфликт состояния", "conflict"),
    411: ("Требуется заголовок Content-Length", "length_required"),
    413: ("Запрос слишком большой", "too_large"),
    415: ("Неподдерживаемый тип содержимого", "unsupported_media_type"),
    422: ("Некорректные данные запроса", "validation_error"),
    429: ("Слишком много запросов, попробуйте позже", "rate_limited"),
    500: ("Внутренняя ошибка сервера", "internal_error"),
    503: ("Сервис временно недоступен", "unavailable"),
}


class ErrorBody(BaseModel):
    """The shape of every error response (documented in OpenAPI)."""

    error: str
    code: str
    detail: Any | None = None


class ApiError(Exception):
    """An expected failure with a status, a stable code and a Russian message."""

    def __init__(
        self,
        status_code: int,
        code: str,
        message: str,
        *,
        detail: Any | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.detail = detail
        self.headers = headers


def not_found(message: str = "Задача не найдена") -> ApiError:
    return ApiError(404, "job_not_found", message)


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


def input_error_response(exc: AnalysisError) -> JSONResponse:
    status = exc.http_status if isinstance(exc, InputError) else 500
    message = INPUT_MESSAGES.get(exc.code)
    if message is None:
        message = STATUS_MESSAGES.get(status, STATUS_MESSAGES[500])[0]
    # A server-side analysis error's text may name paths or models: keep it out of the reply.
    detail = exc.message if isinstance(exc, InputError) else None
    return error_response(status, exc.code, message, detail)


async def _api_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status_code, exc.code, exc.message, exc.detail, exc.headers)


async def _analysis_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AnalysisError)
    return input_error_response(exc)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    message, code = STATUS_MESSAGES.get(exc.status_code, (str(exc.detail), "http_error"))
    return error_response(exc.status_code, code, message, headers=exc.headers)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # Only where and why: echoing `input` back could reflect arbitrary bytes.
    detail = [
        {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type")}
        for e in exc.errors()
    ]
    return error_response(422, "validation_error", STATUS_MESSAGES[422][0], detail)


async def _rate_limited(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RateLimitExceeded)
    retry_after = "60"
    limit = getattr(exc, "limit", None)
    if limit is not None:
        retry_after = str(limit.limit.get_expiry())
    return error_response(
        429,
        "rate_limited",
        STATUS_MESSAGES[429][0],
        detail=f"limit: {exc.detail}",
        headers={"Retry-After": retry_after},
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(AnalysisError, _analysis_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(RateLimitExceeded, _rate_limited)
    app.add_middleware(CatchAllMiddleware)


class CatchAllMiddleware:
    """Turns any unhandled exception into a 500 JSON body and logs the traceback here only.

    Starlette's own `Exception` handler re-raises after replying, which makes test clients
    (and some servers) treat the request as crashed; this one answers and swallows.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, guarded_send)
        except Exception:
            log.exception("unhandled error in %s %s", scope.get("method"), scope.get("path"))
            if started:
                # Headers are out; the only honest signal left is a cut connection.
                raise
            message, code = STATUS_MESSAGES[500]
            await error_response(500, code, message)(scope, receive, send)
