"""`reels-scripter serve` as a person runs it: `.env.example` copied to `.env` completes a job;
the embedded worker is restarted when killed and dies with `serve`; a worker that cannot
start is not restarted in a loop, and the API says why."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from reels_scripter.db import session_factory
from reels_scripter.providers.registry import all_env_names
from reels_scripter.worker import presence
from support.reelgen import make_reel
from support.settings import make_settings

pytestmark = [pytest.mark.slow]

ROOT = Path(__file__).parents[2]
BIN = Path(sys.executable).parent
RUSSIAN = re.compile("[а-яё]", re.IGNORECASE)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Serve:
    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = cwd / "serve.log"
        settings_env = set(all_env_names())
        clean = {k: v for k, v in os.environ.items() if k not in settings_env}
        clean["PATH"] = f"{BIN}{os.pathsep}{clean.get('PATH', '')}"
        self.process = subprocess.Popen(
            [str(BIN / "reels-scripter"), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=cwd,
            env={**clean, **env},
            stdout=self.log_path.open("wb"),
            stderr=subprocess.STDOUT,
        )
        self.seen: set[int] = set()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_up(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log()
            try:
                httpx.get(self.url + "/healthz", timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise AssertionError(f"serve did not start:\n{self.log()}")

    def worker_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if httpx.get(self.url + "/readyz", timeout=5).json()["checks"]["worker"] == "ok":
                return
            time.sleep(0.2)
        raise AssertionError(f"no live worker:\n{self.log()}")

    def worker(self) -> psutil.Process | None:
        """The embedded worker process serve started last, if it runs (Celery renames its
        processes, so the pid comes from serve's log line)."""
        started = re.findall(r"embedded worker started \(pid (\d+)\)", self.log())
        if not started:
            return None
        try:
            worker = psutil.Process(int(started[-1]))
            self.seen |= {worker.pid, *(c.pid for c in worker.children(recursive=True))}
        except psutil.NoSuchProcess:
            return None
        return worker if worker.status() != psutil.STATUS_ZOMBIE else None

    def upload(self, video: Path) -> httpx.Response:
        with video.open("rb") as f:
            return httpx.post(
                self.url + "/api/upload", files={"video": (video.name, f)}, timeout=60
            )

    def status(self, job_id: str) -> dict[str, Any]:
        body: dict[str, Any] = httpx.get(f"{self.url}/api/jobs/{job_id}", timeout=10).json()
        return body

    def wait_job(self, job_id: str, until: Callable[[dict[str, Any]], bool], timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            body = self.status(job_id)
            if until(body):
                return body
            time.sleep(0.2)
        raise AssertionError(f"job {job_id}: {self.status(job_id)}\n{self.log()[-4000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=90)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        for pid in self.seen:  # never leave a test's processes behind, whatever failed
            try:
                psutil.Process(pid).kill()
            except psutil.NoSuchProcess:
                continue


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Serve]]:
    started: list[Serve] = []

    def start(env: dict[str, str] | None = None, cwd: Path | None = None) -> Serve:
        instance = Serve(cwd or tmp_path, env or {})
        started.append(instance)
        instance.wait_up()
        return instance

    yield start
    for instance in started:
        instance.stop()


def gone(pids: set[int], timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = [p for p in pids if psutil.pid_exists(p) and psutil.Process(p).status() != "zombie"]
        if not alive:
            return True
        time.sleep(0.1)
    return False


def test_env_example_copied_to_env_serves_a_job_end_to_end(
    serve: Callable[..., Serve], tmp_path: Path
) -> None:
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    app = serve()  # nothing else set: the environment holds no setting at all
    log = app.log()
    assert "embedded worker started" in log and "Traceback" not in log
    reel = make_reel(tmp_path / "reel.mp4", duration=2.0, cuts=(1.0,), fps=10, audio="tone")
    resp = app.upload(reel)
    assert resp.status_code == 200, resp.text
    job_id = resp.json()["jobId"]
    done = app.wait_job(job_id, lambda j: j["state"] in ("completed", "failed"), timeout=180)
    assert done["state"] == "completed", (done, app.log()[-3000:])
    status = httpx.get(f"{app.url}/api/status/{job_id}", timeout=10).json()
    assert status["progress"] == 100 and status["result"]["script"]
    assert done["videoStored"] is True  # kept for playback (VIDEO_RETENTION_HOURS=24)
    assert (tmp_path / "data" / "reels.db").exists()  # DATA_DIR=./data from .env
    assert httpx.get(app.url + "/readyz", timeout=10).json()["status"] == "ok"


# HEARTBEAT_STALE_SEC stays at its default (30 s): the killed worker's job must come back
# because serve saw its worker die, not because its heartbeat went stale
FAST = {
    "HEARTBEAT_INTERVAL_SEC": "0.5",
    "JOB_PROGRESS_DELAY_SEC": "0.3",
    "UPLOAD_RATE_LIMIT": "",
}


def test_a_killed_embedded_worker_is_restarted_and_dies_with_serve(
    serve: Callable[..., Serve], tmp_path: Path
) -> None:
    app = serve({**FAST, "DATA_DIR": str(tmp_path / "data")})
    app.worker_ready()
    first = app.worker()
    assert first is not None
    reel = make_reel(tmp_path / "slow.mp4", duration=2.0, cuts=(1.0,), fps=10)
    job_id = app.upload(reel).json()["jobId"]
    app.wait_job(job_id, lambda j: j["state"] == "active" and j["progress"] > 0, timeout=60)
    pool = {c.pid for c in first.children(recursive=True)}
    assert pool, "the worker runs its analyses in pool processes"

    killed_at = time.monotonic()
    first.send_signal(signal.SIGKILL)
    # its pool process (running the job) dies with it: no orphan keeps analysing
    assert gone({first.pid, *pool}), "an orphan of the killed worker is still running"
    while (second := app.worker()) is None or second.pid == first.pid:
        assert time.monotonic() - killed_at < 30, app.log()[-3000:]
        time.sleep(0.1)
    # ready: the new worker's consumer is up and has reported itself in the workers table
    settings = make_settings(tmp_path / "data")
    name = presence.node_name(second.pid)
    while True:
        with session_factory(settings)() as session:
            row = session.get(presence.WorkerRecord, name)
            if row is not None and row.state == presence.RUNNING:
                break
        assert time.monotonic() - killed_at < 60, app.log()[-3000:]
        time.sleep(0.1)
    restarted_in = time.monotonic() - killed_at
    print(f"embedded worker restarted (consumer ready) in {restarted_in:.1f} s")
    assert restarted_in < 20
    assert re.search(r"embedded worker \(pid \d+\) was killed by SIGKILL; restarting", app.log())

    app.wait_job(job_id, lambda j: j["lostCount"] == 1 and j["state"] != "waiting", timeout=30)
    recovered_in = time.monotonic() - killed_at
    print(f"its job running again after {recovered_in:.1f} s")
    assert recovered_in < 20  # well before the 30 s staleness
    done = app.wait_job(job_id, lambda j: j["state"] in ("completed", "failed"), timeout=120)
    assert done["state"] == "completed", (done, app.log()[-3000:])
    assert (done["attempts"], done["lostCount"]) == (1, 1)

    # serve killed outright: its worker notices and goes too, pool processes included
    family = {second.pid, *(c.pid for c in second.children(recursive=True))}
    app.process.send_signal(signal.SIGKILL)
    app.process.wait(timeout=10)
    assert gone(family), "the embedded worker outlived serve"


def test_a_worker_that_cannot_start_is_not_restarted_and_the_api_says_why(
    serve: Callable[..., Serve], tmp_path: Path
) -> None:
    app = serve({"AI_PROVIDER": "no-such-provider", "DATA_DIR": str(tmp_path / "data")})
    deadline = time.monotonic() + 60
    while "cannot start" not in app.log():
        assert time.monotonic() < deadline, app.log()
        time.sleep(0.2)
    time.sleep(4)  # long enough for a restart loop to show
    log = app.log()
    assert log.count("embedded worker started") == 1, log
    assert "Traceback" not in log
    why = [line for line in log.splitlines() if "cannot start" in line]
    assert len(why) == 1 and "AI provider 'no-such-provider' is not usable" in why[0], why

    ready = httpx.get(app.url + "/readyz", timeout=10)
    assert ready.status_code == 503
    assert ready.json()["checks"]["worker"].startswith("failed: ai_provider: AI provider")
    reel = make_reel(tmp_path / "r.mp4", duration=1.0, fps=10)
    refused = app.upload(reel)
    assert refused.status_code == 503, refused.text
    body = refused.json()
    assert body["code"] == "worker_unavailable" and RUSSIAN.search(body["error"])
    assert list((tmp_path / "data" / "tmp").glob("upload-*")) == []
    assert httpx.get(app.url + "/api/jobs", timeout=10).json()["total"] == 0
    app.process.send_signal(signal.SIGTERM)
    assert app.process.wait(timeout=30) is not None
