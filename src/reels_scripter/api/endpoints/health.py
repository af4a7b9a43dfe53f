"""Liveness, readiness and Prometheus metrics (outside `/api`: probes send no API key)."""

from __future__ import annotations

import logging
from collections.abc import Callable

import anyio
import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.responses import Response

from reels_scripter.api.deps import Services, ServicesDep
from reels_scripter.api.metrics import ApiMetrics
from reels_scripter.api.schemas import HealthResponse, ReadyResponse

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
    summary="Readiness: database, broker and storage answer",
)
async def readyz(services: ServicesDep) -> JSONResponse:
    checks: dict[str, str] = {}
    for name, check in (
        ("database", _check_database),
        ("broker", _check_broker),
        ("storage", _check_storage),
    ):
        checks[name] = await _run_check(name, check, services)
    ok = all(v == "ok" for v in checks.values())
    body = ReadyResponse(status="ok" if ok else "unavailable", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)


async def _run_check(name: str, check: Callable[[Services], None], services: Services) -> str:
    try:
        with anyio.fail_after(CHECK_TIMEOUT_SEC):
            # abandon_on_cancel: a stuck driver call must not hold the probe past its timeout
            await anyio.to_thread.run_sync(check, services, abandon_on_cancel=True)
    except TimeoutError:
        log.warning("readiness check %s timed out", name)
        return "timeout"
    except Exception as exc:
        # The reason goes to the log only: it may carry hosts or URLs.
        log.warning("readiness check %s failed: %s", name, type(exc).__name__, exc_info=True)
        return "error"
    return "ok"


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


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format."}},
    summary="Prometheus metrics: jobs by state, queue depth, durations, HTTP latency",
)
def metrics(request: Request) -> Response:
    registry = request.app.state.metrics
    assert isinstance(registry, ApiMetrics)
    return Response(generate_latest(registry.registry), media_type=CONTENT_TYPE_LATEST)
