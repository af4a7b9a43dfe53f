"""The threads of a worker's main process: presence heartbeat and sweeps, webhook dispatch.

They run beside Celery's consumer, never as tasks, so a backlog in the job queue cannot delay
them (a sweep sent through the queue used to wait behind every queued analysis and expire
unrun). Every worker runs them; each sweep step is idempotent and guarded, so several
workers sweeping at once do no double work. The pool processes doing the analyses are not
involved: a busy worker still sweeps and reports itself alive.

* presence: the `workers` row (`worker.presence`) every HEARTBEAT_INTERVAL_SEC;
* sweep (`jobs.sweeper`) every SWEEP_INTERVAL_SEC, the first right at start: jobs of dead
  workers go to the priority queue, ahead of the backlog;
* webhooks (`jobs.notify`): due notifications every WEBHOOK_POLL_SEC, each in its own thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import exc as sa_exc

from reels_scripter.config import Settings
from reels_scripter.db.engine import session_factory
from reels_scripter.jobs import notify
from reels_scripter.jobs.sweeper import BrokerWatch, sweep
from reels_scripter.worker import presence

log = logging.getLogger(__name__)

WEBHOOK_POLL_SEC = 1.0


class Housekeeping:
    def __init__(
        self,
        settings: Settings,
        name: str,
        enqueue: Callable[[str], None],
        *,
        sweeps: bool = True,
        broker: BrokerWatch | None = None,
    ) -> None:
        self.settings = settings
        self.broker = broker
        self.name = name
        self.enqueue = enqueue
        self.sweeps = sweeps
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._keep, name="worker-housekeeping", daemon=True),
            threading.Thread(target=self._webhooks, name="worker-webhooks", daemon=True),
        ]

    def start(self) -> None:
        self._write(presence.record_running)
        for thread in self._threads:
            thread.start()
        sweeping = f"every {self.settings.sweep_interval_sec:g} s" if self.sweeps else "off"
        log.info(
            "worker %s: heartbeat every %g s, sweeps %s",
            self.name,
            self.settings.heartbeat_interval_sec,
            sweeping,
        )

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(timeout)
        self._write(presence.record_stopped)

    def _write(self, fn: Callable[..., None]) -> None:
        try:
            with session_factory(self.settings)() as session:
                fn(session, self.name)
                session.commit()
        except sa_exc.SQLAlchemyError as exc:
            # A missed heartbeat is harmless; a long outage shows as a stale worker.
            log.warning("worker presence not written: %s", type(exc).__name__)

    def _keep(self) -> None:
        s = self.settings
        next_sweep = time.monotonic()  # sweep once at start: recover what the last run left
        while True:
            if self.sweeps and time.monotonic() >= next_sweep:
                next_sweep = time.monotonic() + s.sweep_interval_sec
                self._sweep()
            wait = s.heartbeat_interval_sec
            if self.sweeps:
                wait = max(0.0, min(wait, next_sweep - time.monotonic()))
            if self._stop.wait(wait):
                return
            self._write(presence.heartbeat)

    def _sweep(self) -> None:
        try:
            sweep(self.settings, self.enqueue, broker=self.broker)
            with session_factory(self.settings)() as session:
                presence.forget_old(session)
                session.commit()
        except Exception:  # the next sweep tries again; this thread must not die
            log.exception("sweep failed")

    def _webhooks(self) -> None:
        sessions = session_factory(self.settings)
        with ThreadPoolExecutor(notify.BATCH, thread_name_prefix="webhook") as pool:
            while not self._stop.wait(WEBHOOK_POLL_SEC):
                try:
                    # keep going while a backlog of notifications is due
                    while notify.dispatch_due(self.settings, sessions, executor=pool):
                        if self._stop.is_set():
                            return
                except Exception:
                    log.exception("webhook dispatch failed")
