"""API keys, CORS, rate limiting, error bodies, history, metrics, logging."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from reels_scripter.config import Settings
from reels_scripter.logs import ContextFilter, JsonFormatter, RedactFilter, bind_job_id

from .conftest import LiveServer, app_of, services_of
from .test_uploads import assert_error, post_video

KEY_A = "alpha-key-1234567890"
KEY_B = "beta-key-0987654321"


def test_api_keys_guard_every_api_route(
    make_client: Callable[..., TestClient], videos: dict[str, Path]
) -> None:
    client = make_client(API_KEYS=f"{KEY_A}, {KEY_B}")
    for method, path in [
        ("GET", "/api/jobs"),
        ("GET", "/api/status/x"),
        ("POST", "/api/upload"),
        ("DELETE", "/api/jobs/x"),
    ]:
        resp = client.request(method, path)
        assert_error(resp, 401, "unauthorized")
        assert resp.headers["www-authenticate"] == "Bearer"
    assert_error(
        client.get("/api/jobs", headers={"Authorization": "Bearer wrong"}), 401, "unauthorized"
    )
    # probes stay open: load balancers send no key; metrics need one (test_metrics_access)
    assert client.get("/healthz").status_code == 200
    assert_error(client.get("/metrics"), 401, "unauthorized")

    a = {"Authorization": f"Bearer {KEY_A}"}
    b = {"X-API-Key": KEY_B}
    with videos["good"].open("rb") as f:
        resp = client.post("/api/upload", files={"video": ("a.mp4", f)}, headers=a)
    assert resp.status_code == 200, resp.text
    job_id = resp.json()["jobId"]

    # history is per key: B neither lists nor reads nor deletes A's job
    assert client.get("/api/jobs", headers=a).json()["total"] == 1
    assert client.get("/api/jobs", headers=b).json()["total"] == 0
    assert client.get(f"/api/status/{job_id}", headers=a).status_code == 200
    assert_error(client.get(f"/api/status/{job_id}", headers=b), 404, "job_not_found")
    assert_error(client.delete(f"/api/jobs/{job_id}", headers=b), 404, "job_not_found")

    # the owner stored is a hash, never the key
    services = services_of(client)
    with services.sessions() as session:
        from reels_scripter.jobs.models import Job

        job = session.get(Job, job_id)
        assert job is not None
        owner = job.owner
    assert owner and KEY_A not in owner


def test_oversized_headers_get_a_431(
    client: TestClient, live_server: Callable[..., LiveServer]
) -> None:
    big = {"X-Padding": "a" * 100_000}
    many = [(f"X-Header-{i}", "1") for i in range(5000)]
    assert_error(client.get("/api/jobs", headers=big), 431, "headers_too_large")
    assert_error(client.get("/healthz", headers=many), 431, "headers_too_large")
    # an ordinary request with a few KB of headers passes
    assert client.get("/healthz", headers={"X-Padding": "a" * 4000}).status_code == 200
    # the same through a real uvicorn server (its httptools parser sets no bound of its own)
    server = live_server()
    with httpx.Client(base_url=server.url, timeout=30) as http:
        assert_error(http.get("/api/jobs", headers=big), 431, "headers_too_large")
        assert_error(http.get("/healthz", headers=many), 431, "headers_too_large")
        assert http.get("/healthz").status_code == 200


def test_cors_allows_only_the_configured_origins(make_client: Callable[..., TestClient]) -> None:
    client = make_client(FRONTEND_URL="https://app.example.com, https://admin.example.com/")
    for origin in ("https://app.example.com", "https://admin.example.com"):
        resp = client.options(
            "/api/upload",
            headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
        )
        assert resp.status_code == 200
        assert resp.headers["access-control-allow-origin"] == origin
        assert resp.headers["access-control-allow-credentials"] == "true"
        got = client.get("/api/jobs", headers={"Origin": origin})
        assert got.headers["access-control-allow-origin"] == origin
    evil = client.get("/api/jobs", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in evil.headers
    preflight = client.options(
        "/api/upload",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers


def test_upload_rate_limit(make_client: Callable[..., TestClient]) -> None:
    client = make_client(UPLOAD_RATE_LIMIT="2/minute")
    for _ in range(2):
        assert_error(client.post("/api/upload"), 400, "no_file")
    resp = client.post("/api/upload")
    assert_error(resp, 429, "rate_limited")
    assert int(resp.headers["retry-after"]) > 0
    # other routes are not limited
    assert client.get("/api/jobs").status_code == 200


@pytest.mark.redis
def test_upload_rate_limit_in_redis(make_client: Callable[..., TestClient]) -> None:
    import uuid

    # two app instances (two API replicas) share one budget through Redis
    env = {"UPLOAD_RATE_LIMIT": "3/minute", "REDIS_URL": "redis://127.0.0.1:6379/0"}
    # a unique client address so parallel or repeated runs do not share a counter
    ip = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    one = TestClient(make_client(**env).app, client=(ip, 1234))
    two = TestClient(make_client(**env).app, client=(ip, 4321))
    codes = [c.post("/api/upload").status_code for c in (one, two, one, two)]
    assert codes == [400, 400, 400, 429]


def test_error_bodies_are_json(client: TestClient) -> None:
    assert_error(client.get("/nope"), 404, "not_found")
    assert_error(client.put("/api/upload"), 405, "method_not_allowed")
    assert_error(client.get("/api/jobs?limit=0"), 422, "validation_error")
    assert_error(client.get("/api/jobs?limit=abc"), 422, "validation_error")
    assert_error(client.get("/api/status/unknown"), 404, "job_not_found")
    assert (
        client.get("/api/status/unknown").json()["error"]
        == "Разбор не найден — возможно, его удалили."
    )
    assert_error(client.get("/api/jobs/unknown/script.md"), 404, "job_not_found")
    assert_error(client.get("/api/jobs/unknown/events"), 404, "job_not_found")


def test_unexpected_error_is_a_json_500(client: TestClient) -> None:
    def boom() -> None:
        raise RuntimeError("secret internals /etc/passwd")

    app_of(client).router.add_api_route("/api/boom", boom)
    resp = client.get("/api/boom")
    assert_error(resp, 500, "internal_error")
    assert "secret" not in resp.text


def test_history_pagination_and_script_before_completion(
    client: TestClient, videos: dict[str, Path]
) -> None:
    ids = [post_video(client, videos["good"]).json()["jobId"] for _ in range(3)]
    page = client.get("/api/jobs?limit=2").json()
    assert page["total"] == 3
    assert [j["id"] for j in page["items"]] == ids[::-1][:2]  # newest first
    rest = client.get("/api/jobs?limit=2&page=2").json()
    assert [j["id"] for j in rest["items"]] == ids[:1]
    assert client.get("/api/jobs?limit=1&offset=1").json()["items"][0]["id"] == ids[1]
    assert_error(client.get(f"/api/jobs/{ids[0]}/script.md"), 409, "not_completed")
    detail = client.get(f"/api/jobs/{ids[0]}").json()
    assert detail["state"] == "waiting" and detail["result"] is None


def test_metrics_text(client: TestClient, videos: dict[str, Path]) -> None:
    post_video(client, videos["good"])
    post_video(client, videos["png"])
    text = client.get("/metrics").text
    assert 'reels_jobs{state="waiting"} 1.0' in text
    assert "reels_queue_depth 1.0" in text
    assert 'reels_uploads_total{outcome="ok"} 1.0' in text
    assert 'reels_uploads_total{outcome="not_a_video"} 1.0' in text
    assert 'route="/api/upload"' in text
    assert "reels_upload_duration_seconds_bucket" in text


def test_healthz_and_docs(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/docs").status_code == 200
    schema = client.get("/openapi.json").json()
    body = schema["paths"]["/api/upload"]["post"]["requestBody"]
    assert "video" in body["content"]["multipart/form-data"]["schema"]["properties"]


def test_log_lines_carry_the_job_id_and_never_a_key() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "using key %s", (KEY_A,), None)
    with bind_job_id("job-123"):
        ContextFilter().filter(record)
    RedactFilter([KEY_A]).filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["job_id"] == "job-123"
    assert line["message"] == "using key ***"
    assert KEY_A not in json.dumps(line)


def test_status_reader_shows_the_row_with_a_person_readable_stage(
    settings_factory: Callable[..., Settings],
) -> None:
    from reels_scripter.api.status import StatusReader
    from reels_scripter.db import get_engine, session_factory, upgrade_database
    from reels_scripter.jobs.models import Job
    from reels_scripter.jobs.repository import StatusQuery

    settings = settings_factory()
    upgrade_database(settings)
    engine = get_engine(settings)
    with session_factory(settings)() as s:
        job = Job(sha256="0" * 64, size_bytes=1, settings_fingerprint="f", state="active")
        job.progress, job.stage = 60, "speech"
        s.add(job)
        s.commit()
        job_id = job.id
    reader = StatusReader(StatusQuery(engine), "ru", ttl_sec=60)
    body = json.loads(reader.load(job_id, None) or b"")
    assert body["progress"] == 60 and body["stageCode"] == "speech"
    assert body["stage"] == "Распознавание речи"
    assert reader.cached(job_id, None) is not None
    assert reader.load(job_id, "someone-else") is None
    reader.invalidate(job_id)
    assert reader.cached(job_id, None) is None
