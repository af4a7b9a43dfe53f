"""The FastAPI app factory: `create_app(settings)` builds one self-contained app instance."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from fastapi import FastAPI, Request
from slowapi import Limiter
from starlette.middleware.cors import CORSMiddleware

from reels_scripter.ai_settings import endpoints as ai_settings_endpoints
from reels_scripter.api.deps import Services
from reels_scripter.api.endpoints import docs, exports, health, jobs, media, script, studio, uploads
from reels_scripter.api.errors import install_error_handlers
from reels_scripter.api.header_limits import HeaderLimitMiddleware
from reels_scripter.api.metrics import ApiMetrics
from reels_scripter.api.middleware import ServiceMiddleware
from reels_scripter.api.security import presented_key
from reels_scripter.api.status import CachedStatusMiddleware
from reels_scripter.config import Settings, get_settings
from reels_scripter.imports import endpoints as import_endpoints
from reels_scripter.providers.registry import remember_secrets
from reels_scripter.shares import endpoints as share_endpoints

log = logging.getLogger(__name__)

# Temp files older than this under DATA_DIR/tmp are leftovers of a killed process.
STALE_TMP_SEC = 3600

DESCRIPTION = """
Upload a short vertical video (MP4, MOV or WebM) to `POST /api/upload`, then poll
`GET /api/status/{jobId}` (or follow `GET /api/jobs/{id}/events`) until it is `completed`.

Errors are always JSON `{"error": "<a text for the person, in Russian>", "code": "<stable_code>"}`.
When `API_KEYS` is set, every `/api` route needs `Authorization: Bearer <key>` or `X-API-Key`
(GET routes of one job also take a short-lived `?access=` token from
`POST /api/jobs/{id}/access`, for browsers' `<img>`, `<video>` and `EventSource`).

The studio, a Russian web page for all of this, is at `/`.
"""


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
    remember_secrets(settings)  # provider keys hidden from logs and quoted worker reasons
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
    # the upload and the import: each limited per client at UPLOAD_RATE_LIMIT
    for job_route in (uploads.ROUTE, import_endpoints.ROUTE):
        app.include_router(job_route.router(limiter, settings.upload_rate_limit))
    app.include_router(jobs.router)
    app.include_router(share_endpoints.router)
    app.include_router(health.router)
    app.include_router(ai_settings_endpoints.router)
    # the studio (page at /), its exports, the editable script, the video stream, API docs
    for router in (studio.router, exports.router, script.router, media.router, docs.router):
        app.include_router(router)

    origins = _cors_origins(settings)
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_credentials=True,  # as the seed's cors({credentials: true})
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
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
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=["*"],
            expose_headers=["Retry-After", "X-Request-ID", "Content-Disposition"],
        )
    else:
        log.warning("FRONTEND_URL is not set: browsers on other origins cannot call the API")
    # outermost: a request with oversized headers reaches nothing else (431)
    app.add_middleware(HeaderLimitMiddleware, language=settings.target_language)
    return app


def app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory reels_scripter.api.app:app_from_env` (multi-worker)."""
    from reels_scripter.logs import configure_logging

    settings = get_settings()
    configure_logging(settings)
    return create_app(settings)
