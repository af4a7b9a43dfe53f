"""The Celery tasks: thin bindings of the job runner and the sweeper.

Declared with `shared_task`, so they attach to whatever Celery app the process builds (the
worker's, from `worker.celery_app.create_app`) and this package never imports the worker.
The settings come from that app (`settings_of`); the queue carries only job ids.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery, Task, shared_task
from celery.exceptions import Retry
from sqlalchemy import exc as sa_exc

from reels_scripter.config import Settings, get_settings
from reels_scripter.db.engine import session_factory
from reels_scripter.jobs.failures import backoff_seconds
from reels_scripter.jobs.repository import JobRepository
from reels_scripter.jobs.runner import run_job
from reels_scripter.jobs.sweeper import sweep
from reels_scripter.logs import bind_job_id

log = logging.getLogger(__name__)

ANALYZE_TASK = "reels_scripter.analyze_job"
# Kept for a beat scheduler of an older deployment still sending it; workers sweep by
# themselves now (worker.housekeeping), so nothing here schedules it.
SWEEP_TASK = "reels_scripter.sweep"


def priority_queue(settings: Settings) -> str:
    """The queue of recovered jobs, read before JOB_QUEUE by every worker."""
    return f"{settings.job_queue}.priority"


def settings_of(app: Celery) -> Settings:
    """The settings the app was built with (`create_app` puts them on it), else the env's."""
    settings = getattr(app, "reels_settings", None)
    return settings if isinstance(settings, Settings) else get_settings()


@shared_task(bind=True, name=ANALYZE_TASK, max_retries=None, acks_late=True)  # type: ignore[untyped-decorator]
def analyze_job(self: Task[Any, Any], job_id: str) -> str:
    settings = settings_of(self.app)
    try:
        with bind_job_id(job_id):
            outcome = run_job(job_id, settings, worker=self.request.hostname)
    except (sa_exc.OperationalError, sa_exc.InterfaceError, ConnectionError) as exc:
        # Could not even claim: nothing recorded; try the whole task again later.
        countdown = backoff_seconds(self.request.retries + 1, settings)
        raise self.retry(exc=exc, countdown=countdown) from exc
    if outcome.status == "retry":
        try:
            raise self.retry(countdown=outcome.countdown)
        except Retry:
            raise
        except Exception as exc:  # the retry could not be published: the broker is down
            _mark_unsent(settings, job_id)
            log.warning("job %s: retry not queued (%s); the next sweep sends it", job_id, exc)
            return "unsent"
    return outcome.status


def _mark_unsent(settings: Settings, job_id: str) -> None:
    with session_factory(settings)() as session:
        JobRepository(session).mark_unsent(job_id)
        session.commit()


@shared_task(bind=True, name=SWEEP_TASK, ignore_result=True)  # type: ignore[untyped-decorator]
def sweep_task(self: Task[Any, Any]) -> dict[str, int]:
    settings = settings_of(self.app)

    def enqueue(job_id: str) -> None:
        self.app.send_task(ANALYZE_TASK, args=[job_id], queue=priority_queue(settings))

    report = sweep(settings, enqueue)
    return {
        "requeued": len(report.requeued),
        "failed": len(report.failed),
        "reenqueued": len(report.reenqueued),
        "deleted_objects": len(report.deleted_objects),
        "deleted_temp_files": len(report.deleted_temp_files),
    }
