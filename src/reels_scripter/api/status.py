"""The status read path: what front ends poll every second or two, so it is kept lean.

* One prepared query of the six columns the body needs (`jobs.repository.StatusQuery`).
* The JSON body is rendered once and reused from a small in-process cache for a moment
  (a second while the job runs, longer once it has finished and cannot change), so many
  tabs polling the same job cost one query per interval, not one per request.
* A poll whose body is cached is answered by `CachedStatusMiddleware`, a pure-ASGI layer in
  front of the router: no routing, no request object, no dependency solving. A miss (or
  anything unusual: no key, a bad token) goes on to the route, which reads and caches.
* Progress needs no rule here: the job row never lets it go back (see `analysis.progress`).
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from reels_scripter.errors import AppError
from reels_scripter.jobs import keyframes
from reels_scripter.jobs.repository import StatusQuery, StatusRow
from reels_scripter.logs import job_id_var
from reels_scripter.texts import stage_label

if TYPE_CHECKING:
    from reels_scripter.api.deps import Services

FINISHED = frozenset({"completed", "failed"})
STATUS_PREFIX = "/api/status/"
# what the metrics middleware labels these requests with (the route's template)
STATUS_ROUTE = SimpleNamespace(path=STATUS_PREFIX + "{jobId}")
_JSON = (b"content-type", b"application/json")
# How stale a poll may be (STATUS_CACHE_SEC, 1 s by default). Progress moving a second late
# is invisible in a progress bar; a finished job changes only by deletion, which this
# process invalidates at once (another replica serves a deleted job for at most 10x that).
FINISHED_TTL_FACTOR = 10.0
MAX_ENTRIES = 10_000


def shown_progress(state: str, progress: int | None) -> int:
    """0-100; a finished job reports 100 whatever the last progress write said."""
    return 100 if state == "completed" else max(0, min(int(progress or 0), 100))


def status_body(row: StatusRow, job_id: str, language: str) -> dict[str, Any]:
    """The seed's status body (state, progress, result) plus error, code and the stage: as
    a person reads it (`stage`) and as a stable code (`stageCode`)."""
    completed = row.state == "completed"
    failed = row.state == "failed"
    return {
        "state": row.state,
        "progress": shown_progress(row.state, row.progress),
        "result": keyframes.with_urls(row.current_result, job_id) if completed else None,
        "error": row.error if failed else None,
        "code": row.error_code if failed else None,
        "stage": stage_label(row.stage, language),
        "stageCode": row.stage,
    }


def render(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True)
class Entry:
    expires: float
    body: bytes


class StatusReader:
    def __init__(self, query: StatusQuery, language: str, ttl_sec: float = 1.0) -> None:
        self._query = query
        self._language = language
        self._ttl = ttl_sec
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
        row = self._query.fetch(job_id, owner)
        key = (job_id, owner)
        if row is None:
            with self._lock:
                self._cache.pop(key, None)
            return None
        body = status_body(row, job_id, self._language)
        ttl = self._ttl * (FINISHED_TTL_FACTOR if row.state in FINISHED else 1.0)
        entry = Entry(time.monotonic() + ttl, render(body))
        with self._lock:
            self._cache[key] = entry
            self._cache.move_to_end(key)
            while len(self._cache) > MAX_ENTRIES:
                self._cache.popitem(last=False)
        return entry.body

    def invalidate(self, job_id: str) -> None:
        with self._lock:
            for key in [k for k in self._cache if k[0] == job_id]:
                del self._cache[key]


class CachedStatusMiddleware:
    """Answers `GET /api/status/{jobId}` from the status cache, before routing.

    Same response as the route (`get_status`): the cached bytes as application/json. The
    caller's identity is checked exactly as the route checks it (`Services.owner_of`, API
    key or signed link); when that raises, or nothing is cached, the request goes on to the
    route unchanged, which answers errors and fills the cache.
    """

    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            path: str = scope["path"]
            if path.startswith(STATUS_PREFIX) and scope.get("root_path", "") == "":
                job_id = path[len(STATUS_PREFIX) :]
                body = self._cached(scope, job_id) if job_id and "/" not in job_id else None
                if body is not None:
                    scope["route"] = STATUS_ROUTE
                    job_id_var.set(job_id)
                    length = str(len(body)).encode()
                    await send(
                        {
                            "type": "http.response.start",
                            "status": 200,
                            "headers": [(b"content-length", length), _JSON],
                        }
                    )
                    await send({"type": "http.response.body", "body": body})
                    return
        await self.app(scope, receive, send)

    def _cached(self, scope: Scope, job_id: str) -> bytes | None:
        services = self.services
        if services.api_keys.enabled:
            try:
                owner = services.owner_of(
                    HTTPConnection({**scope, "path_params": {"jobId": job_id}})
                )
            except AppError:
                return None  # the route answers 401 with its body
        else:
            owner = None
        return services.status_reader.cached(job_id, owner)
