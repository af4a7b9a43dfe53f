"""The provider switch without a restart, seen in a real worker process: a reel analysed
offline, then an AI connected from the page (PUT /api/settings/ai), then the same reel again:
the running worker writes it with Gemini (the fake, through the real SDK) and the stored key."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from support.fake_ai import GEMINI_KEY, FakeGemini

from .conftest import LiveServer, worker_process


@pytest.fixture
def worker(
    backend_env: dict[str, Any], gemini: FakeGemini, tmp_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    # DEBUG: the test reads the whole log for the key
    with worker_process(
        tmp_path, LOG_LEVEL="DEBUG", AI_RETRY_BASE_DELAY_SEC="0.01", **backend_env
    ) as proc:
        yield proc


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
        server.url + "/api/settings/ai",
        json={"provider": "gemini", "apiKey": GEMINI_KEY},
        timeout=30,
    )
    assert resp.status_code == 200, resp.text

    # the same bytes again: no stale offline answer reused, no worker restart
    second = _analyse(server.url, videos["good"], worker, log)
    assert second["meta"]["provider"] == "gemini"
    assert second["meta"]["model"] == "gemini-3.5-flash-lite"
    calls = gemini.generate_calls()
    assert calls and {c.headers.get("x-goog-api-key") for c in calls} == {GEMINI_KEY}
    assert worker.poll() is None  # the same process wrote both

    assert GEMINI_KEY not in log.read_text(errors="replace")
    assert GEMINI_KEY not in caplog.text
