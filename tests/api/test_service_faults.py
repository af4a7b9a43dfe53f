"""The API under faults: malformed job ids on both databases, stalled and excess uploads
against a live uvicorn, a worker that cannot start, readiness, 405s, request ids and traces,
and the metrics token."""

from __future__ import annotations

import json
import logging
import re
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from reels_scripter.db import get_engine, session_factory
from reels_scripter.logs import ContextFilter, JsonFormatter
from reels_scripter.worker import presence

from .conftest import LiveServer, app_of, services_of
from .test_uploads import assert_error, post_video

RUSSIAN = re.compile("[а-яё]", re.IGNORECASE)
KEY = "faults-key-1234567"

JOB_ROUTES = [
    ("GET", "/api/status/{id}"),
    ("GET", "/api/jobs/{id}"),
    ("DELETE", "/api/jobs/{id}"),
    ("GET", "/api/jobs/{id}/script.md"),
    ("GET", "/api/jobs/{id}/script.docx"),
    ("GET", "/api/jobs/{id}/subtitles.srt"),
    ("GET", "/api/jobs/{id}/subtitles.vtt"),
    ("GET", "/api/jobs/{id}/keyframes/0.jpg"),
    ("GET", "/api/jobs/{id}/events"),
    ("GET", "/api/jobs/{id}/video"),
    ("POST", "/api/jobs/{id}/access"),
]
BAD_IDS = [
    "%00",
    "abc%00def",
    "0b5c6d7e-0000-4000-8000-00000000000%00",
    "nope",
    "%E2%80%AE",
    "0B5C6D7E-0000-4000-8000-000000000000",  # a UUID, but not as we write them
    "x" * 300,
    "'%20OR%201=1--",
]


@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_malformed_job_ids_are_404_on_every_route_and_database(
    db: str, make_client: Callable[..., TestClient], request: pytest.FixtureRequest
) -> None:
    env: dict[str, Any] = {"API_KEYS": KEY}
    if db == "postgres":
        env["DATABASE_URL"] = request.getfixturevalue("pg_url")
    client = make_client(**env)
    headers = {"X-API-Key": KEY}
    for method, template in JOB_ROUTES:
        for bad in BAD_IDS:
            resp = client.request(method, template.replace("{id}", bad), headers=headers)
            assert resp.status_code == 404, (method, template, bad, resp.text)
            assert resp.json()["code"] in ("job_not_found", "not_found"), resp.text


def test_a_405_lists_every_method_of_the_path(client: TestClient) -> None:
    job = "0b5c6d7e-0000-4000-8000-000000000000"
    resp = client.put(f"/api/jobs/{job}")
    assert_error(resp, 405, "method_not_allowed")
    assert resp.headers["allow"] == "DELETE, GET"
    assert client.post("/api/upload/x").status_code == 404
    assert client.get("/api/upload").headers["allow"] == "POST"


# --- request ids, traces ---------------------------------------------------------------


def test_request_id_is_honoured_or_made(client: TestClient) -> None:
    given = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.9"})
    assert given.headers["x-request-id"] == "lb-7f3a.9"
    # not echoed when it could smuggle anything into logs or headers
    for bad in (b"a b", b"x" * 200, b"<script>", "ключ".encode()):
        made = client.get("/healthz", headers={b"X-Request-ID": bad})
        assert re.fullmatch(r"[0-9a-f]{16}", made.headers["x-request-id"]), bad


def test_json_logs_carry_the_cloud_trace(make_client: Callable[..., TestClient]) -> None:
    client = make_client(GOOGLE_CLOUD_PROJECT_ID="reels-prod", NODE_ENV="production")
    lines: list[dict[str, Any]] = []
    formatter = JsonFormatter(project="reels-prod")

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(json.loads(formatter.format(record)))

    handler = Capture()
    handler.addFilter(ContextFilter())
    logger = logging.getLogger("reels_scripter.api.endpoints.uploads")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    try:
        client.post(
            "/api/upload",
            headers={"X-Cloud-Trace-Context": f"{trace}/1234567890;o=1", "X-Request-ID": "r-1"},
        )
        client.post(
            "/api/upload",
            headers={"traceparent": f"00-{trace[::-1]}-00f067aa0ba902b7-01"},
        )
    finally:
        logger.removeHandler(handler)
    first, second = lines[-2], lines[-1]
    assert first["logging.googleapis.com/trace"] == f"projects/reels-prod/traces/{trace}"
    assert first["logging.googleapis.com/spanId"] == f"{1234567890:016x}"
    assert first["request_id"] == "r-1"
    assert second["logging.googleapis.com/trace"].endswith(trace[::-1])
    assert second["logging.googleapis.com/spanId"] == "00f067aa0ba902b7"


# --- /metrics ------------------------------------------------------------------------------


