"""The Celery app factory and the worker process. The queue carries only job ids; the job row
is the source of truth, so there is no result backend.

No app is built at import time: `create_app(settings)` builds one for given settings (the
API's enqueue, the worker, tests). `celery -A reels_scripter.worker.celery_app worker` still
works: the module attribute `app` is built from the environment on first access.

Two queues: JOB_QUEUE for new jobs and `<JOB_QUEUE>.priority` for jobs the sweeper recovers
from dead workers. Every worker reads the priority queue first, so a recovered job runs next,
ahead of any backlog. There is no beat: every worker sweeps from a thread of its own
(`worker.housekeeping`), started once its consumer is ready.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from celery import Celery
from celery.signals import (
    setup_logging,
    worker_init,
    worker_process_init,
    worker_ready,
    worker_shutdown,
)
from kombu.entity import Queue

from reels_scripter.config import Settings, get_settings
from reels_scripter.errors import AppError
from reels_scripter.jobs.tasks import ANALYZE_TASK, priority_queue, settings_of
from reels_scripter.worker import presence
from reels_scripter.worker.broker_warnings import ignore_kombu_sqlalchemy_deprecations

if TYPE_CHECKING:
    from reels_scripter.providers.registry import AIChoice
    from reels_scripter.worker.housekeeping import Housekeeping

log = logging.getLogger(__name__)

TASK_MODULES = ["reels_scripter.jobs.tasks"]

# Exit status of a worker that cannot start for a reason a restart does not fix (sysexits'
# EX_CONFIG): `serve` does not restart it. A passing problem exits with EX_TEMPFAIL.
EXIT_CONFIG = 78
EXIT_TEMPFAIL = 75

_started = False
_apps: dict[tuple[str, str], Celery] = {}
_apps_lock = threading.Lock()
_main_app: Celery | None = None
_housekeeping: Housekeeping | None = None
_sweeps = True


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
    if settings.redis_url:
        transport_options: dict[str, Any] = {
            "visibility_timeout": visibility,
            # BRPOP the queues in the order given (the priority queue first), not round robin
            "queue_order_strategy": "priority",
        }
    else:
        # kombu's SQLAlchemy transport hands these to create_engine. It has no redelivery
        # (no visibility timeout): a message taken by a killed worker is gone, and the
        # sweeper's re-queue of the stale job is what recovers it. It polls its queues in
        # turn, starting again from the first after every message it takes from the last,
        # so the priority queue is still looked at before each backlog message.
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
        # consumed in this order by every worker that names no --queues
        "task_queues": [
            Queue(priority_queue(settings), routing_key=priority_queue(settings)),  # type: ignore[no-untyped-call]
            Queue(settings.job_queue, routing_key=settings.job_queue),  # type: ignore[no-untyped-call]
        ],
        # Long tasks: ack after the work, requeue if the worker process dies, take one at a
        # time so a second job is not stuck behind a long one on a busy worker.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_soft_time_limit": settings.job_time_limit_sec,
        "task_time_limit": hard,
        "worker_hijack_root_logger": False,
        "timezone": "UTC",
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


def make_enqueue(settings: Settings, *, priority: bool = False) -> Callable[[str], None]:
    """`enqueue(job_id)` for JobService: sends the id to the broker in `settings`; with
    `priority`, to the queue every worker reads first (the sweeper's recovered jobs)."""
    queue = priority_queue(settings) if priority else settings.job_queue
    key = (broker_url(settings), queue)
    with _apps_lock:
        sender = _apps.get(key)
        if sender is None:
            sender = _apps[key] = create_app(settings)

    def enqueue(job_id: str) -> None:
        sender.send_task(ANALYZE_TASK, args=[job_id], queue=queue)

    return enqueue


def startup_checks(settings: Settings) -> None:
    """Migrate the database and fail fast on a misconfigured provider, speech model or
    storage (WorkerStartupError, with a cause and one line saying why)."""
    from sqlalchemy import exc as sa_exc

    from reels_scripter.db import upgrade_database
    from reels_scripter.providers.base import ProviderConfigError, ProviderError
    from reels_scripter.storage import StorageError, get_storage

    try:
        upgrade_database(settings)
    except sa_exc.SQLAlchemyError as exc:
        raise WorkerStartupError(
            f"the database is not usable: {type(exc).__name__}",
            cause=presence.CAUSE_DATABASE,
            transient=True,
        ) from exc
    ai = _stored_ai_choice(settings)
    try:
        ai.provider(settings).check()
    except ProviderError as exc:
        fallback = settings.ai_fallback
        outage = exc.transient and not isinstance(exc, ProviderConfigError)
        if outage and fallback and fallback != ai.name:
            # An outage, not a refusal, and jobs have a fallback: serve. The circuit opens,
            # so jobs go to the fallback at once, and its probe re-checks the provider.
            from reels_scripter.providers.circuit import circuit_for

            circuit_for(settings, ai.name).trip()
            log.warning(
                "AI provider %r is not answering (%s); starting degraded: jobs use %r until "
                "it answers again",
                ai.name,
                exc.message,
                fallback,
            )
        elif ai.source != "studio":
            raise WorkerStartupError(
                f"AI provider {ai.name!r} is not usable: {exc.message}",
                cause=presence.CAUSE_AI_PROVIDER,
                # a rejected key or an unknown model stays so; an outage may pass
                transient=not isinstance(exc, ProviderConfigError) and exc.transient,
            ) from exc
        else:
            # Connected in the studio and checked when saved: a key revoked since fails its
            # jobs with a clear reason, and the page (served by the API) replaces it.
            log.warning("the AI connected in the studio is not usable now: %s", exc.message)
    _check_speech_model(settings)
    try:
        get_storage(settings).check()
    except StorageError as exc:
        raise WorkerStartupError(
            f"storage is not usable: {exc.message}",
            cause=presence.CAUSE_STORAGE,
            transient=exc.transient,
        ) from exc
    (settings.data_dir / "tmp").mkdir(parents=True, exist_ok=True)


def _stored_ai_choice(settings: Settings) -> AIChoice:
    """The provider new jobs use (the studio's stored choice unless the environment's
    AI_PROVIDER decides); the database is migrated by now."""
    from reels_scripter.ai_settings.service import AISettingsService
    from reels_scripter.db import session_factory
    from reels_scripter.errors import AppError
    from reels_scripter.providers.registry import AIChoice

    try:
        with session_factory(settings)() as session:
            return AISettingsService(session, settings).current_choice()
    except AppError as exc:  # a stored key this server's secret cannot open: jobs say so
        log.warning("the AI settings stored in the studio cannot be read: %s", exc.message)
        return AIChoice(settings.ai_provider)


def _check_speech_model(settings: Settings) -> None:
    """WHISPER_MODEL must be a model directory, a faster-whisper model name or a Hugging Face
    repository id; unset needs the bundled model. Anything else fails every job, so refuse
    it here, at start-up, with the setting named."""
    name = settings.whisper_model
    if name:
        from pathlib import Path

        from faster_whisper.utils import available_models

        if Path(name).expanduser().is_dir() or name in available_models() or "/" in name:
            return
        raise WorkerStartupError(
            f"WHISPER_MODEL={name!r} is neither a model directory nor a faster-whisper model "
            f"name ({', '.join(available_models()[:6])}, ...)",
            cause=presence.CAUSE_SPEECH_MODEL,
        )
    from reels_scripter.analysis.speech import resolve_model

    try:
        resolve_model(None)
    except AppError as exc:
        raise WorkerStartupError(exc.message, cause=presence.CAUSE_SPEECH_MODEL) from exc


class WorkerStartupError(AppError, code="worker_unavailable", http_status=503):
    """The worker cannot start; the message says why in one line, `cause` names the part
    (`worker.presence.CAUSE_*`); `transient` when trying again later may succeed."""

    def __init__(self, message: str, *, cause: str, transient: bool = False) -> None:
        super().__init__(message, transient=transient, params={"cause": cause})
        self.cause = cause

    @property
    def exit_code(self) -> int:
        return EXIT_TEMPFAIL if self.transient else EXIT_CONFIG


def checked_start(settings: Settings, name: str | None = None) -> None:
    """`startup_checks`, with a failure recorded in the workers table (so the API can refuse
    uploads and /readyz can say why) before it is raised."""
    try:
        startup_checks(settings)
    except WorkerStartupError as exc:
        _record_failure(settings, name or presence.node_name(), exc.cause, exc.message)
        raise


def _record_failure(settings: Settings, name: str, cause: str, message: str) -> None:
    from sqlalchemy import exc as sa_exc

    from reels_scripter.db import session_factory

    try:
        with session_factory(settings)() as session:
            presence.record_failure(session, name, cause, message)
            session.commit()
    except sa_exc.SQLAlchemyError:
        log.warning("could not record the start-up failure in the database")


def _on_worker_init(sender: Any = None, **_: Any) -> None:
    # `celery -A ... worker` started directly: same checks as run_worker.
    global _started
    if _started:
        return
    app = getattr(sender, "app", None)
    try:
        checked_start(settings_of(app) if app is not None else get_settings())
    except WorkerStartupError as exc:
        log.critical("worker cannot start: %s", exc.message)
        raise SystemExit(exc.exit_code) from exc
    _started = True
    _dispose_db()


def _on_worker_ready(sender: Any = None, **_: Any) -> None:
    """The consumer is up: report this worker alive and start sweeping (main process)."""
    global _housekeeping
    from reels_scripter.worker.housekeeping import Housekeeping

    app = getattr(sender, "app", None)
    settings = settings_of(app) if app is not None else get_settings()
    name = str(getattr(sender, "hostname", None) or presence.node_name())
    from reels_scripter.worker.broker_watch import broker_watch

    watch = broker_watch(settings, [settings.job_queue, priority_queue(settings)])
    _housekeeping = Housekeeping(
        settings, name, make_enqueue(settings, priority=True), sweeps=_sweeps, broker=watch
    )
    _housekeeping.start()


def _on_worker_shutdown(**_: Any) -> None:
    global _housekeeping
    if _housekeeping is not None:
        _housekeeping.stop()
        _housekeeping = None


def _on_worker_process_init(**_: Any) -> None:
    # Pool children are forked: never share the parent's database connections. They die
    # with the worker's main process, so a killed worker leaves no analysis running.
    from reels_scripter.worker.orphans import die_with_parent

    die_with_parent()
    _dispose_db(close=False)


def _on_setup_logging(**_: Any) -> None:
    # Our format (JSON in production, job id on every line) instead of Celery's own.
    from reels_scripter.logs import configure_logging

    configure_logging(settings_of(_main_app) if _main_app is not None else get_settings())


worker_init.connect(_on_worker_init)
worker_ready.connect(_on_worker_ready)
worker_shutdown.connect(_on_worker_shutdown)
worker_process_init.connect(_on_worker_process_init)
setup_logging.connect(_on_setup_logging)


def _dispose_db(close: bool = True) -> None:
    from reels_scripter.db.engine import dispose_engines

    dispose_engines(close=close)


def run_worker(settings: Settings, *, sweep: bool = True, concurrency: int = 1) -> None:
    """Run a worker (blocking) in this process; with `sweep` (the default), it also sweeps.

    Raises WorkerStartupError before starting when the database, provider, speech model or
    storage is not usable (recorded in the workers table first). Every worker may sweep: a
    sweep is idempotent.
    """
    global _started, _main_app, _sweeps
    app = _main_app = create_app(settings, main=True)
    _sweeps = sweep
    checked_start(settings)
    _started = True
    _dispose_db()
    argv = [
        "worker",
        f"--concurrency={concurrency}",
        "--pool=prefork",
        f"--loglevel={settings.log_level}",
        # the priority queue (recovered jobs) first: see the module docstring
        f"--queues={priority_queue(settings)},{settings.job_queue}",
        "--without-gossip",
        "--without-mingle",
        f"--hostname={presence.node_name(hostname='%h')}",  # unique per process
    ]
    app.worker_main(argv)
