"""Real Celery workers in subprocesses, on the SQLite broker and on Redis.

JOB_PROGRESS_DELAY_SEC (a test-only Settings knob) slows progress reports so a job is still
running when the worker is killed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from reels_scripter.config import Settings
from reels_scripter.db import session_factory, upgrade_database
from reels_scripter.db.engine import dispose_engines
from reels_scripter.jobs import Job, JobState
from reels_scripter.worker.celery_app import make_enqueue
from support.factories import submit_job
from support.settings import REDIS_URL, make_settings

pytestmark = [pytest.mark.slow]

FAST_RECOVERY = {
    "HEARTBEAT_INTERVAL_SEC": "0.5",
    "HEARTBEAT_STALE_SEC": "3",
    "SWEEP_INTERVAL_SEC": "1",
}


def env_of(settings: Settings, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(
        DATA_DIR=str(settings.data_dir),
        STORAGE_BACKEND="local",
        AI_PROVIDER="local",
        JOB_QUEUE=settings.job_queue,
        LOG_LEVEL="INFO",
        **extra,
    )
    if settings.database_url:
        env["DATABASE_URL"] = settings.database_url
    if settings.redis_url:
        env["REDIS_URL"] = settings.redis_url
    return env


class Workers:
    def __init__(self, settings: Settings, log_dir: Path) -> None:
        self.settings = settings
        self.log_dir = log_dir
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, *, beat: bool, **extra: str) -> subprocess.Popen[bytes]:
        code = (
            "from reels_scripter.config import get_settings\n"
            "from reels_scripter.worker.celery_app import run_worker\n"
            f"run_worker(get_settings(), beat={beat}, concurrency=1)\n"
        )
        log = (self.log_dir / f"worker-{len(self.procs)}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-c", code],
            env=env_of(self.settings, {**FAST_RECOVERY, **extra}),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: SIGKILL takes the pool child too
        )
        self.procs.append(proc)
        return proc

    def kill(self, proc: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
        try:
            os.killpg(proc.pid, sig)
            proc.wait(timeout=5)
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.log_dir.glob("*.log")))

    def stop_all(self) -> None:
        # Graceful shutdown is not under test here; SIGKILL keeps the suite quick.
        for proc in self.procs:
            if proc.poll() is None:
                self.kill(proc)


@pytest.fixture(params=["sqlite-broker", pytest.param("redis+postgres", marks=pytest.mark.redis)])
def broker_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    queue = f"reels-test-{uuid.uuid4().hex[:8]}"
    if request.param == "sqlite-broker":
        settings = make_settings(tmp_path / "data", JOB_QUEUE=queue)
    else:
        import redis

        try:
            redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
        except Exception as exc:
            pytest.skip(f"Redis not reachable: {exc}")
        url = request.getfixturevalue("pg_url")
        settings = make_settings(
            tmp_path / "data", JOB_QUEUE=queue, REDIS_URL=f"{REDIS_URL}/0", DATABASE_URL=url
        )
    upgrade_database(settings)
    yield settings
    if settings.redis_url:
        import redis

        client = redis.Redis.from_url(settings.redis_url)
        client.delete(queue, *client.keys(f"{queue}*"))
        # The killed worker's message sits in kombu's shared unacked hash; drop only ours so
        # no other Redis user's worker restores it later.
        for tag, raw in client.hgetall("unacked").items():
            if queue.encode() in raw:
                client.hdel("unacked", tag)
                client.zrem("unacked_index", tag)
    dispose_engines()


@pytest.fixture
def workers(broker_settings: Settings, tmp_path: Path) -> Iterator[Workers]:
    w = Workers(broker_settings, tmp_path)
    yield w
    w.stop_all()


def submit(settings: Settings, session: Session, src: Path, *, video: bool = True) -> Job:
    return submit_job(
        session, settings, src, enqueue=make_enqueue(settings), owner="tester", probe_facts=video
    )


def wait_for(
    settings: Settings,
    job_id: str,
    until: Callable[[Job], bool],
    workers: Workers,
    timeout: float = 40,
) -> Job:
    deadline = time.monotonic() + timeout
    with session_factory(settings)() as s:
        while time.monotonic() < deadline:
            job = s.get(Job, job_id, populate_existing=True)
            assert job is not None
            if until(job):
                return job
            dead = [p.args for p in workers.procs if p.poll() not in (None, -9)]
            assert not dead or any(p.poll() is None for p in workers.procs), workers.logs()
            s.rollback()
            time.sleep(0.2)
    raise AssertionError(f"job {job_id} timed out: {job!r}\n{workers.logs()[-4000:]}")


def finished(job: Job) -> bool:
    return job.state in (JobState.completed, JobState.failed)


def leftovers(settings: Settings, timeout: float = 5) -> list[Any]:
    """Temp files and stored uploads still present. The stored video is deleted just after
    the job is marked finished (never before), so give the worker a moment."""
    tmp = settings.data_dir / "tmp"
    storage_dir = settings.data_dir / "storage" / "uploads"
    deadline = time.monotonic() + timeout
    while True:
        files = list(tmp.iterdir()) if tmp.is_dir() else []
        files += list(storage_dir.iterdir()) if storage_dir.is_dir() else []
        if not files or time.monotonic() > deadline:
            return files
        time.sleep(0.1)


def test_worker_completes_a_reel_and_fails_a_bad_file(
    broker_settings: Settings, workers: Workers, reel: Callable[..., Path], tmp_path: Path
) -> None:
    workers.start(beat=False)
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"definitely not a video" * 20)
    with session_factory(broker_settings)() as session:
        good_job = submit(broker_settings, session, reel("good.mp4", duration=2.0, cuts=(1.0,)))
        bad_job = submit(broker_settings, session, bad, video=False)
    good = wait_for(broker_settings, good_job.id, finished, workers)
    failed = wait_for(broker_settings, bad_job.id, finished, workers)
    assert good.state == JobState.completed, workers.logs()[-3000:]
    assert good.progress == 100 and good.result and good.result["meta"]["provider"] == "local"
    assert good.attempts == 1 and good.started_at and good.finished_at
    assert failed.state == JobState.failed and failed.attempts == 1
    assert failed.error and "\n" not in failed.error and failed.error_code != "internal_error"
    assert leftovers(broker_settings) == []
    # every worker line about a job carries its id, bound once around the task
    logs = workers.logs()
    assert f"[job {good_job.id}]" in logs and "completed with provider local" in logs
    assert f"[job {bad_job.id}]" in logs


def test_sigkilled_worker_loses_no_job(
    broker_settings: Settings, workers: Workers, reel: Callable[..., Path]
) -> None:
    first = workers.start(beat=False, JOB_PROGRESS_DELAY_SEC="0.25")
    with session_factory(broker_settings)() as session:
        job = submit(broker_settings, session, reel("slow.mp4", duration=2.0, cuts=(1.0,)))
    wait_for(
        broker_settings, job.id, lambda j: j.state == JobState.active and j.progress > 0, workers
    )
    workers.kill(first)  # SIGKILL to the whole worker: no clean-up code runs
    # A fresh worker with the sweeper: the stale heartbeat gets the job re-queued and run.
    workers.start(beat=True)
    done = wait_for(broker_settings, job.id, finished, workers, timeout=60)
    assert done.state == JobState.completed, workers.logs()[-3000:]
    assert done.attempts == 2 and done.progress == 100
    # Exactly once: the one result, from the second attempt; nothing left behind.
    assert done.result is not None
    assert leftovers(broker_settings) == []
