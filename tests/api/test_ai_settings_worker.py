"""The provider switch without a restart, seen in a real worker process: a reel analysed
offline, then an AI connected from the page (PUT /api/settings/ai), then the same reel again:
the running worker writes it with Gemini (the fake, through the real SDK) and the stored key."""

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

import httpx
import pytest
from sqlalchemy import text

from reels_scripter.db import get_engine
from support.fake_ai import FakeGemini
from support.settings import make_settings

from .conftest import LiveServer

WORKER_CODE = """
from reels_scripter.config import Settings
from reels_scripter.worker.celery_app import run_worker
run_worker(Settings(), sweep=False, concurrency=1)
"""
KEY = "AIzaSy-worker-test-key-K9w3"


@pytest.fixture(
    params=[
        "embedded",
        pytest.param("postgres_redis", marks=[pytest.mark.postgres, pytest.mark.redis]),
    ]
)
def backend_env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    env: dict[str, Any] = {"JOB_QUEUE": f"ai-switch-{uuid.uuid4().hex[:8]}"}
    if request.param == "postgres_redis":
        env["DATABASE_URL"] = request.getfixturevalue("pg_url")
        env["REDIS_URL"] = "redis://127.0.0.1:6379/0"
    yield env
    if "DATABASE_URL" in env:  # the session's shared database: leave it as other tests expect
        settings = make_settings(tmp_path / "data", DATABASE_URL=env["DATABASE_URL"])
        with get_engine(settings).begin() as conn:
            conn.execute(text("TRUNCATE jobs, workers, ai_settings CASCADE"))


@pytest.fixture
def gemini(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGemini]:
    server = FakeGemini()
    server.valid_keys = {KEY}
    for name in ("GOOGLE_GENAI_USE_VERTEXAI", "GOOGLE_API_KEY", "GEMINI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    with server.running():
        monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", server.url)  # the worker inherits it
        yield server
    assert server.internal_errors == []


@pytest.fixture
def worker(
    backend_env: dict[str, Any], gemini: FakeGemini, tmp_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    skip = {"DATABASE_URL", "REDIS_URL", "AI_PROVIDER", "GOOGLE_AI_API_KEY", "API_KEYS"}
    env = {k: v for k, v in os.environ.items() if k not in skip}
    env.update(
        DATA_DIR=str(tmp_path / "data"),
        AI_PROVIDER="local",
        STORAGE_BACKEND="local",
        LOG_LEVEL="DEBUG",
        AI_RETRY_BASE_DELAY_SEC="0.01",
        **{k: str(v) for k, v in backend_env.items()},
    )
    log = (tmp_path / "worker.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-c", WORKER_CODE], env=env, cwd=tmp_path, stdout=log, stderr=log
    )
    yield proc
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.close()


def _analyse(base: str, video: Path, worker: subprocess.Popen[bytes], log: Path) -> Any:
    with video.open("rb") as f:
        resp = httpx.post(base + "/api/upload", files={"video": ("reel.mp4", f)}, timeout=30)
    assert resp.status_code == 200, resp.text
    job_id = resp.json()["jobId"]
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        assert worker.poll() is None, log.read_text(errors="replace")[-3000:]
        status = httpx.get(f"{base}/api/status/{job_id}", timeout=10).json()
        if status["state"] in ("completed", "failed"):
            assert status["state"] == "completed", (status, log.read_text(errors="replace")[-3000:])
            return status["result"]
        time.sleep(0.3)
    raise AssertionError("job did not finish: " + log.read_text(errors="replace")[-3000:])


@pytest.mark.slow
def test_a_key_connected_on_the_page_is_used_by_the_running_worker(
    backend_env: dict[str, Any],
    worker: subprocess.Popen[bytes],
    gemini: FakeGemini,
    live_server: Callable[..., LiveServer],
    videos: dict[str, Path],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("DEBUG")
    server = live_server(**backend_env)
    log = tmp_path / "worker.log"

    first = _analyse(server.url, videos["good"], worker, log)
    assert first["meta"]["provider"] == "local"
    assert gemini.generate_calls() == []

    resp = httpx.put(
        server.url + "/api/settings/ai", json={"provider": "gemini", "apiKey": KEY}, timeout=30
    )
    assert resp.status_code == 200, resp.text

    # the same bytes again: no stale offline answer reused, no worker restart
    second = _analyse(server.url, videos["good"], worker, log)
    assert second["meta"]["provider"] == "gemini"
    assert second["meta"]["model"] == "gemini-3.5-flash-lite"
    calls = gemini.generate_calls()
    assert calls and {c.headers.get("x-goog-api-key") for c in calls} == {KEY}
    assert worker.poll() is None  # the same process wrote both

    assert KEY not in log.read_text(errors="replace")
    assert KEY not in caplog.text
