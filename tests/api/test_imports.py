"""`POST /api/import` and the worker's download stage, end to end with the real yt-dlp against a
local site (loopback allowed by IMPORT_ALLOW_PRIVATE=true where a test fetches)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from reels_scripter.jobs.repository import JobRepository
from reels_scripter.jobs.runner import run_job
from support.reelgen import make_reel
from support.video_site import VideoSite

from .conftest import leftovers, services_of


@pytest.fixture
def site() -> Iterator[VideoSite]:
    with VideoSite() as running:
        yield running


@pytest.fixture(scope="module")
def short_reel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("reels")
    return make_reel(d / "short.mp4", duration=2.0, width=64, height=112, fps=15, audio="tone")


def _jobs_in(client: TestClient) -> int:
    with services_of(client).sessions() as session:
        return sum(JobRepository(session).count_by_state().values())


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/v/reel.mp4",
        "http://[::1]:{port}/",
        "http://2130706433:{port}/",
        "http://169.254.169.254/latest/meta-data/",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "ftp://example.com/reel.mp4",
    ],
)
def test_private_and_non_http_links_are_refused_before_any_connection(
    make_client: Callable[..., TestClient], site: VideoSite, url: str
) -> None:
    client = make_client()  # IMPORT_ALLOW_PRIVATE unset
    response = client.post("/api/import", json={"url": url.format(port=site.port)})
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] in ("link_forbidden", "link_invalid")
    assert body["error"].endswith(".") and any("а" <= ch <= "я" for ch in body["error"])
    assert site.requests == []  # nothing was fetched, not even the first hop
    assert _jobs_in(client) == 0


def test_no_link_is_a_russian_422(make_client: Callable[..., TestClient]) -> None:
    client = make_client()
    bodies: list[dict[str, Any]] = [
        {"json": {}},
        {"json": ["x"]},
        {"content": b"not json"},
        {"data": {"x": "1"}},
    ]
    for kwargs in bodies:
        response = client.post("/api/import", **kwargs)
        assert response.status_code == 422
        assert response.json() == {"error": "Вставьте ссылку на ролик.", "code": "no_link"}


def _status(client: TestClient, job_id: str) -> dict[str, Any]:
    response = client.get(f"/api/status/{job_id}")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def test_direct_link_imports_analyses_and_keeps_the_source(
    make_client: Callable[..., TestClient],
    site: VideoSite,
    short_reel: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = make_client(IMPORT_ALLOW_PRIVATE=True)
    settings = services_of(client).settings
    url = site.add("reel.mp4", short_reel)
    response = client.post("/api/import", json={"url": url})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True and body["message"].startswith("Ссылка принята")
    job_id = body["jobId"]
    assert site.requests == []  # the API process fetched nothing
    queued = _status(client, job_id)
    assert queued["state"] == "waiting"

    stages: list[tuple[str, int]] = []
    real = JobRepository.set_progress

    def spy(self: JobRepository, claim: Any, stage: str, progress: int) -> bool:
        stages.append((stage, progress))
        return real(self, claim, stage, progress)

    monkeypatch.setattr(JobRepository, "set_progress", spy)
    assert run_job(job_id, settings).status == "completed"
    assert stages[0] == ("import", 0)
    # then the analysis, as for an upload, on the rest of the bar (writes are throttled, so
    # only some stages show)
    later = [(s, p) for s, p in stages if s != "import"]
    assert later and all(p >= 15 for _, p in later)

    status = _status(client, job_id)
    assert status["state"] == "completed"
    result = status["result"]
    assert result["source"]["url"] == url
    assert result["source"]["platform"] == "web"
    assert any("ffmpeg" in w for w in result["meta"]["warnings"])  # none on this machine
    detail = client.get(f"/api/jobs/{job_id}").json()
    assert detail["duration"] == pytest.approx(2.0, abs=0.1)
    # the video is stored like an upload's, for playback
    assert client.get(f"/api/jobs/{job_id}/video").status_code == 200
    assert not list((settings.data_dir / "tmp").glob(f"job-{job_id}-*"))

    # the same link again: the earlier answer, nothing fetched
    fetched = len(site.requests)
    again = client.post("/api/import", data={"url": url + "#t=1"})
    assert again.status_code == 200
    second = _status(client, again.json()["jobId"])
    assert second["state"] == "completed" and second["stageCode"] == "deduplicated"
    assert second["result"]["keys"] == result["keys"]
    assert second["result"]["source"] == result["source"]
    assert len(site.requests) == fetched

    # the same bytes from another link: fetched, then answered from the earlier analysis
    other = client.post("/api/import", json={"url": site.url("/page/reel.mp4")}).json()["jobId"]
    assert run_job(other, settings).status == "completed"
    third = _status(client, other)
    assert third["stageCode"] == "deduplicated"
    assert third["result"]["keys"] == result["keys"]


def _failed_import(client: TestClient, url: str) -> dict[str, Any]:
    settings = services_of(client).settings
    job_id = client.post("/api/import", json={"url": url}).json()["jobId"]
    assert run_job(job_id, settings).status == "failed"
    status = _status(client, job_id)
    assert status["state"] == "failed"
    # no partial file anywhere: no temp download, no stored object
    assert leftovers(settings.data_dir) == []
    return status


def test_too_long_video_fails_as_link_too_long(
    make_client: Callable[..., TestClient], site: VideoSite, tmp_path: Path
) -> None:
    long = make_reel(tmp_path / "long.mp4", duration=200.0, width=64, height=112, fps=5)
    client = make_client(IMPORT_ALLOW_PRIVATE=True, JOB_MAX_ATTEMPTS=1)
    status = _failed_import(client, site.add("long.mp4", long))
    assert status["code"] == "link_too_long"
    assert status["error"] == "Видео по ссылке длится 200\u00a0с — больше допустимых 180\u00a0с."


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/gone.mp4", "link_not_found"),
        ("/chunked/150", "link_too_large"),
        ("/stall", "link_timeout"),
    ],
)
def test_download_failures_have_their_codes(
    make_client: Callable[..., TestClient], site: VideoSite, path: str, code: str
) -> None:
    client = make_client(IMPORT_ALLOW_PRIVATE=True, JOB_MAX_ATTEMPTS=1, IMPORT_STALL_SEC=1.5)
    status = _failed_import(client, site.url(path))
    assert status["code"] == code
    assert status["error"].endswith(".")


def test_imports_are_rate_limited_like_uploads(
    make_client: Callable[..., TestClient], site: VideoSite, short_reel: Path
) -> None:
    client = make_client(IMPORT_ALLOW_PRIVATE=True, UPLOAD_RATE_LIMIT="2/minute")
    url = site.add("reel.mp4", short_reel)
    answers = [client.post("/api/import", json={"url": url}).status_code for _ in range(3)]
    assert answers == [200, 200, 429]
    refused = client.post("/api/import", json={"url": url})
    assert refused.json()["code"] == "rate_limited"
