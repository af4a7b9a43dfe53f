"""The heartbeat thread and the throttled progress writer of one running attempt.

Both write through the fenced repository updates, each in its own short session: the analysis
reports progress from several threads, and a Session must not be shared across threads. When
a fenced write finds the row no longer ours (deleted, or re-queued and taken by another
worker), the next progress report raises `JobSuperseded` and the analysis stops.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session, sessionmaker

from reels_scripter.config import Settings
from reels_scripter.jobs.failures import JobSuperseded
from reels_scripter.jobs.repository import Claim, JobRepository

log = logging.getLogger(__name__)

PROGRESS_MIN_INTERVAL_SEC = 0.5  # at most two progress writes a second per job


class Liveness:
    def __init__(self, sessions: sessionmaker[Session], claim: Claim, settings: Settings) -> None:
        self.sessions = sessions
        self.claim = claim
        self.settings = settings
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._last_write = 0.0
        self._last_stage: str | None = None
        self._thread = threading.Thread(target=self._beat, name="job-heartbeat", daemon=True)

    def __enter__(self) -> Liveness:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _write(self, fn: Callable[[JobRepository], bool]) -> None:
        try:
            with self.sessions() as session:
                ok = fn(JobRepository(session))
                session.commit()
        except sa_exc.SQLAlchemyError as exc:
            # A missed write is harmless; a long outage shows up as a stale heartbeat.
            log.warning("job %s: liveness write failed: %s", self.claim.job_id, exc)
            return
        if not ok:
            self.lost.set()

    def _beat(self) -> None:
        while not self._stop.wait(self.settings.heartbeat_interval_sec):
            self._write(lambda repo: repo.heartbeat(self.claim))
            if self.lost.is_set():
                return

    def progress(self, stage: str, fraction: float) -> None:
        """The pipeline's progress callback: `fraction` is the overall figure (0..1)."""
        if self.settings.job_progress_delay_sec:
            time.sleep(self.settings.job_progress_delay_sec)  # test knob, see Settings
        if self.lost.is_set():
            raise JobSuperseded(self.claim.job_id)
        # 100 is written only by `complete`, so a finished bar always means a stored result.
        percent = min(int(fraction * 100), 99)
        with self._lock:
            now = time.monotonic()
            # figures are throttled, a change of stage is not: the page names the step in
            # progress, and a dropped "ai" or "speech" after a burst of "video" figures left
            # the wrong name up for the rest of the job
            if stage == self._last_stage and now - self._last_write < PROGRESS_MIN_INTERVAL_SEC:
                return
            self._last_write = now
            self._last_stage = stage
            self._write(lambda repo: repo.set_progress(self.claim, stage, percent))
        if self.lost.is_set():
            raise JobSuperseded(self.claim.job_id)
