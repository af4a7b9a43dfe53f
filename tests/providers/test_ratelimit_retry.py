"""The shared RPM limiters and the retry helpers, without any AI server."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import redis

from reels_scripter.providers.base import ProviderConfigError, ProviderError
from reels_scripter.providers.ratelimit import FileRateLimiter, RedisRateLimiter, limiter_for
from reels_scripter.providers.retry import (
    Fault,
    RetryPolicy,
    call_with_retries,
    retry_after_header,
    retry_info_delay,
)


def test_file_limiter_is_shared_by_separate_instances(tmp_path: Path) -> None:
    path = tmp_path / "rl.json"
    # Two instances = two open file descriptions: flock serialises them like two processes.
    limiters = [FileRateLimiter(path, rpm=3, window=0.6) for _ in range(2)]
    stamps: list[float] = []
    lock = threading.Lock()

    def take(limiter: FileRateLimiter) -> None:
        for _ in range(2):
            limiter.acquire(timeout=5)
            with lock:
                stamps.append(time.monotonic())

    threads = [threading.Thread(target=take, args=(lim,)) for lim in limiters]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stamps.sort()
    assert len(stamps) == 4
    assert stamps[2] - started < 0.3  # three fit in the window at once
    assert stamps[3] - started >= 0.55  # the fourth waits for the first to leave it


def test_file_limiter_is_shared_across_processes(tmp_path: Path) -> None:
    path = tmp_path / "rl.json"
    FileRateLimiter(path, rpm=2, window=30).acquire(timeout=1)
    code = (
        "import sys; from pathlib import Path\n"
        "from reels_scripter.providers.ratelimit import FileRateLimiter\n"
        "from reels_scripter.providers.base import ProviderError\n"
        "lim = FileRateLimiter(Path(sys.argv[1]), rpm=2, window=30)\n"
        "lim.acquire(timeout=1)\n"
        "try:\n    lim.acquire(timeout=0.2)\nexcept ProviderError:\n    print('limited')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "limited"


def test_limiter_gives_up_when_no_slot_in_time(tmp_path: Path) -> None:
    limiter = FileRateLimiter(tmp_path / "rl.json", rpm=1, window=30)
    limiter.acquire(timeout=1)
    with pytest.raises(ProviderError, match="Rate limit of 1 requests") as err:
        limiter.acquire(timeout=0.1)
    assert err.value.transient


def _redis_or_skip() -> redis.Redis:
    client = redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip("Redis is not running at 127.0.0.1:6379")
    return client


@pytest.mark.redis
def test_redis_limiter_is_shared_and_waits() -> None:
    client = _redis_or_skip()
    key = f"test:ratelimit:{uuid.uuid4().hex}"
    try:
        a = RedisRateLimiter(client, key, rpm=2, window=0.5)
        b = RedisRateLimiter(client, key, rpm=2, window=0.5)
        started = time.monotonic()
        a.acquire(timeout=2)
        b.acquire(timeout=2)
        assert time.monotonic() - started < 0.2
        a.acquire(timeout=2)  # third in the window: waits ~0.5 s
        assert time.monotonic() - started >= 0.4
    finally:
        client.delete(key)


@pytest.mark.redis
def test_limiter_for_uses_redis_when_configured(tmp_path: Path) -> None:
    _redis_or_skip()
    from reels_scripter.providers.base import ProviderContext

    context = ProviderContext(data_dir=tmp_path, redis_url="redis://127.0.0.1:6379/0")
    assert isinstance(limiter_for(context, f"t-{uuid.uuid4().hex}", 5), RedisRateLimiter)
    local = ProviderContext(data_dir=tmp_path, redis_url=None)
    assert isinstance(limiter_for(local, "t", 5), FileRateLimiter)


def test_redis_outage_falls_back_to_the_local_limiter(tmp_path: Path) -> None:
    import redis

    dead = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    fallback = FileRateLimiter(tmp_path / "rl.json", rpm=5)
    RedisRateLimiter(dead, "k", rpm=5, fallback=fallback).acquire(timeout=1)
    assert (tmp_path / "rl.json").read_text().startswith("[")


def test_server_delay_parsing() -> None:
    body = {
        "error": {
            "code": 429,
            "details": [
                {"@type": "type.googleapis.com/google.rpc.QuotaFailure"},
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "37s"},
            ],
        }
    }
    assert retry_info_delay(body) == 37.0
    assert retry_info_delay({"error": {"details": []}}) is None
    assert retry_after_header({"Retry-After": "12"}) == 12.0
    assert retry_after_header({"retry-after-ms": "250"}) == 0.25
    assert retry_after_header({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0
    assert retry_after_header({}) is None


def test_retries_are_bounded_and_classified() -> None:
    calls = 0

    def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise TimeoutError("slow")
        return "ok"

    def classify(exc: Exception) -> Fault | None:
        if isinstance(exc, TimeoutError):
            return Fault(retryable=True, message="timeout")
        if isinstance(exc, PermissionError):
            return Fault(retryable=False, message="bad key", config=True)
        return None

    policy = RetryPolicy(max_retries=5, base_delay=0.001, max_delay=0.01, total=5)
    assert call_with_retries(flaky, classify, policy, label="X") == "ok"
    assert calls == 3

    def denied() -> str:
        raise PermissionError

    with pytest.raises(ProviderConfigError, match="X: bad key"):
        call_with_retries(denied, classify, policy, label="X")

    def other() -> str:
        raise KeyError("not ours")

    with pytest.raises(KeyError):
        call_with_retries(other, classify, policy, label="X")


def test_backoff_grows_and_is_capped() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=8.0)
    for retry, ceiling in [(0, 1.0), (1, 2.0), (2, 4.0), (3, 8.0), (6, 8.0)]:
        delay = policy.backoff(retry)
        assert ceiling / 2 <= delay <= ceiling


class _Flaky:
    """An attempt that fails `failures` times with a 500 (or a 429), then answers."""

    def __init__(self, failures: int, status: int = 500) -> None:
        self.failures = failures
        self.status = status
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise RuntimeError(str(self.status))
        return "ok"

    @staticmethod
    def classify(exc: Exception) -> Fault | None:
        status = int(str(exc))
        return Fault(retryable=True, message=f"HTTP {status}", quota=status == 429)


@pytest.mark.parametrize("shared", ["file", pytest.param("redis", marks=pytest.mark.redis)])
def test_failed_requests_give_their_limiter_slot_back(tmp_path: Path, shared: str) -> None:
    """Issue 19 §2: 500s do not hold slots for the window; a 429 (counted by the server) does."""
    limiter: FileRateLimiter | RedisRateLimiter
    if shared == "file":
        limiter = FileRateLimiter(tmp_path / "rl.json", rpm=2, window=60)
    else:
        limiter = RedisRateLimiter(
            redis.Redis.from_url("redis://127.0.0.1:6379/0"), f"t-{uuid.uuid4().hex}", rpm=2
        )
    policy = RetryPolicy(max_retries=5, base_delay=0.01, max_delay=0.02, total=5)
    started = time.monotonic()
    flaky = _Flaky(failures=4)
    # 2 a minute, 5 requests: only possible because the four 500s returned their slots
    assert call_with_retries(flaky, _Flaky.classify, policy, label="t", limiter=limiter) == "ok"
    assert flaky.calls == 5 and time.monotonic() - started < 3
    # the one served request keeps its slot; a 429 keeps its own too: the window is full
    limited = _Flaky(failures=1, status=429)
    with pytest.raises(ProviderError):
        call_with_retries(limited, _Flaky.classify, policy, label="t", limiter=limiter)
    assert limited.calls == 1


def test_an_open_circuit_cuts_retries_short_then_a_probe_closes_it(tmp_path: Path) -> None:
    from reels_scripter.providers.circuit import CircuitBreaker, _FileState

    circuit = CircuitBreaker("t", _FileState(tmp_path / "c.json"), cooldown_sec=0.3)
    twin = CircuitBreaker("t", _FileState(tmp_path / "c.json"), cooldown_sec=0.3)  # a process
    policy = RetryPolicy(max_retries=10, base_delay=0.01, max_delay=0.02, total=30)
    down = _Flaky(failures=100)
    with pytest.raises(ProviderError, match="circuit open") as raised:
        call_with_retries(down, _Flaky.classify, policy, label="t", circuit=circuit)
    assert raised.value.transient and down.calls == 3  # 3 in a row, not 11
    assert twin.take_probe() is False  # open for every process: straight to the fallback
    time.sleep(0.35)
    assert twin.take_probe() is True  # the cooldown is over: one caller probes
    assert circuit.take_probe() is False  # and the others still fall back meanwhile
    call_with_retries(_Flaky(failures=0), _Flaky.classify, policy, label="t", circuit=twin)
    assert circuit.take_probe() is None  # the probe answered: closed for everyone
    # failures that are not in a row do not open it
    for _ in range(4):
        call_with_retries(_Flaky(failures=2), _Flaky.classify, policy, label="t", circuit=circuit)
    assert circuit.take_probe() is None
