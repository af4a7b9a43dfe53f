"""Schemathesis against the app's own OpenAPI schema, on SQLite and on PostgreSQL: whatever a
client sends, the API answers without a 5xx, and every error is the documented JSON body.

A worker is alive meanwhile (a presence heartbeat written by a thread here), so `/readyz` and
the upload gate see the service as it runs in production."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.core.result import Ok
from sqlalchemy import text

from reels_scripter.api.endpoints import jobs
from reels_scripter.db import get_engine, session_factory
from reels_scripter.worker import presence
from support.fake_ai import FakeGemini, FakeOpenAI

CALLS: list[tuple[str, int]] = []

FUZZ_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)


def check_response(case: Any) -> None:
    resp = case.call()
    CALLS.append((case.method, resp.status_code))
    assert resp.status_code < 500, (case.method, case.path, resp.status_code, resp.text[:500])
    if resp.status_code >= 400:
        body = resp.json()
        assert isinstance(body.get("error"), str) and body["error"]
        assert isinstance(body.get("code"), str) and body["code"]


@contextmanager
def a_live_worker(app: FastAPI) -> Iterator[None]:
    settings = app.state.services.settings
    sessions = session_factory(settings)
    stop = threading.Event()

    def beat() -> None:
        while True:
            with sessions() as session:
                presence.heartbeat(session, "fuzz-worker@test")
                session.commit()
            if stop.wait(1.0):
                return

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_no_server_errors(
    db: str,
    make_app: Callable[..., FastAPI],
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    videos: dict[str, Path],
) -> None:
    # an event stream on a real waiting job would otherwise stay open for half an hour
    monkeypatch.setattr(jobs, "EVENTS_MAX_SEC", 1.0)
    CALLS.clear()
    env = {"DATABASE_URL": request.getfixturevalue("pg_url")} if db == "postgres" else {}
    app = make_app(MAX_FILE_SIZE_MB=1, **env)
    # PUT /api/settings/ai checks keys with the AI service: fakes that refuse every key the
    # fuzzer can make up stand in for Google and OpenAI (the SDKs read these two names)
    gemini, openai = FakeGemini(), FakeOpenAI()
    gemini.valid_keys = openai.valid_keys = {"a key no fuzzer guesses"}
    try:
        with gemini.running(), openai.running(), a_live_worker(app):
            monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", gemini.url)
            monkeypatch.setenv("OPENAI_BASE_URL", openai.url + "v1")
            fuzz(app, videos["good"])
        # one line for scripts/fault_run.py (and -s): every call was checked below 500 above
        server_errors = sum(1 for _, status in CALLS if status >= 500)
        print(f"\nschemathesis {db}: {len(CALLS)} calls, {server_errors} 5xx")
    finally:
        if db == "postgres":
            with get_engine(app.state.services.settings).begin() as conn:
                conn.execute(text("TRUNCATE jobs, workers, ai_settings CASCADE"))


def fuzz(app: FastAPI, video: Path) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = []
    for result in schema.get_all_operations():  # each an Ok, or an Err for a broken schema
        assert isinstance(result, Ok), result.err()
        operations.append(result.ok())
    assert len(operations) >= 9
    for operation in operations:
        # schemathesis' own pytest plugin does not load under this pytest; drive hypothesis
        # directly, one bounded run per operation
        @FUZZ_SETTINGS
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            check_response(case)

        run()
    assert len(CALLS) >= 100, "the fuzzer barely ran"
    assert {method for method, _ in CALLS} == {"GET", "POST", "PUT", "PATCH", "DELETE"}
    hostile_inputs(app, operations, video)


# What hypothesis does not generate from the schema: numbers over int()'s 4,300-digit limit
# in the places a request carries them outside the schema (a token's expiry, Range,
# Content-Length), other scripts' digits, and oversized or too many headers.
_NINES = "9" * 5000
HOSTILE: list[tuple[dict[str, str], dict[str, str] | list[tuple[str, str]]]] = [
    ({"access": f"{_NINES}.-.sig"}, {}),
    ({"access": "0123.-.sig"}, {}),
    ({"access": "\u0661\u0662.-.sig"}, {}),
    ({}, {"Range": f"bytes={_NINES}-"}),
    ({}, {"Range": f"bytes=-{_NINES}"}),
    ({}, {"Range": f"bytes=0-{_NINES}"}),
    ({}, {"Range": "bytes=\u00b2-\u00b3"}),  # Latin-1 digits isdigit() takes, int() refuses
    ({}, {"Content-Length": _NINES}),
    ({}, {"Content-Length": "\u00b2"}),
    ({}, {"X-Padding": "a" * 100_000}),
    ({}, [(f"X-Header-{i}", "1") for i in range(5000)]),
]


def hostile_inputs(app: FastAPI, operations: list[Any], video: Path) -> None:
    """Each hostile input on every operation, on a real stored job: never a 5xx, an error
    is the JSON body, and oversized headers are a 431 wherever they go."""
    with TestClient(app, raise_server_exceptions=False) as client:
        app.state.services.enqueue = lambda _job_id: None  # the job stays waiting, video stored
        with video.open("rb") as f:
            uploaded = client.post("/api/upload", files={"video": ("v.mp4", f, "video/mp4")})
        assert uploaded.status_code == 200, uploaded.text
        job_id = uploaded.json()["jobId"]
        # the delete last: every other route sees a job that is there
        for operation in sorted(operations, key=lambda op: op.method.upper() == "DELETE"):
            path = operation.path.replace("{job_id}", job_id).replace("{jobId}", job_id)
            path = path.replace("{index}", "0").replace("{name}", "x")
            for params, headers in HOSTILE:
                raw = [
                    (k.encode("latin-1"), v.encode("latin-1"))
                    for k, v in (headers.items() if isinstance(headers, dict) else headers)
                ]
                resp = client.request(operation.method.upper(), path, params=params, headers=raw)
                CALLS.append((operation.method.upper(), resp.status_code))
                assert resp.status_code < 500, (operation.method, path, resp.status_code)
                if resp.status_code >= 400:
                    body = resp.json()
                    assert body["code"] and body["error"], body
                big = isinstance(headers, list) or "X-Padding" in headers
                if big:
                    assert resp.status_code == 431, (operation.method, path)
