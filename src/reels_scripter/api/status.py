"""The status read path: what front ends poll every second or two, so it is kept lean.

* One Core `SELECT` of the six columns the body needs, not an ORM load of the whole row.
* The JSON body is rendered once and reused from a small in-process cache for a moment
  (a second while the job runs, longer once it has finished and cannot change), so many
  tabs polling the same job cost one query per interval, not one per request.
* Progress served from one process never goes backwards, even if the row's does.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, bindparam, select

from reels_scripter.jobs import keyframes

FINISHED = frozenset({"completed", "failed"})
# How stale a poll may be (STATUS_CACHE_SEC, 1 s by default). Progress moving a second late
# is invisible in a progress bar; a finished job changes only by deletion, which this
# process invalidates at once (another replica serves a deleted job for at most 10x that).
FINISHED_TTL_FACTOR = 10.0
MAX_ENTRIES = 10_000


def shown_progress(state: str, progress: int | None) -> int:
    """0-100; a finished job reports 100 whatever the last progress write said."""
    return 100 if state == "completed" else max(0, min(int(progress or 0), 100))


def status_body(
    state: str,
    progress: int | None,
    stage: str | None,
    error: str | None,
    error_code: str | None,
    result: Any,
    job_id: str,
) -> dict[str, Any]:
    """The seed's status body (state, progress, result) plus error, stage and code."""
    completed = state == "completed"
    failed = state == "failed"
    return {
        "state": state,
        "progress": shown_progress(state, progress),
        "result": keyframes.with_urls(result, job_id) if completed else None,
        "error": error if failed else None,
        "stage": stage,
        "code": error_code if failed else None,
    }


def render(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True)
class Entry:
    expires: float
    state: str
    progress: int
    body: bytes


class StatusReader:
    def __init__(self, engine: Engine, ttl_sec: float = 1.0) -> None:
        from reels_scripter.jobs.models import Job

        self._engine = engine
        self._ttl = ttl_sec
        # Built once with bind parameters, on the Core table: building an ORM statement per
        # poll cost more than running it.
        t = Job.__table__
        columns = select(t.c.state, t.c.progress, t.c.stage, t.c.error, t.c.error_code, t.c.result)
        by_id = t.c.id == bindparam("job_id")
        # Same visibility rule as JobRepository.get: a job is seen only by its owner, and
        # jobs made without a key (owner NULL) only without one.
        self._unowned = columns.where(by_id, t.c.owner.is_(None))
        self._owned = columns.where(by_id, t.c.owner == bindparam("owner"))
        self._cache: OrderedDict[tuple[str, str | None], Entry] = OrderedDict()
        self._lock = threading.Lock()

    def cached(self, job_id: str, owner: str | None) -> bytes | None:
        """A fresh cached body, or None (cheap: called on the event loop)."""
        if self._ttl <= 0:
            return None
        entry = self._cache.get((job_id, owner))
        if entry is not None and entry.expires > time.monotonic():
            return entry.body
        return None

    def load(self, job_id: str, owner: str | None) -> bytes | None:
        """Query, render and cache the body; None when there is no such job (for owner).

        Blocking: run it in a worker thread.
        """
        with self._engine.connect() as conn:
            if owner is None:
                row = conn.execute(self._unowned, {"job_id": job_id}).first()
            else:
                row = conn.execute(self._owned, {"job_id": job_id, "owner": owner}).first()
        key = (job_id, owner)
        if row is None:
            with self._lock:
                self._cache.pop(key, None)
            return None
        body = status_body(*row, job_id=job_id)
        with self._lock:
            previous = self._cache.get(key)
            if (
                previous is not None
                and body["state"] not in FINISHED
                and previous.progress > body["progress"]
            ):
                # e.g. a retry that starts the work over: the bar holds, it does not jump back
                body["progress"] = previous.progress
            ttl = self._ttl * (FINISHED_TTL_FACTOR if body["state"] in FINISHED else 1.0)
            entry = Entry(time.monotonic() + ttl, body["state"], body["progress"], render(body))
            self._cache[key] = entry
            self._cache.move_to_end(key)
            while len(self._cache) > MAX_ENTRIES:
                self._cache.popitem(last=False)
        return entry.body

    def invalidate(self, job_id: str) -> None:
        with self._lock:
            for key in [k for k in self._cache if k[0] == job_id]:
                del self._cache[key]
