"""`reels-scripter serve`: the HTTP API, plus a worker when running embedded.

Embedded mode (no REDIS_URL) is the one-machine setup: SQLite database, SQLite broker and
local storage under DATA_DIR, and one command that runs everything; the worker is supervised
(`worker.supervisor`: restarted when it dies, stopped with `serve`). With REDIS_URL set the
workers are separate processes (`reels-scripter worker`, docker-compose's `worker`), so
`serve` runs only the API, and says so.
"""

from __future__ import annotations

import logging
import signal
from typing import Annotated

import typer

log = logging.getLogger("reels_scripter.serve")


def serve(
    host: Annotated[
        str | None, typer.Option(help="Interface to bind (default: HOST, i.e. 0.0.0.0).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: PORT, i.e. 3001).")] = None,
    worker: Annotated[
        bool | None,
        typer.Option(
            "--worker/--no-worker",
            help="Also run a worker process (default: only in embedded mode, no REDIS_URL).",
            show_default=False,
        ),
    ] = None,
    concurrency: Annotated[int, typer.Option(help="Embedded worker's parallel jobs.")] = 1,
    migrate: Annotated[bool, typer.Option(help="Apply database migrations first.")] = True,
) -> None:
    """Run the HTTP API (and, embedded, a worker): the whole service from one command."""
    import uvicorn

    from reels_scripter.api.app import create_app
    from reels_scripter.config import get_settings
    from reels_scripter.logs import configure_logging, service_logging_config

    settings = get_settings()
    configure_logging(settings)
    if migrate:
        from reels_scripter.db import upgrade_database

        upgrade_database(settings)
        log.info("database schema is up to date")

    run_worker = worker if worker is not None else not settings.redis_url
    embedded = None
    if run_worker:
        from reels_scripter.worker.supervisor import EmbeddedWorker

        embedded = EmbeddedWorker(settings, concurrency)
        embedded.start()
    else:
        log.info(
            "no worker in this process (REDIS_URL is set, or --no-worker): jobs wait for a "
            "separate `reels-scripter worker`; /readyz says whether one is alive"
        )

    # uvicorn restores the previous SIGTERM handler on shutdown and re-raises the signal;
    # with the default handler the process would die there and orphan the worker, so the
    # handler raises SystemExit instead and the `finally` below stops the worker.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    bind_host = host or settings.host
    bind_port = port or settings.port
    # 0.0.0.0 is where we listen, not an address a person can open
    shown = "localhost" if bind_host in ("0.0.0.0", "::") else bind_host  # noqa: S104
    log.info("Reels Scripter is up: http://%s:%s/ (the studio; API docs: /docs)", shown, bind_port)
    try:
        uvicorn.run(
            create_app(settings),
            host=bind_host,
            port=bind_port,
            log_config=service_logging_config(settings),
            # Behind Cloud Run or a proxy the client's address is in X-Forwarded-For; which
            # proxies to trust comes from FORWARDED_ALLOW_IPS (uvicorn reads it itself).
            proxy_headers=True,
            server_header=False,
            timeout_graceful_shutdown=30,
            # with the h11 parser, bound the header block while it is read; with httptools
            # (the default) api/header_limits.py answers 431 after parsing
            h11_max_incomplete_event_size=64 * 1024,
        )
    finally:
        if embedded is not None:
            embedded.stop()


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)
