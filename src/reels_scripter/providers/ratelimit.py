"""Requests-per-minute limiters shared by every worker that talks to one AI account.

The quota (e.g. GEMINI_RPM=5 on today's free tier) belongs to the project, not to a process, so
the count must be shared: through Redis when REDIS_URL is set (all machines), otherwise through
an fcntl-locked file in DATA_DIR (all processes on this machine). Both keep a sliding log of
the last minute's request times and make a caller wait until the oldest one leaves the window.

A request that failed without being served (a 5xx, a dropped connection) gives its slot back
(`release`): during an outage the failed attempts used to fill the window, so each job then
waited a minute for slots before it could fall back.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import time
import uuid
from pathlib import Path
from typing import Any, Protocol

from reels_scripter.providers.base import ProviderConfigError, ProviderContext, ProviderError

log = logging.getLogger(__name__)

WINDOW_SEC = 60.0


class RateLimiter(Protocol):
    def acquire(self, timeout: float) -> str:
        """Block until a request may be sent; ProviderError(transient) if that takes > timeout.
        Returns the booked slot, for `release`."""

    def release(self, slot: str) -> None:
        """Give a booked slot back: its request failed without being served."""


class _SlidingWindow:
    """`acquire` on top of `_reserve`, which either books a slot (wait 0.0 and the slot's id)
    or says how long to wait."""

    def __init__(self, rpm: int, window: float) -> None:
        if rpm < 1:
            raise ProviderConfigError(f"A rate limit needs at least 1 request a minute, not {rpm}")
        self.rpm = rpm
        self.window = window

    def _reserve(self) -> tuple[float, str]:
        raise NotImplementedError

    def release(self, slot: str) -> None:
        raise NotImplementedError

    def acquire(self, timeout: float) -> str:
        give_up = time.monotonic() + timeout
        while True:
            wait, slot = self._reserve()
            if wait <= 0:
                return slot
            left = give_up - time.monotonic()
            if wait > left:
                raise ProviderError(
                    f"Rate limit of {self.rpm} requests per {self.window:.0f} s: no slot within "
                    "the time left for this request",
                    transient=True,
                )
            time.sleep(wait)


class FileRateLimiter(_SlidingWindow):
    """Shared by the processes of one machine through a locked JSON file of timestamps."""

    def __init__(self, path: Path, rpm: int, window: float = WINDOW_SEC) -> None:
        super().__init__(rpm, window)
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)

    def _reserve(self) -> tuple[float, str]:
        with self.path.open("a+", encoding="utf-8") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)  # released when the file closes
            fh.seek(0)
            raw = fh.read()
            stamps: list[float] = []
            with contextlib.suppress(ValueError):
                loaded = json.loads(raw) if raw else []
                stamps = [float(x) for x in loaded] if isinstance(loaded, list) else []
            # Wall clock, not monotonic: the timestamps are compared across processes.
            now = time.time()
            stamps = sorted(t for t in stamps if now - self.window < t <= now + 1.0)
            if len(stamps) >= self.rpm:
                return max(stamps[-self.rpm] + self.window - now, 0.001), ""
            stamps.append(now)
            fh.seek(0)
            fh.truncate()
            fh.write(json.dumps(stamps))
            return 0.0, repr(now)  # a float survives JSON exactly: the stamp is the slot

    def release(self, slot: str) -> None:
        with self.path.open("a+", encoding="utf-8") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            fh.seek(0)
            stamps: list[float] = []
            with contextlib.suppress(ValueError):
                loaded = json.loads(fh.read() or "[]")
                stamps = [float(x) for x in loaded] if isinstance(loaded, list) else []
            with contextlib.suppress(ValueError):
                stamps.remove(float(slot))
                fh.seek(0)
                fh.truncate()
                fh.write(json.dumps(stamps))


# Atomic check-and-book on the server; the server's clock keeps several machines consistent.
_REDIS_SCRIPT = """
local key = KEYS[1]
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
if redis.call('ZCARD', key) < limit then
  redis.call('ZADD', key, now, ARGV[3])
  redis.call('PEXPIRE', key, window)
  return 0
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
return math.max(tonumber(oldest[2]) + window - now, 1)
"""


class RedisRateLimiter(_SlidingWindow):
    """Shared by every worker on every machine that uses the same Redis."""

    def __init__(
        self,
        client: Any,
        key: str,
        rpm: int,
        window: float = WINDOW_SEC,
        fallback: _SlidingWindow | None = None,
    ) -> None:
        super().__init__(rpm, window)
        self.client = client
        self.key = key
        self.fallback = fallback
        self._script = client.register_script(_REDIS_SCRIPT)

    def _reserve(self) -> tuple[float, str]:
        import redis

        slot = uuid.uuid4().hex
        try:
            wait_ms = self._script(keys=[self.key], args=[self.rpm, int(self.window * 1000), slot])
        except redis.RedisError as exc:
            if self.fallback is None:
                raise ProviderError(f"Rate limiter unavailable: {exc}", transient=True) from exc
            # A Redis outage should not stop analyses; the machine-local count still protects
            # this host's share of the quota.
            log.warning("Redis rate limiter unavailable (%s); using the local one", exc)
            wait, local_slot = self.fallback._reserve()
            return wait, f"local:{local_slot}"
        return float(wait_ms) / 1000.0, slot

    def release(self, slot: str) -> None:
        import redis

        if slot.startswith("local:"):
            if self.fallback is not None:
                self.fallback.release(slot.removeprefix("local:"))
            return
        try:
            self.client.zrem(self.key, slot)
        except redis.RedisError as exc:  # the slot then ages out with the window
            log.warning("could not give a rate-limit slot back: %s", exc)


def limiter_for(context: ProviderContext, name: str, rpm: int) -> RateLimiter:
    """The limiter for one provider account: Redis if configured, else a file in DATA_DIR."""
    local = FileRateLimiter(context.data_dir / "ratelimit" / f"{name}.json", rpm)
    if not context.redis_url:
        return local
    import redis

    client = redis.Redis.from_url(context.redis_url, socket_timeout=5, socket_connect_timeout=5)
    return RedisRateLimiter(client, f"reels_scripter:ratelimit:{name}", rpm, fallback=local)
