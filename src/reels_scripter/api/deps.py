"""Shared services of one app instance and the `Annotated` dependency aliases over them.

Services are built lazily on first use rather than in a lifespan hook: the app then works the
same under uvicorn, under httpx's ASGITransport (which runs no lifespan) and in schemathesis.
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Callable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import anyio.to_thread
from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import HTTPConnection

from reels_scripter.api.errors import JobNotFoundError, NotCompletedError
from reels_scripter.api.security import ApiKeys
from reels_scripter.api.signed_urls import UrlSigner, owner_from_access_token, signing_secret
from reels_scripter.api.status import StatusReader
from reels_scripter.config import Settings
from reels_scripter.logs import api_keys_of, job_id_var

if TYPE_CHECKING:
    from reels_scripter.contract import AnalysisResult
    from reels_scripter.jobs.models import Job
    from reels_scripter.jobs.script_service import ScriptService
    from reels_scripter.jobs.service import JobService
    from reels_scripter.storage import Storage
    from reels_scripter.worker.presence import WorkerHealth

# How long an API process trusts what it last read about the workers (upload gate, /readyz).
WORKER_HEALTH_TTL_SEC = 2.0


class Services:
    """Per-app singletons: settings, DB sessions, storage, API keys."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._worker_health: tuple[float, WorkerHealth] | None = None
        # uploads this process is receiving now (MAX_CONCURRENT_UPLOADS); only touched on
        # the event loop, so a plain counter needs no lock
        self.uploads_in_flight = 0

    @cached_property
    def api_keys(self) -> ApiKeys:
        return ApiKeys(api_keys_of(self.settings))

    @cached_property
    def url_signer(self) -> UrlSigner:
        return UrlSigner(signing_secret(self.settings))

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        from reels_scripter.db import session_factory

        with self._lock:
            return session_factory(self.settings)

    @cached_property
    def storage(self) -> Storage:
        from reels_scripter.storage import get_storage

        with self._lock:
            return get_storage(self.settings)

    @property
    def tmp_dir(self) -> Path:
        return self.settings.data_dir / "tmp"

    @cached_property
    def status_reader(self) -> StatusReader:
        from reels_scripter.db import get_engine
        from reels_scripter.jobs.repository import StatusQuery

        with self._lock:
            return StatusReader(
                StatusQuery(get_engine(self.settings)),
                self.settings.target_language,
                self.settings.status_cache_sec,
            )

    @cached_property
    def enqueue(self) -> Callable[[str], None]:
        from reels_scripter.worker.celery_app import make_enqueue

        with self._lock:
            return make_enqueue(self.settings)

    def job_service(self, session: Session) -> JobService:
        from reels_scripter.jobs.service import JobService

        return JobService(session, self.storage, self.settings, enqueue=self.enqueue)

    def script_service(self, session: Session) -> ScriptService:
        from reels_scripter.jobs.script_service import ScriptService

        return ScriptService(session, self.settings)

    def owner_of(self, request: HTTPConnection) -> str | None:
        """Who is calling: the hashed API key when keys are on, None (everyone) when off.

        A browser's EventSource, <img> and <video> cannot send the key: for them a signed
        `?access=` token of one job stands in for it (see signed_urls).
        """
        if self.api_keys.enabled:
            signed, owner = owner_from_access_token(request, self.url_signer)
            if signed:
                return owner
        return self.api_keys.owner_for(request)

    def worker_health(self) -> WorkerHealth:
        """What the workers table says, read at most once per WORKER_HEALTH_TTL_SEC.
        Blocking (a query): call it from a worker thread."""
        now = time.monotonic()
        cached = self._worker_health
        if cached is not None and cached[0] > now:
            return cached[1]
        from reels_scripter.worker import presence

        with self.sessions() as session:
            health = presence.health(session, self.settings.heartbeat_stale_sec)
        self._worker_health = (now + WORKER_HEALTH_TTL_SEC, health)
        return health


# The dependencies below are `async def` although they do no I/O: FastAPI runs a plain `def`
# dependency in the threadpool, and four thread hops per status call cost more than the
# database query itself.


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_settings(services: ServicesDep) -> Settings:
    return services.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_owner(request: Request, services: ServicesDep) -> str | None:
    """Who is calling (see `Services.owner_of`)."""
    return services.owner_of(request)


OwnerDep = Annotated[str | None, Depends(get_owner)]


async def get_session(services: ServicesDep) -> AsyncIterator[Session]:
    # Creating a Session opens no connection (that happens on the first query, in the
    # endpoint's thread). Closing a used one rolls back on its connection, which is I/O,
    # so that goes to a thread too.
    session = services.sessions()
    try:
        yield session
    finally:
        if session.in_transaction():
            await anyio.to_thread.run_sync(session.close)
        else:
            session.close()


SessionDep = Annotated[Session, Depends(get_session)]


async def get_job_service(services: ServicesDep, session: SessionDep) -> JobService:
    return services.job_service(session)


async def get_script_service(services: ServicesDep, session: SessionDep) -> ScriptService:
    return services.script_service(session)


if TYPE_CHECKING:
    JobServiceDep = Annotated[JobService, Depends(get_job_service)]
    ScriptServiceDep = Annotated[ScriptService, Depends(get_script_service)]
else:  # the jobs package is imported lazily; FastAPI only needs the dependency here
    JobServiceDep = Annotated[Any, Depends(get_job_service)]
    ScriptServiceDep = Annotated[Any, Depends(get_script_service)]


def bind_job(job_id: str) -> None:
    """Tag the rest of this request's log lines with the job id from the path."""
    job_id_var.set(job_id)


def get_owned_job(job_id: str, jobs: JobServiceDep, owner: OwnerDep) -> Job:
    """The path's job when the caller owns it; 404 otherwise (another owner's job does not
    exist for this caller). Every `/api/jobs/{job_id}/...` route takes its job from here, so
    none can forget the owner check. A plain `def`: the query runs in the threadpool."""

    bind_job(job_id)
    job = jobs.get(job_id, owner)
    if job is None:
        raise JobNotFoundError()
    return job


if TYPE_CHECKING:
    OwnedJobDep = Annotated[Job, Depends(get_owned_job)]
else:
    OwnedJobDep = Annotated[Any, Depends(get_owned_job)]


def get_completed_job(job: OwnedJobDep) -> Job:
    """The owned job once it has its result; 409 while it is not completed."""
    if job.state != "completed" or job.result is None:
        raise NotCompletedError()
    return job


if TYPE_CHECKING:
    CompletedJobDep = Annotated[Job, Depends(get_completed_job)]
else:
    CompletedJobDep = Annotated[Any, Depends(get_completed_job)]


def get_finished_job(job: CompletedJobDep, scripts: ScriptServiceDep) -> tuple[Job, AnalysisResult]:
    """The completed job with its current result (the creator's newest script in place, see
    `jobs.current`): what every export renders."""
    from reels_scripter.contract import AnalysisResult  # pydantic models: only when asked for

    return job, AnalysisResult.model_validate(scripts.current(job))


if TYPE_CHECKING:
    FinishedJobDep = Annotated[tuple[Job, AnalysisResult], Depends(get_finished_job)]
else:
    FinishedJobDep = Annotated[Any, Depends(get_finished_job)]
