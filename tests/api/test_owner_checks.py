"""Every route of one job checks its owner, found from the app's own route table.

A route is a job route when its path names a job (`{job_id}`, `{jobId}`): another API key
gets 404 `job_not_found` (a job of another key does not exist for it) and no key gets 401,
whatever the route does. Every other route needs a key too, unless it is listed below as
public on purpose. The routes are discovered, not listed: a new route that forgets the owner
check fails here without anyone adding it to a test (issue 19 §6).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from reels_scripter.api.app import create_app
from reels_scripter.db import upgrade_database
from reels_scripter.jobs import JobState
from support.reelgen import make_reel
from support.settings import make_settings

KEY_A = "owner-check-key-a"
KEY_B = "owner-check-key-b"
JOB_PARAMS = ("job_id", "jobId")
# Answered without a key on purpose: probes, the page and its files, the docs, the page's
# public config, and a share link's page and data (the link's token is its own secret; it
# opens only a job its owner shared, and a revoked one answers 404).
PUBLIC_ON_PURPOSE = {
    "/",
    "/openapi.json",
    "/healthz",
    "/readyz",
    "/studio/{name}",
    "/api/config",
    "/docs",
    "/docs/oauth2-redirect",
    "/docs/assets/{name}",
    "/redoc",
    "/s/{token}",
    "/api/shared/{token}",
}
_PARAM = re.compile(r"{([^}:]+)(?::[^}]*)?}")


def app_routes(app: FastAPI) -> Iterator[tuple[str, str]]:
    """(method, path template) of every route the app serves, included routers flattened."""
    for route in app.router.routes:
        # FastAPI 0.16x keeps an included router as one entry with its effective routes
        flatten = getattr(route, "effective_route_contexts", None)
        for context in flatten() if flatten is not None else [route]:
            original = getattr(context, "original_route", context)
            path = getattr(context, "path", None) or getattr(original, "path", None)
            methods: set[str] = set(getattr(original, "methods", None) or ())
            for method in sorted(methods):
                # Starlette adds HEAD beside GET; a HEAD route of its own is checked
                if path is not None and not (method == "HEAD" and "GET" in methods):
                    yield method, path


def params_of(path: str) -> list[str]:
    return _PARAM.findall(path)


def fill(path: str, job_id: str) -> str:
    values = {name: job_id for name in JOB_PARAMS} | {"index": "0"}
    return _PARAM.sub(lambda m: values.get(m.group(1), "x"), path)


class KeyedApp:
    def __init__(self, data_dir: Path, reel: Path) -> None:
        self.settings = make_settings(data_dir, API_KEYS=f"{KEY_A},{KEY_B}")
        upgrade_database(self.settings)
        self.app = create_app(self.settings)
        self.app.state.services.enqueue = self._run
        self.client = TestClient(self.app, raise_server_exceptions=False)
        with reel.open("rb") as f:
            resp = self.client.post(
                "/api/upload", files={"video": ("r.mp4", f, "video/mp4")}, headers=key(KEY_A)
            )
        assert resp.status_code == 200, resp.text
        self.job_id: str = resp.json()["jobId"]

    def _run(self, job_id: str) -> None:
        from reels_scripter.jobs.runner import run_job

        assert run_job(job_id, self.settings).status == "completed"


def key(value: str) -> dict[str, str]:
    return {"X-API-Key": value}


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KeyedApp]:
    d = tmp_path_factory.mktemp("owner-checks")
    reel = make_reel(d / "r.mp4", duration=2.0, cuts=(1.0,), width=64, height=112, fps=10)
    app = KeyedApp(d / "data", reel)
    yield app
    app.client.close()


def _routes() -> list[tuple[str, str]]:
    # the route table of an app as configured here; the fixture's app has the same one
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        return sorted(set(app_routes(create_app(make_settings(Path(d))))))


ROUTES = _routes()
JOB_ROUTES = [(m, p) for m, p in ROUTES if set(params_of(p)) & set(JOB_PARAMS)]
OTHER_ROUTES = [(m, p) for m, p in ROUTES if (m, p) not in JOB_ROUTES]


def test_the_route_table_is_found() -> None:
    # the discovery itself must see the routes a test would otherwise have listed
    assert ("GET", "/api/jobs/{job_id}/video") in JOB_ROUTES
    assert ("GET", "/api/jobs/{job_id}/keyframes/{index}.jpg") in JOB_ROUTES
    assert ("GET", "/api/status/{jobId}") in JOB_ROUTES
    assert ("DELETE", "/api/jobs/{job_id}") in JOB_ROUTES
    assert ("POST", "/api/upload") in OTHER_ROUTES
    assert len(JOB_ROUTES) >= 10


def _error(resp: Any) -> tuple[int, str]:
    if resp.request.method == "HEAD":  # no body: the status says it
        return resp.status_code, {401: "unauthorized", 404: "job_not_found"}.get(
            resp.status_code, "?"
        )
    body = resp.json()
    assert isinstance(body.get("error"), str) and body["error"]
    return resp.status_code, body["code"]


@pytest.mark.parametrize(("method", "path"), JOB_ROUTES, ids=lambda v: str(v))
def test_every_job_route_checks_the_owner(keyed: KeyedApp, method: str, path: str) -> None:
    c = keyed.client
    url = fill(path, keyed.job_id)
    detail = c.get(f"/api/jobs/{keyed.job_id}", headers=key(KEY_A)).json()
    assert detail["state"] == JobState.completed
    assert _error(c.request(method, url)) == (401, "unauthorized")
    assert _error(c.request(method, url, headers=key(KEY_B))) == (404, "job_not_found")
    # the owner reaches it (proves the URL is the job's, so the 404 above was the check)
    if method != "DELETE":
        own = c.request(method, url, headers=key(KEY_A))
        assert own.status_code != 401, (method, path, own.text[:200])
        if own.status_code >= 400 and method != "HEAD":
            assert own.json()["code"] != "job_not_found", (method, path)
        assert method != "HEAD" or own.status_code < 400


@pytest.mark.parametrize(("method", "path"), OTHER_ROUTES, ids=lambda v: str(v))
def test_every_other_route_needs_a_key_unless_public_on_purpose(
    keyed: KeyedApp, method: str, path: str
) -> None:
    resp = keyed.client.request(method, fill(path, keyed.job_id))
    if path in PUBLIC_ON_PURPOSE:
        assert resp.status_code != 401, (method, path)
        return
    # a new route lands here: it needs a key, or a line in PUBLIC_ON_PURPOSE saying why not
    # (an administrator's route may refuse with its own 403)
    status, code = _error(resp)
    assert (status, code) == (401, "unauthorized") or status == 403, (method, path, code)
