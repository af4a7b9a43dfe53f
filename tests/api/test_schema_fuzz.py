"""Schemathesis against the app's own OpenAPI schema: whatever a client sends, the API answers
without a 5xx, and every error is the documented JSON body."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings

from reels_scripter.api.endpoints import jobs

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


def test_no_server_errors(
    make_app: Callable[..., FastAPI], monkeypatch: pytest.MonkeyPatch
) -> None:
    # an event stream on a real waiting job would otherwise stay open for half an hour
    monkeypatch.setattr(jobs, "EVENTS_MAX_SEC", 1.0)
    app = make_app(MAX_FILE_SIZE_MB=1)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
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
    assert {method for method, _ in CALLS} == {"GET", "POST", "DELETE"}