def test_metrics_access(make_client: Callable[..., TestClient]) -> None:
    assert make_client().get("/metrics").status_code == 200  # no keys: open, as before
    keyed = make_client(API_KEYS=KEY)
    assert_error(keyed.get("/metrics"), 401, "unauthorized")
    assert keyed.get("/metrics", headers={"Authorization": f"Bearer {KEY}"}).status_code == 200
    tokened = make_client(API_KEYS=KEY, METRICS_TOKEN="scrape-token-99")
    assert_error(tokened.get("/metrics", headers={"X-API-Key": KEY}), 401, "unauthorized")
    ok = tokened.get("/metrics", headers={"Authorization": "Bearer scrape-token-99"})
    assert ok.status_code == 200 and "reels_jobs" in ok.text
    assert make_client(API_KEYS=KEY, METRICS_PUBLIC="true").get("/metrics").status_code == 200


# --- a worker that cannot start -----------------------------------------------------------


def _record(app: FastAPI, fn: Callable[..., None], *args: Any) -> None:
    with session_factory(app.state.services.settings)() as session:
        fn(session, *args)
        session.commit()
    app.state.services._worker_health = None  # forget the 2 s cache


def test_a_worker_that_cannot_start_stops_uploads_and_says_why(
    make_client: Callable[..., TestClient], videos: dict[str, Path]
) -> None:
    client = make_client(GOOGLE_AI_API_KEY="AIza-secret-key-123")
    app = app_of(client)
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["worker"] == "missing: no worker has started"
    # no worker yet is not a reason to refuse: a starting worker will take the job
    assert post_video(client, videos["good"]).status_code == 200

    why = "AI provider 'gemini' is not usable: API key AIza-secret-key-123 rejected (HTTP 400)"
    _record(app, presence.record_failure, "reels-1@host", presence.CAUSE_AI_PROVIDER, why)
    resp = post_video(client, videos["good"])
    assert_error(resp, 503, "worker_unavailable")
    body = resp.json()
    assert RUSSIAN.search(body["error"]) and "ИИ-сервис не принимает ключ" in body["error"]
    assert "AIza-secret-key-123" not in resp.text and "rejected (HTTP 400)" in body["detail"]
    assert resp.headers["retry-after"]
    ready = client.get("/readyz").json()
    assert ready["status"] == "unavailable"
    assert ready["checks"]["worker"].startswith("failed: ai_provider: AI provider 'gemini'")

    # the setting fixed, a worker starts and heartbeats: uploads are taken again
    _record(app, presence.record_running, "reels-2@host")
    assert post_video(client, videos["good"]).status_code == 200
    assert client.get("/readyz").json() == {
        "status": "ok",
        "checks": {"database": "ok", "broker": "ok", "storage": "ok", "worker": "ok"},
    }


def test_a_stale_worker_makes_readyz_say_so(make_client: Callable[..., TestClient]) -> None:
    client = make_client(HEARTBEAT_STALE_SEC="1")
    _record(app_of(client), presence.record_running, "reels-3@host")
    assert client.get("/readyz").status_code == 200
    time.sleep(2.1)  # the heartbeat ages past HEARTBEAT_STALE_SEC (and the 2 s cache)
    check = client.get("/readyz").json()["checks"]["worker"]
    assert re.fullmatch(r"stale: no worker heartbeat for \d+ s", check), check


# --- stalled and excess uploads, against a live server ------------------------------------

BOUNDARY = b"stallb0undary"
FTYP = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"


def start_upload(server: LiveServer, sent: int = 8192, total: int = 1_000_000) -> socket.socket:
    """An upload that announces `total` bytes and sends only the first `sent`."""
    head = (
        b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="video"; filename="a.mp4"'
        b"\r\nContent-Type: video/mp4\r\n\r\n"
    )
    body_start = head + FTYP + bytes(sent - len(head) - len(FTYP))
    request = (
        b"POST /api/upload HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: multipart/form-data; boundary=" + BOUNDARY + b"\r\n"
        b"Content-Length: " + str(total).encode() + b"\r\n\r\n"
    )
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.sendall(request + body_start)
    return sock


def read_reply(sock: socket.socket, timeout: float) -> bytes:
    sock.settimeout(timeout)
    data = b""
    try:
        while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except TimeoutError:
        pass
    return data


def temp_uploads(server: LiveServer, timeout: float = 3.0) -> list[Path]:
    tmp = server.app.state.services.tmp_dir
    deadline = time.monotonic() + timeout
    while True:
        left = sorted(tmp.glob("upload-*.part"))
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.05)


