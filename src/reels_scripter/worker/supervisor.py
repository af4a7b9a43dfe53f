"""`serve`'s embedded worker, supervised: restarted when it dies, stopped with `serve`.

* A worker that dies (SIGKILL, OOM, a crash) is started again after a short pause: 1 s after
  a worker that got ready, doubling up to 30 s while it keeps dying before it gets ready.
* A worker that cannot start for a reason a restart does not fix (a rejected AI key, an
  unknown model, broken storage settings: exit status 78) is not restarted: `serve` logs why
  in one line, and the reason is in the workers table, where `/readyz` and the upload
  endpoint read it (uploads answer 503 `worker_unavailable` rather than queue a job no
  worker will run). So is a worker that dies three times in a row before it ever got ready.
* No orphans: the worker dies with `serve` even when `serve` is killed outright
  (`orphans.die_with_parent`; its pool processes do the same), and runs in a process group
  of its own, so a terminal's Ctrl-C reaches only `serve`, which then stops it in order
  (SIGTERM: Celery's warm shutdown, the running job finishes or is re-queued).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import sys
import threading
from multiprocessing.process import BaseProcess

from sqlalchemy import exc as sa_exc

from reels_scripter.config import Settings
from reels_scripter.db import session_factory
from reels_scripter.worker import presence

log = logging.getLogger("reels_scripter.serve")

FIRST_DELAY_SEC = 1.0
MAX_DELAY_SEC = 30.0
# Deaths in a row before ever getting ready, after which it is not restarted.
MAX_START_CRASHES = 3
READY_POLL_SEC = 0.5
STOP_GRACE_SEC = 60.0


def _worker_main(settings: Settings, concurrency: int) -> None:
    """Entry of the embedded worker process (spawned: a fresh interpreter, no inherited
    event loop, DB pools or threads from the API)."""
    from reels_scripter.logs import configure_logging
    from reels_scripter.worker.celery_app import WorkerStartupError, run_worker
    from reels_scripter.worker.orphans import die_with_parent

    die_with_parent(signal.SIGKILL)
    with contextlib.suppress(OSError):
        os.setpgid(0, 0)  # Ctrl-C in a terminal reaches serve, which stops us in order
    configure_logging(settings)
    try:
        run_worker(settings, sweep=True, concurrency=concurrency)
    except WorkerStartupError as exc:
        # recorded in the workers table; serve says why (one line, no traceback)
        sys.exit(exc.exit_code)


class EmbeddedWorker:
    def __init__(self, settings: Settings, concurrency: int = 1) -> None:
        self.settings = settings
        self.concurrency = concurrency
        self.process: BaseProcess | None = None
        self.restarts = 0
        self.gave_up: str | None = None  # why it is not restarted any more
        self.ready = threading.Event()  # set while the current process is up
        self._stopping = threading.Event()
        self._context = multiprocessing.get_context("spawn")
        # PR_SET_PDEATHSIG fires when the thread that started the child ends: this thread
        # starts every worker and lives until the last one is stopped.
        self._thread = threading.Thread(target=self._supervise, name="worker-supervisor")

    def start(self) -> None:
        self._thread.start()

    def stop(self, grace: float = STOP_GRACE_SEC) -> None:
        self._stopping.set()
        self._thread.join(grace + 15)

    # --- the supervisor thread -------------------------------------------------------------

    def _supervise(self) -> None:
        delay = FIRST_DELAY_SEC
        start_crashes = 0
        while not self._stopping.is_set():
            process = self._spawn()
            ready = self._watch(process)
            if self._stopping.is_set():
                self._terminate(process)
                return
            code = process.exitcode
            self.ready.clear()
            from reels_scripter.worker.celery_app import EXIT_CONFIG, EXIT_TEMPFAIL

            if code == EXIT_CONFIG:
                reason = self._failure_of(process) or f"exit status {code}"
                self._give_up(f"the embedded worker cannot start: {reason}")
                return
            start_crashes = 0 if ready or code == EXIT_TEMPFAIL else start_crashes + 1
            if start_crashes >= MAX_START_CRASHES:
                reason = (
                    f"the embedded worker exited at start-up {start_crashes} times in a row "
                    f"(last: {_describe_exit(code)}); see the log above"
                )
                self._record_crash(process, reason)
                self._give_up(reason)
                return
            if ready:  # it ran: no crash loop, come back at once
                delay = FIRST_DELAY_SEC
            self._recover_jobs_of(process)
            log.warning(
                "embedded worker (pid %s) %s; restarting in %.0f s",
                process.pid,
                _describe_exit(code),
                delay,
            )
            if self._stopping.wait(delay):
                return
            delay = min(delay * 2, MAX_DELAY_SEC)
            self.restarts += 1

    def _spawn(self) -> BaseProcess:
        process = self._context.Process(
            target=_worker_main,
            args=(self.settings, self.concurrency),
            name="reels-worker",
            daemon=False,
        )
        process.start()
        self.process = process
        log.info("embedded worker started (pid %s)", process.pid)
        return process

    def _watch(self, process: BaseProcess) -> bool:
        """Wait until the process ends or serve stops; True if it got ready meanwhile."""
        ready = False
        while not self._stopping.is_set():
            process.join(READY_POLL_SEC)
            if not process.is_alive():
                break
            if not ready and self._is_running(process):
                ready = True
                self.ready.set()
        return ready

    def _is_running(self, process: BaseProcess) -> bool:
        name = presence.node_name(process.pid)
        try:
            with session_factory(self.settings)() as session:
                row = session.get(presence.WorkerRecord, name)
                return row is not None and row.state == presence.RUNNING
        except sa_exc.SQLAlchemyError:
            return False

    def _failure_of(self, process: BaseProcess) -> str | None:
        try:
            with session_factory(self.settings)() as session:
                row = session.get(presence.WorkerRecord, presence.node_name(process.pid))
                return row.error if row is not None and row.state == presence.FAILED else None
        except sa_exc.SQLAlchemyError:
            return None

    def _recover_jobs_of(self, process: BaseProcess) -> None:
        """Its running job is lost for sure: re-queue it now, not once its heartbeat is stale
        (the restarted worker's first sweep sends it, ahead of any backlog)."""
        from reels_scripter.jobs.sweeper import recover_jobs_of

        name = presence.node_name(process.pid)
        try:
            recover_jobs_of(self.settings, name)
            with session_factory(self.settings)() as session:
                presence.record_stopped(session, name)
                session.commit()
        except Exception:  # the sweeper recovers it later anyway: never stop supervising
            log.warning("could not re-queue the jobs of %s now", name, exc_info=True)

    def _record_crash(self, process: BaseProcess, reason: str) -> None:
        try:
            with session_factory(self.settings)() as session:
                name = presence.node_name(process.pid)
                presence.record_failure(session, name, presence.CAUSE_CRASHED, reason)
                session.commit()
        except sa_exc.SQLAlchemyError:
            log.warning("could not record the worker's failure in the database")

    def _give_up(self, reason: str) -> None:
        self.gave_up = reason
        log.error("%s; not restarting it: fix the setting and restart serve", reason)

    def _terminate(self, process: BaseProcess) -> None:
        if not process.is_alive():
            return
        log.info("stopping embedded worker")
        # SIGTERM is Celery's warm shutdown: the current job finishes or is re-queued (the
        # sweeper re-queues it if the grace period runs out).
        if process.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGTERM)
        process.join(STOP_GRACE_SEC)
        if process.is_alive():
            process.kill()
            process.join(5)


def _describe_exit(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with status {code}"
