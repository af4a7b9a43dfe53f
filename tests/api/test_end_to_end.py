"""The seed's round trip through real HTTP and a real Celery worker process: upload, follow
the job's events, read the status and the Markdown script, see it in metrics, delete it.

Runs on embedded defaults (SQLite database and broker, local storage under DATA_DIR) and on
PostgreSQL + Redis (the production shape), each against its own database and queue.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import LiveServer, leftovers, worker_process


@pytest.fixture
def worker(backend_env: dict[str, Any], tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    with worker_process(tmp_path, LOG_LEVEL="WARNING", **backend_env) as proc:
        yield proc


def read_events(
    url: str, deadline: float, worker: subprocess.Popen[bytes]
) -> list[tuple[str, dict[str, Any]]]:
    """Events until the stream ends, the deadline passes or the worker dies."""
    events: list[tuple[str, dict[str, Any]]] = []
    event = "message"
    # the read timeout outlasts the stream's 15 s heartbeat, so silence means a dead server
    with httpx.stream("GET", url, timeout=httpx.Timeout(30)) as resp:
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/event-stream")
        for line in resp.iter_lines():
            if time.monotonic() > deadline or worker.poll() is not None:
                break
            if line.startswith("event: "):
                event = line[len("event: ") :]
            elif line.startswith("data: "):
                events.append((event, json.loads(line[len("data: ") :])))
    return events


@pytest.mark.slow
def test_upload_to_completed_script(
    backend_env: dict[str, Any],
    worker: subprocess.Popen[bytes],
    live_server: Callable[..., LiveServer],
    videos: dict[str, Path],
    tmp_path: Path,
) -> None:
    server = live_server(**backend_env)
    base = server.url
    with videos["good"].open("rb") as f:
        resp = httpx.post(base + "/api/upload", files={"video": ("мой.mp4", f)}, timeout=30)
    assert resp.status_code == 200, resp.text
    job_id = resp.json()["jobId"]

    started = time.monotonic()
    events = read_events(f"{base}/api/jobs/{job_id}/events", started + 180, worker)
    log = (tmp_path / "worker.log").read_text(errors="replace")
    assert events, log
    kinds = [k for k, _ in events]
    assert kinds[-1] == "completed", (events[-1], log[-3000:])
    assert set(kinds[:-1]) <= {"progress"}
    progress = [e["progress"] for _, e in events]
    assert progress == sorted(progress), "progress went backwards"
    assert progress[-1] == 100

    status = httpx.get(f"{base}/api/status/{job_id}").json()
    assert status["state"] == "completed"
    assert status["progress"] == 100
    assert status["error"] is None
    result = status["result"]
    assert set(result) >= {"original", "keys", "script", "recommendations"}
    assert len(result["keys"]) == 5
    assert result["script"]

    # every scene links its keyframe under this job; the picture is a JPEG from storage
    scenes = result["timeline"]["scenes"]
    assert scenes
    for scene in scenes:
        assert scene["keyframe"] == f"/api/jobs/{job_id}/keyframes/{scene['index']}.jpg"
    pic = httpx.get(base + scenes[0]["keyframe"])
    assert pic.status_code == 200, pic.text
    assert pic.headers["content-type"] == "image/jpeg" and pic.content[:2] == b"\xff\xd8"
    missing = httpx.get(f"{base}/api/jobs/{job_id}/keyframes/{len(scenes)}.jpg")
    assert missing.status_code == 404 and missing.json()["code"] == "keyframe_not_found"
    detail = httpx.get(f"{base}/api/jobs/{job_id}").json()
    assert detail["result"]["timeline"]["scenes"][0]["keyframe"] == scenes[0]["keyframe"]
    stored = [p for p in leftovers(tmp_path / "data") if "keyframes" in p.parts]
    assert len(stored) == len(scenes)

    md = httpx.get(f"{base}/api/jobs/{job_id}/script.md")
    assert md.status_code == 200
    assert md.headers["content-type"].startswith("text/markdown")
    assert "| Время |" in md.text

    page = httpx.get(f"{base}/api/jobs").json()
    assert page["total"] == 1
    assert page["items"][0]["id"] == job_id
    assert page["items"][0]["displayName"] == "мой.mp4"

    metrics = httpx.get(f"{base}/metrics").text
    assert 'reels_jobs{state="completed"} 1.0' in metrics
    assert "reels_queue_depth 0.0" in metrics
    assert "reels_job_duration_seconds" in metrics

    ready = httpx.get(f"{base}/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {
        "database": "ok",
        "broker": "ok",
        "storage": "ok",
        "worker": "ok",  # the worker's heartbeat, read from the database
    }

    # the video stays for playback after the analysis; deleting the job takes it at once
    assert detail["videoStored"] is True
    assert httpx.get(f"{base}/api/jobs/{job_id}/video").status_code == 200
    assert [p for p in leftovers(tmp_path / "data") if "uploads" in p.parts]
    assert httpx.delete(f"{base}/api/jobs/{job_id}").status_code == 204
    assert not [p for p in leftovers(tmp_path / "data") if "uploads" in p.parts]
    gone = httpx.get(f"{base}/api/status/{job_id}")
    assert gone.status_code == 404
    assert gone.json() == {
        "error": "Разбор не найден — возможно, его удалили.",
        "code": "job_not_found",
    }
    assert httpx.get(base + scenes[0]["keyframe"]).status_code == 404
    assert not [p for p in leftovers(tmp_path / "data") if "keyframes" in p.parts]
