"""Schemathesis against the app's own OpenAPI schema, on SQLite and on PostgreSQL: whatever a
client sends, the API answers without a 5xx, and every error is the documented JSON body.

A worker is alive meanwhile (a presence heartbeat written by a thread here), so `/readyz` and
the upload gate see the service as it runs in production."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.core.result import Ok
from sqlalchemy import text

from reels_scripter.api.endpoints import jobs
from reels_scripter.db import get_engine, session_factory
from reels_scripter.worker import presence

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
) -> None:
    # an event stream on a real waiting job would otherwise stay open for half an hour
    monkeypatch.setattr(jobs, "EVENTS_MAX_SEC", 1.0)
    CALLS.clear()
    env = {"DATABASE_URL": request.getfixturevalue("pg_url")} if db == "postgres" else {}
    app = make_app(MAX_FILE_SIZE_MB=1, **env)
    try:
        with a_live_worker(app):
            fuzz(app)
        # one line for scripts/fault_run.py (and -s): every call was checked below 500 above
        server_errors = sum(1 for _, status in CALLS if status >= 500)
        print(f"\nschemathesis {db}: {len(CALLS)} calls, {server_errors} 5xx")
    finally:
        if db == "postgres":
            with get_engine(app.state.services.settings).begin() as conn:
                conn.execute(text("TRUNCATE jobs, workers CASCADE"))


def fuzz(app: FastAPI) -> None:
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
    assert {method for method, _ in CALLS} == {"GET", "POST", "PATCH", "DELETE"}
