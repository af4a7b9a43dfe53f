"""Liveness, readiness and Prometheus metrics (outside `/api`: probes send no API key)."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable

import anyio
import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.responses import Response

from reels_scripter.api.deps import Services, ServicesDep
from reels_scripter.api.errors import MetricsUnauthorizedError, file_responses
from reels_scripter.api.metrics import ApiMetrics
from reels_scripter.api.schemas import HealthResponse, ReadyResponse
from reels_scripter.api.security import presented_key

log = logging.getLogger(__name__)
router = APIRouter(tags=["health"])

# A readiness probe that hangs is worse than one that fails: each check gets this long.
CHECK_TIMEOUT_SEC = 3.0


@router.get("/healthz", response_model=HealthResponse, summary="Liveness: the process serves")
def healthz() -> HealthResponse:
    return HealthResponse()


@router.get(
    "/readyz",
    response_model=ReadyResponse,
    responses={503: {"model": ReadyResponse, "description": "A dependency is down."}},
    summary="Readiness: database, broker and storage answer; a worker is alive",
)
async def readyz(services: ServicesDep) -> JSONResponse:
    """`checks.worker` is `ok` while some worker's heartbeat is fresh (embedded or separate
    workers alike); otherwise it says why not: `failed: <cause>: <why>` when the workers
    cannot start (uploads are refused meanwhile), `stale` or `missing` when none runs."""
    checks: dict[str, str] = {}
    for name, check in (
        ("database", _check_database),
        ("broker", _check_broker),
        ("storage", _check_storage),
        ("worker", _check_worker),
    ):
        checks[name] = await _run_check(name, check, services)
    ok = all(v == "ok" for v in checks.values())
    body = ReadyResponse(status="ok" if ok else "unavailable", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)


async def _run_check(name: str, check: Callable[[Services], str | None], services: Services) -> str:
    try:
        with anyio.fail_after(CHECK_TIMEOUT_SEC):
            # abandon_on_cancel: a stuck driver call must not hold the probe past its timeout
            problem = await anyio.to_thread.run_sync(check, services, abandon_on_cancel=True)
    except TimeoutError:
        log.warning("readiness check %s timed out", name)
        return "timeout"
    except Exception as exc:
        # The reason goes to the log only: it may carry hosts or URLs.
        log.warning("readiness check %s failed: %s", name, type(exc).__name__, exc_info=True)
        return "error"
    return problem or "ok"


def _check_database(services: Services) -> None:
    from reels_scripter.db import get_engine, ping

    ping(get_engine(services.settings))


def _check_broker(services: Services) -> None:
    from kombu.connection import Connection

    from reels_scripter.worker.celery_app import broker_url

    url = broker_url(services.settings)
    with Connection(url, connect_timeout=CHECK_TIMEOUT_SEC) as conn:  # type: ignore[no-untyped-call]
        conn.ensure_connection(max_retries=1, timeout=CHECK_TIMEOUT_SEC)


def _check_storage(services: Services) -> None:
    services.storage.check()


def _check_worker(services: Services) -> str | None:
    check = services.worker_health().check()
    return None if check == "ok" else check


@router.get(
    "/metrics",
    response_class=Response,
    responses=file_responses("text/plain", "Prometheus text format.", MetricsUnauthorizedError),
    summary="Prometheus metrics: jobs by state, queue depth, durations, HTTP latency",
)
def metrics(request: Request) -> Response:
    """Open without API keys. With API_KEYS set it needs `Authorization: Bearer
    <METRICS_TOKEN>` (any API key when no token is set); METRICS_TOKEN alone also closes it;
    METRICS_PUBLIC=true leaves it open (for a scrape network of your own)."""
    services: Services = request.app.state.services
    _check_metrics_access(services, request)
    registry = request.app.state.metrics
    assert isinstance(registry, ApiMetrics)
    return Response(generate_latest(registry.registry), media_type=CONTENT_TYPE_LATEST)


def _check_metrics_access(services: Services, request: Request) -> None:
    settings = services.settings
    token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
    if settings.metrics_public or (token is None and not services.api_keys.enabled):
        return
    presented = presented_key(request)
    if token is not None:
        if presented is not None and hmac.compare_digest(
            presented.encode("utf-8"), token.encode("utf-8")
        ):
            return
    elif services.api_keys.match(presented) is not None:
        return
    raise MetricsUnauthorizedError(
        detail="Send `Authorization: Bearer <METRICS_TOKEN>`.",
        headers={"WWW-Authenticate": "Bearer"},
    )