def test_a_stalled_upload_is_cut_off_and_leaves_nothing(
    live_server: Callable[..., LiveServer],
) -> None:
    server = live_server(UPLOAD_IDLE_TIMEOUT_SEC="1")
    sock = start_upload(server)
    started = time.monotonic()
    while not temp_uploads(server, timeout=0) and time.monotonic() - started < 0.8:
        time.sleep(0.02)
    assert temp_uploads(server, timeout=0)  # the temp file exists while it is receiving
    with sock:
        reply = read_reply(sock, timeout=10)
    waited = time.monotonic() - started
    assert reply.startswith(b"HTTP/1.1 408"), reply[:300]
    body = json.loads(reply.split(b"\r\n\r\n", 1)[1])
    assert body["code"] == "upload_timeout" and RUSSIAN.search(body["error"])
    assert 0.9 <= waited < 4, waited
    assert temp_uploads(server) == []


def test_a_trickling_upload_is_cut_off_at_its_deadline(
    live_server: Callable[..., LiveServer],
) -> None:
    server = live_server(UPLOAD_IDLE_TIMEOUT_SEC="5", UPLOAD_DEADLINE_SEC="1.5")
    sock = start_upload(server)
    started = time.monotonic()
    with sock:
        for _ in range(40):  # one byte every 0.1 s: never idle, always too slow
            try:
                sock.sendall(b"\x00")
            except OSError:
                break  # the server answered and closed
            time.sleep(0.1)
            if time.monotonic() - started > 3:
                break
        reply = read_reply(sock, timeout=5)
    assert reply.startswith(b"HTTP/1.1 408"), reply[:300]
    assert b'"code":"upload_timeout"' in reply
    assert temp_uploads(server) == []


def test_excess_uploads_get_a_503_with_retry_after(
    live_server: Callable[..., LiveServer], videos: dict[str, Path]
) -> None:
    server = live_server(MAX_CONCURRENT_UPLOADS="1", UPLOAD_IDLE_TIMEOUT_SEC="30")
    holding = start_upload(server)  # takes the only slot and keeps it
    time.sleep(0.3)
    with videos["good"].open("rb") as f:
        refused = httpx.post(
            server.url + "/api/upload", files={"video": ("good.mp4", f)}, timeout=10
        )
    assert_error(refused, 503, "too_many_uploads")
    assert refused.headers["retry-after"] == "10"
    assert RUSSIAN.search(refused.json()["error"])
    holding.close()  # the client goes away: its slot and temp file are freed
    deadline = time.monotonic() + 10
    while True:
        with videos["good"].open("rb") as f:
            resp = httpx.post(
                server.url + "/api/upload", files={"video": ("good.mp4", f)}, timeout=30
            )
        if resp.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert resp.status_code == 200, resp.text
    assert temp_uploads(server) == []


def test_postgres_job_routes_answer_after_a_worker_loss(
    make_client: Callable[..., TestClient], request: pytest.FixtureRequest
) -> None:
    """The loss counter is shown in the history and the job page."""
    url = request.getfixturevalue("pg_url")
    client = make_client(DATABASE_URL=url)
    settings = services_of(client).settings
    try:
        from support.factories import submit_job

        with session_factory(settings)() as session:
            job = submit_job(session, settings)
            session.execute(text("UPDATE jobs SET lost_count = 2 WHERE id = :id"), {"id": job.id})
            session.commit()
        detail = client.get(f"/api/jobs/{job.id}").json()
        assert detail["lostCount"] == 2 and detail["attempts"] == 0
        assert client.get("/api/jobs").json()["items"][0]["lostCount"] == 2
    finally:
        with get_engine(settings).begin() as conn:
            conn.execute(text("TRUNCATE jobs, workers CASCADE"))


def test_cached_status_polls_keep_every_access_rule(
    make_client: Callable[..., TestClient], videos: dict[str, Path]
) -> None:
    """A cached body is answered before routing: still only to its owner, with the same
    bytes, request id and metrics as the route."""
    other = "other-key-7654321"
    client = make_client(API_KEYS=f"{KEY},{other}")
    mine = {"X-API-Key": KEY}
    with videos["good"].open("rb") as f:
        job_id = client.post("/api/upload", files={"video": ("a.mp4", f)}, headers=mine).json()[
            "jobId"
        ]
    first = client.get(f"/api/status/{job_id}", headers=mine)  # the route: read and cached
    again = client.get(f"/api/status/{job_id}", headers={**mine, "X-Request-ID": "poll-2"})
    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    assert again.headers["content-type"] == "application/json"
    assert again.headers["x-request-id"] == "poll-2"
    assert_error(
        client.get(f"/api/status/{job_id}", headers={"X-API-Key": other}), 404, "job_not_found"
    )
    assert_error(client.get(f"/api/status/{job_id}"), 401, "unauthorized")
    bad = client.get(f"/api/status/{job_id}?access=forged.token.x")
    assert bad.status_code == 401
    metrics = client.get("/metrics", headers=mine).text
    assert 'route="/api/status/{jobId}",status="200"' in metrics
    assert 'route="unmatched"' not in metrics
