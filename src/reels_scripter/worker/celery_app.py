"""The Celery app factory and the worker process. The queue carries only job ids; the job row
is the source of truth, so there is no result backend.

No app is built at import time: `create_app(settings)` builds one for given settings (the
API's enqueue, the worker, tests). `celery -A reels_scripter.worker.celery_app worker` still
works: the module attribute `app` is built from the environment on first access.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Any

from celery import Celery
from celery.signals import setup_logging, worker_init, worker_process_init

from reels_scripter.config import Settings, get_settings
from reels_scripter.errors import AppError
from reels_scripter.jobs.tasks import ANALYZE_TASK, SWEEP_TASK, settings_of
from reels_scripter.worker.broker_warnings import ignore_kombu_sqlalchemy_deprecations

log = logging.getLogger(__name__)

TASK_MODULES = ["reels_scripter.jobs.tasks"]

_started = False
_apps: dict[tuple[str, str], Celery] = {}
_apps_lock = threading.Lock()
_main_app: Celery | None = None


def broker_url(settings: Settings) -> str:
    if settings.redis_url:
        return settings.redis_url
    # No Redis: a SQLite file beside the database, through kombu's SQLAlchemy transport.
    ignore_kombu_sqlalchemy_deprecations()  # every process that uses it passes here
    return f"sqla+sqlite:///{(settings.data_dir / 'broker.db').resolve()}"


def hard_time_limit(settings: Settings) -> float:
    # Room after the soft limit for the task to record the failure and clean up.
    return settings.job_time_limit_sec + 60


def celery_config(settings: Settings) -> dict[str, Any]:
    hard = hard_time_limit(settings)
    # Redis redelivers an unacked message after the visibility timeout: it must exceed the
    # longest a task may legitimately hold it (hard limit, or a retry's countdown/ETA),
    # otherwise a second worker would start the same job while the first still runs.
    visibility = int(max(hard, settings.job_retry_backoff_max_sec) + 600)
    sweep_every = settings.sweep_interval_sec
    if settings.redis_url:
        transport_options: dict[str, Any] = {"visibility_timeout": visibility}
    else:
        # kombu's SQLAlchemy transport hands these to create_engine. It has no redelivery
        # (no visibility timeout): a message taken by a killed worker is gone, and the
        # sweeper's re-queue of the stale job is what recovers it.
        transport_options = {"connect_args": {"timeout": 30}}
    return {
        "broker_url": broker_url(settings),
        "broker_transport_options": transport_options,
        "broker_connection_retry_on_startup": True,
        "result_backend": None,
        "task_ignore_result": True,
        "task_serializer": "json",
        "accept_content": ["json"],
        "task_default_queue": settings.job_queue,
        # Long tasks: ack after the work, requeue if the worker process dies, take one at a
        # time so a second job is not stuck behind a long one on a busy worker.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_soft_time_limit": settings.job_time_limit_sec,
        "task_time_limit": hard,
        "worker_hijack_root_logger": False,
        "timezone": "UTC",
        "beat_schedule": {
            "sweep": {
                "task": SWEEP_TASK,
                "schedule": sweep_every,
                # A sweep that waited longer than its interval is superseded by the next one.
                "options": {"expires": sweep_every, "queue": settings.job_queue},
            }
        },
    }


def create_app(settings: Settings, *, main: bool = False) -> Celery:
    """A Celery app for `settings`; the job tasks read their settings from it."""
    app = Celery("reels_scripter", include=TASK_MODULES, set_as_current=main)
    app.conf.update(celery_config(settings))
    app.reels_settings = settings  # see jobs.tasks.settings_of
    return app


def __getattr__(name: str) -> Any:
    # `celery -A reels_scripter.worker.celery_app worker`: the app from the environment.
    global _main_app
    if name == "app":
        if _main_app is None:
            _main_app = create_app(get_settings(), main=True)
        return _main_app
    raise AttributeError(name)


def make_enqueue(settings: Settings) -> Callable[[str], None]:
    """`enqueue(job_id)` for JobService: sends the id to the broker in `settings`."""
    key = (broker_url(settings), settings.job_queue)
    with _apps_lock:
        sender = _apps.get(key)
        if sender is None:
            sender = _apps[key] = create_app(settings)

    def enqueue(job_id: str) -> None:
        sender.send_task(ANALYZE_TASK, args=[job_id], queue=settings.job_queue)

    return enqueue


def startup_checks(settings: Settings) -> None:
    """Migrate the database and fail fast on a misconfigured provider or storage."""
    from reels_scripter.db import upgrade_database
    from reels_scripter.providers.base import ProviderError
    from reels_scripter.providers.registry import get_provider
    from reels_scripter.storage import StorageError, get_storage

    upgrade_database(settings)
    try:
        get_provider(settings.ai_provider, settings).check()
    except ProviderError as exc:
        raise WorkerStartupError(
            f"AI provider {settings.ai_provider!r} is not usable: {exc.message}"
        ) from exc
    try:
        get_storage(settings).check()
    except StorageError as exc:
        raise WorkerStartupError(f"storage is not usable: {exc.message}") from exc
    (settings.data_dir / "tmp").mkdir(parents=True, exist_ok=True)


class WorkerStartupError(AppError):
    """The worker cannot start; the message says why in one line."""

    code = "worker_unavailable"
    http_status = 503


def _on_worker_init(sender: Any = None, **_: Any) -> None:
    # `celery -A ... worker` started directly: same checks as run_worker.
    global _started
    if _started:
        return
    app = getattr(sender, "app", None)
    try:
        startup_checks(settings_of(app) if app is not None else get_settings())
    except WorkerStartupError as exc:
        log.critical("%s", exc)
        raise SystemExit(f"error: {exc}") from exc
    _started = True
    _dispose_db()


def _on_worker_process_init(**_: Any) -> None:
    # Pool children are forked: never share the parent's database connections.
    _dispose_db(close=False)


def _on_setup_logging(**_: Any) -> None:
    # Our format (JSON in production, job id on every line) instead of Celery's own.
    from reels_scripter.logs import configure_logging

    configure_logging(settings_of(_main_app) if _main_app is not None else get_settings())


worker_init.connect(_on_worker_init)
worker_process_init.connect(_on_worker_process_init)
setup_logging.connect(_on_setup_logging)


def _dispose_db(close: bool = True) -> None:
    from reels_scripter.db.engine import dispose_engines

    dispose_engines(close=close)


def run_worker(settings: Settings, *, beat: bool = True, concurrency: int = 1) -> None:
    """Run a worker (blocking) in this process; with `beat`, also the periodic sweeper.

    Raises WorkerStartupError before starting when the database, provider or storage is not
    usable. Several workers may each run beat: a sweep is idempotent.
    """
    global _started, _main_app
    app = _main_app = create_app(settings, main=True)
    startup_checks(settings)
    _started = True
    _dispose_db()
    argv = [
        "worker",
        f"--concurrency={concurrency}",
        "--pool=prefork",
        f"--loglevel={settings.log_level}",
        f"--queues={settings.job_queue}",
        "--without-gossip",
        "--without-mingle",
        f"--hostname=reels-{os.getpid()}@%h",  # unique per process: no duplicate-node clash
    ]
    if beat:
        argv += ["--beat", f"--schedule={(settings.data_dir / 'celerybeat-schedule').resolve()}"]
    app.worker_main(argv)
