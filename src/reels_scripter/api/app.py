"""The FastAPI app factory: `create_app(settings)` builds one self-contained app instance."""

from __future__ import annotations

import logging
import time
import uuid
from pathlib import Path

from fastapi import FastAPI, Request
from slowapi import Limiter
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reels_scripter.api.deps import Services
from reels_scripter.api.endpoints import docs, exports, health, jobs, media, studio, uploads
from reels_scripter.api.errors import app_error_response, install_error_handlers
from reels_scripter.api.metrics import ApiMetrics
from reels_scripter.api.security import presented_key
from reels_scripter.api.status import CachedStatusMiddleware
from reels_scripter.config import Settings, get_settings
from reels_scripter.errors import InternalError
from reels_scripter.logs import (
    incoming_request_id,
    job_id_var,
    parse_trace,
    request_id_var,
    trace_var,
)

log = logging.getLogger(__name__)

# Temp files older than this under DATA_DIR/tmp are leftovers of a killed process.
STALE_TMP_SEC = 3600

DESCRIPTION = """
Upload a short vertical video (MP4, MOV or WebM) to `POST /api/upload`, then poll
`GET /api/status/{jobId}` (or follow `GET /api/jobs/{id}/events`) until it is `completed`.

Errors are always JSON `{"error": "<текст для пользователя>", "code": "<stable_code>"}`.
When `API_KEYS` is set, every `/api` route needs `Authorization: Bearer <key>` or `X-API-Key`
(GET routes of one job also take a short-lived `?access=` token from
`POST /api/jobs/{id}/access`, for browsers' `<img>`, `<video>` and `EventSource`).

The studio, a Russian web page for all of this, is at `/`.
"""


class ServiceMiddleware:
    """One pure-ASGI layer around every HTTP request (one `send` wrapper, not three: the
    status poll is the hot path):

    * a request id, the client's `X-Request-ID` when it sends a tame one, else a new one,
      echoed as `X-Request-ID` and stamped on every log line, with the trace of Cloud Run's
      `X-Cloud-Trace-Context` (or W3C `traceparent`) for JSON logs;
    * latency by route template (not raw path: job ids would make one series per job);
    * a JSON 500 for anything unhandled (Starlette's own handler re-raises after replying,
      which test clients and some servers treat as a crash); the traceback goes to the log.
    """

    def __init__(self, app: ASGIApp, metrics: ApiMetrics, language: str = "ru") -> None:
        self.app = app
        self.requests = metrics.requests
        self.language = language

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given_id = cloud = traceparent = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                given_id = value.decode("latin-1")
            elif name == b"x-cloud-trace-context":
                cloud = value.decode("latin-1")
            elif name == b"traceparent":
                traceparent = value.decode("latin-1")
        request_id = incoming_request_id(given_id) or uuid.uuid4().hex[:16]
        trace = parse_trace(cloud, traceparent) if cloud or traceparent else None
        rid_token = request_id_var.set(request_id)
        job_token = job_id_var.set(None)
        trace_token = trace_var.set(trace)
        id_header = (b"x-request-id", request_id.encode())
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                message["headers"] = [*message.get("headers", ()), id_header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error in %s %s", scope.get("method"), scope.get("path"))
            if response_started:
                # Headers are out; the only honest signal left is a cut connection.
                raise
            response = app_error_response(InternalError("unhandled"), self.language)
            await response(scope, receive, send_with_id)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.requests.labels(scope.get("method", ""), template, str(status)).observe(
                time.perf_counter() - started
            )
            trace_var.reset(trace_token)
            job_id_var.reset(job_token)
            request_id_var.reset(rid_token)


def rate_limit_key(request: Request) -> str:
    """Per API key when keys are on (a shared NAT is not one client), else per IP."""
    services: Services = request.app.state.services
    owner = services.api_keys.match(presented_key(request)) if services.api_keys.enabled else None
    if owner is not None:
        return owner
    return request.client.host if request.client else "unknown"


def _cors_origins(settings: Settings) -> list[str]:
    return [o.strip().rstrip("/") for o in (settings.frontend_url or "").split(",") if o.strip()]


def _clean_stale_tmp(tmp_dir: Path) -> None:
    cutoff = time.time() - STALE_TMP_SEC
    try:
        for p in tmp_dir.glob("upload-*.part"):
            try:
                if p.stat().st_mtime < cutoff:
                    p.unlink()
            except FileNotFoundError:
                continue
    except OSError:
        log.warning("could not clean %s", tmp_dir, exc_info=True)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    services = Services(settings)
    services.tmp_dir.mkdir(parents=True, exist_ok=True)
    _clean_stale_tmp(services.tmp_dir)

    app = FastAPI(
        title="Reels Scripter API",
        version="1.0.0",
        description=DESCRIPTION,
        docs_url=None,  # /docs and /redoc: endpoints/docs.py serves them without a CDN
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.services = services
    metrics = ApiMetrics(lambda: services.sessions)
    app.state.metrics = metrics

    limiter = Limiter(
        key_func=rate_limit_key,
        storage_uri=settings.redis_url or "memory://",
        # A Redis hiccup must not take uploads down: fall back to per-process counting.
        swallow_errors=True,
        in_memory_fallback_enabled=bool(settings.redis_url),
        key_prefix="reels-ratelimit",
        enabled=bool(settings.upload_rate_limit.strip()),
    )
    app.state.limiter = limiter

    install_error_handlers(app)
    # status polls answered from the cache never reach the router (see api/status.py)
    app.add_middleware(CachedStatusMiddleware, services=services)
    # around it: request ids, metrics, JSON 500s; CORS (added below, outside) decorates all
    app.add_middleware(ServiceMiddleware, metrics=metrics, language=settings.target_language)
    app.include_router(uploads.build_router(limiter, settings.upload_rate_limit))
    app.include_router(jobs.router)
    app.include_router(health.router)
    # the studio (page at /), its exports and the video stream, and offline API docs
    for router in (studio.router, exports.router, media.router, docs.router):
        app.include_router(router)

    origins = _cors_origins(settings)
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_credentials=True,  # as the seed's cors({credentials: true})
            allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "X-API-Key", "Content-Type", "Last-Event-ID"],
            expose_headers=["Retry-After", "X-Request-ID", "Content-Disposition"],
            max_age=600,
        )
    elif not settings.is_production:
        # The seed allowed every origin when FRONTEND_URL was unset; keep that for
        # development, but without credentials, and never silently in production.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=["*"],
            allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
            allow_headers=["*"],
            expose_headers=["Retry-After", "X-Request-ID", "Content-Disposition"],
        )
    else:
        log.warning("FRONTEND_URL is not set: browsers on other origins cannot call the API")
    return app


def app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory reels_scripter.api.app:app_from_env` (multi-worker)."""
    from reels_scripter.logs import configure_logging

    settings = get_settings()
    configure_logging(settings)
    return create_app(settings)
