"""A circuit breaker per AI provider account, shared by every worker that uses it.

During an outage each job used to spend its whole retry budget (about a minute, most of it
waiting for rate-limiter slots) before it fell back. The breaker counts transient failures of
the provider's requests in a row; after `FAILURES_TO_OPEN` (3) it opens, and while it is open
jobs go straight to the fallback (`AI_FALLBACK`) without calling the provider. After
`COOLDOWN_SEC` one caller is let through as a probe (the provider's cheap `check()`, e.g.
Gemini's model lookup): a success closes the circuit and jobs use the provider again; a
failure opens it for another cooldown. Any successful request closes it too.

A worker that starts during an outage opens it at once ("degraded") instead of exiting; the
probe is then the background re-check.

The state must be shared (jobs run in several processes, maybe on several machines), so it
lives where the rate limiter's count lives: in Redis when REDIS_URL is set, otherwise in an
fcntl-locked JSON file in DATA_DIR. Losing it (a Redis restart) only closes the circuit.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import time
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger(__name__)

FAILURES_TO_OPEN = 3
COOLDOWN_SEC = 10.0


class _State(Protocol):
    def update(self, change: Any) -> dict[str, float]:
        """Apply `change(state) -> state` atomically; return the new state."""


class _FileState:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)

    def update(self, change: Any) -> dict[str, float]:
        with self.path.open("a+", encoding="utf-8") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)  # released when the file closes
            fh.seek(0)
            state: dict[str, float] = {}
            with contextlib.suppress(ValueError):
                loaded = json.loads(fh.read() or "{}")
                if isinstance(loaded, dict):
                    state = {k: float(v) for k, v in loaded.items()}
            new = change(dict(state))
            if new != state:
                fh.seek(0)
                fh.truncate()
                fh.write(json.dumps(new))
            return dict(new)


class _RedisState:
    """One JSON value under a key, changed in a WATCH/MULTI transaction."""

    def __init__(self, client: Any, key: str, fallback: _FileState) -> None:
        self.client = client
        self.key = key
        self.fallback = fallback

    def update(self, change: Any) -> dict[str, float]:
        import redis

        try:
            with self.client.pipeline() as pipe:
                while True:
                    try:
                        pipe.watch(self.key)
                        raw = pipe.get(self.key)
                        state = {k: float(v) for k, v in json.loads(raw or "{}").items()}
                        new = change(dict(state))
                        pipe.multi()
                        pipe.set(self.key, json.dumps(new), ex=3600)
                        pipe.execute()
                        return dict(new)
                    except redis.WatchError:
                        continue
        except (redis.RedisError, ValueError) as exc:
            log.warning("circuit state in Redis unavailable (%s); using the local one", exc)
            return self.fallback.update(change)


class CircuitBreaker:
    """`allow()` before a request; `success()` / `failure()` after it."""

    def __init__(
        self,
        name: str,
        state: _State,
        *,
        failures_to_open: int = FAILURES_TO_OPEN,
        cooldown_sec: float = COOLDOWN_SEC,
    ) -> None:
        self.name = name
        self._state = state
        self.failures_to_open = failures_to_open
        self.cooldown_sec = cooldown_sec

    def is_open(self) -> bool:
        """Open and not yet due for a probe (callers go to the fallback)."""
        state = self._state.update(lambda s: s)
        return state.get("open_until", 0.0) > time.time()

    def take_probe(self) -> bool | None:
        """None when closed (call the provider); True when this caller holds the probe (an
        open circuit whose cooldown is over: the next one waits another cooldown); False
        while open (go to the fallback)."""
        now = time.time()
        taken: list[bool | None] = [None]

        def change(s: dict[str, float]) -> dict[str, float]:
            if s.get("failures", 0.0) < self.failures_to_open:
                return s
            if s.get("open_until", 0.0) > now:
                taken[0] = False
                return s
            taken[0] = True
            return {**s, "open_until": now + self.cooldown_sec}

        self._state.update(change)
        return taken[0]

    def success(self) -> None:
        before = self._state.update(lambda s: s)
        self._state.update(lambda s: {"failures": 0.0, "open_until": 0.0})
        if before.get("failures", 0.0) >= self.failures_to_open:
            log.info("AI provider %s answers again: circuit closed", self.name)

    def failure(self) -> bool:
        """Count one transient failure; True when the circuit is (now) open."""
        now = time.time()

        def change(s: dict[str, float]) -> dict[str, float]:
            failures = s.get("failures", 0.0) + 1
            open_until = s.get("open_until", 0.0)
            if failures >= self.failures_to_open:
                open_until = max(open_until, now + self.cooldown_sec)
            return {"failures": failures, "open_until": open_until}

        state = self._state.update(change)
        opened = state["failures"] >= self.failures_to_open
        if state["failures"] == self.failures_to_open:
            log.warning(
                "AI provider %s failed %d times in a row: circuit open, jobs use the fallback",
                self.name,
                self.failures_to_open,
            )
        return opened

    def trip(self) -> None:
        """Open at once (a worker that starts while the provider is down)."""
        now = time.time()
        self._state.update(
            lambda s: {
                "failures": max(s.get("failures", 0.0), float(self.failures_to_open)),
                "open_until": now + self.cooldown_sec,
            }
        )


class _Where(Protocol):
    """Settings or a ProviderContext: where shared provider state lives."""

    @property
    def data_dir(self) -> Path: ...

    @property
    def redis_url(self) -> str | None: ...


def circuit_for(where: _Where, name: str) -> CircuitBreaker:
    """The breaker of one provider: in Redis if configured, else a file in DATA_DIR."""
    local = _FileState(where.data_dir / "circuit" / f"{name}.json")
    if not where.redis_url:
        return CircuitBreaker(name, local)
    import redis

    client = redis.Redis.from_url(where.redis_url, socket_timeout=5, socket_connect_timeout=5)
    return CircuitBreaker(name, _RedisState(client, f"reels_scripter:circuit:{name}", local))
