"""Webhooks wired to jobs: `callbackUrl` on upload (checked: 422 for refused destinations),
stored with the job, sent from the outbox when the job ends, signed, retried, every attempt
recorded on the job; the dispatcher a worker runs, driven here directly."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from reels_scripter.api.app import create_app
from reels_scripter.config import Settings
from reels_scripter.db import session_factory, upgrade_database, utcnow
from reels_scripter.jobs import Job
from reels_scripter.jobs.notify import dispatch_due
from reels_scripter.jobs.runner import run_job
from reels_scripter.webhooks import verify
from support.reelgen import make_reel
from support.settings import make_settings
from support.webhook_receiver import SECRET, Receiver


class App:
    """The API with its queue replaced by the worker's `run_job`, run when asked."""

    def __init__(self, data_dir: Path, **env: Any) -> None:
        self.settings: Settings = make_settings(data_dir, WEBHOOK_SECRET=SECRET, **env)
        upgrade_database(self.settings)
        self.app = create_app(self.settings)
        self.queued: list[str] = []
        self.app.state.services.enqueue = self.queued.append
        self.client = TestClient(self.app, raise_server_exceptions=False)

    def upload(self, video: Path, **fields: str) -> Any:
        with video.open("rb") as f:
            return self.client.post("/api/upload", files={"video": ("r.mp4", f)}, data=fields)

    def run_queued(self) -> None:
        while self.queued:
            run_job(self.queued.pop(0), self.settings)

    def dispatch(self) -> int:
        return dispatch_due(self.settings, session_factory(self.settings))

    def make_due(self, job_id: str) -> None:
        with session_factory(self.settings)() as session:
            session.execute(update(Job).where(Job.id == job_id).values(webhook_due_at=utcnow()))
            session.commit()


@pytest.fixture
def make(tmp_path: Path) -> Iterator[Callable[..., App]]:
    apps: list[App] = []

    def factory(**env: Any) -> App:
        app = App(tmp_path / f"data{len(apps)}", **env)
        apps.append(app)
        return app

    yield factory
    for app in apps:
        app.client.close()


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("hook-reels")
    return make_reel(d / "hook.mp4", duration=2.0, width=64, height=112, fps=10, audio="tone")


def test_a_job_with_a_callback_is_notified_signed_after_a_retry(
    make: Callable[..., App], receiver: Callable[..., Receiver], video: Path
) -> None:
    rec = receiver(500, 204)  # the receiver fails once, then takes it
    app = make(WEBHOOK_ALLOW_PRIVATE="true")
    resp = app.upload(video, callbackUrl=rec.url())
    assert resp.status_code == 200, resp.text
    job_id = resp.json()["jobId"]
    assert app.client.get(f"/api/jobs/{job_id}").json()["webhook"]["state"] == "scheduled"
    assert app.dispatch() == 0  # nothing is sent before the job ends

    app.run_queued()
    assert app.dispatch() == 1  # first attempt: HTTP 500, scheduled again with backoff
    detail = app.client.get(f"/api/jobs/{job_id}").json()
    assert detail["webhook"]["state"] == "pending"
    assert [a["status"] for a in detail["webhook"]["attempts"]] == [500]
    assert app.dispatch() == 0  # the backoff is not up yet
    app.make_due(job_id)
    assert app.dispatch() == 1

    assert len(rec.requests) == 2
    got = rec.requests[-1]
    assert got.signature_ok and verify(got.body, got.headers["x-reels-signature"], SECRET)
    assert got.path == "/hook?token=abc"
    # one delivery id for every attempt of the notification: receivers dedupe on it
    assert rec.requests[0].headers["x-reels-delivery"] == got.headers["x-reels-delivery"]
    body = json.loads(got.body)
    assert body["jobId"] == job_id and body["state"] == "completed" and body["progress"] == 100
    assert body["error"] is None and body["code"] is None
    assert body["statusUrl"] == f"http://testserver/api/status/{job_id}"  # absolute
    assert abs(body["timestamp"] - time.time()) < 60
    webhook = app.client.get(f"/api/jobs/{job_id}").json()["webhook"]
    assert webhook["state"] == "delivered"
    assert [a["status"] for a in webhook["attempts"]] == [500, 204]
    assert webhook["deliveryId"] == got.headers["x-reels-delivery"]
    assert "hook?token" not in json.dumps(webhook)  # the URL (and its token) is not shown
    assert app.dispatch() == 0  # delivered once: never again


def test_a_failed_job_is_notified_too_and_public_url_wins(
    make: Callable[..., App], receiver: Callable[..., Receiver], tmp_path: Path
) -> None:
    rec = receiver(204)
    app = make(
        WEBHOOK_ALLOW_PRIVATE="true",
        WEBHOOK_URL=rec.url(path="/default"),
        PUBLIC_URL="https://api.example.com/",
    )
    resp = app.upload(make_reel(tmp_path / "fine.mp4", duration=1.0, fps=10))
    job_id = resp.json()["jobId"]
    # the job fails in the worker (its stored video vanished meanwhile)
    with session_factory(app.settings)() as session:
        job = session.get(Job, job_id)
        assert job is not None and job.object_name
        (app.settings.data_dir / "storage" / job.object_name).unlink()
    app.run_queued()
    assert app.dispatch() == 1
    body = json.loads(rec.requests[-1].body)
    assert rec.requests[-1].path == "/default"  # WEBHOOK_URL: the default callback
    assert body["state"] == "failed" and body["code"] == "video_missing"
    assert body["error"] and any("а" <= ch <= "я" for ch in body["error"])
    assert body["statusUrl"] == f"https://api.example.com/api/status/{job_id}"


def test_a_deduplicated_job_is_notified_at_once(
    make: Callable[..., App], receiver: Callable[..., Receiver], video: Path
) -> None:
    rec = receiver(204)
    app = make(WEBHOOK_ALLOW_PRIVATE="true")
    app.upload(video)
    app.run_queued()
    again = app.upload(video, callbackUrl=rec.url())
    assert again.json()["jobId"] and app.queued == []  # answered from the first job
    assert app.dispatch() == 1 and json.loads(rec.requests[0].body)["state"] == "completed"


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://127.0.0.1:9/hook", "callback_url_forbidden"),
        ("http://localhost/hook", "callback_url_forbidden"),
        ("http://169.254.169.254/latest/meta-data/", "callback_url_forbidden"),
        ("http://[::ffff:10.0.0.1]/x", "callback_url_forbidden"),
        ("http://2130706433/", "callback_url_forbidden"),
        ("ftp://example.com/hook", "invalid_callback_url"),
        ("https://user:pw@example.com/hook", "invalid_callback_url"),
        ("not a url", "invalid_callback_url"),
    ],
)
def test_refused_callbacks_are_422_and_leave_nothing(
    make: Callable[..., App], video: Path, url: str, code: str
) -> None:
    app = make()  # WEBHOOK_ALLOW_PRIVATE is off
    resp = app.upload(video, callbackUrl=url)
    assert resp.status_code == 422, resp.text
    body = resp.json()
    assert body["code"] == code and any("а" <= ch <= "я" for ch in body["error"])
    assert app.client.get("/api/jobs").json()["total"] == 0 and app.queued == []
    left = [p for p in (app.settings.data_dir / "tmp").glob("*")]
    left += list((app.settings.data_dir / "storage").rglob("*.*"))
    assert left == []


def test_a_destination_turned_private_after_the_upload_is_not_called(
    make: Callable[..., App], receiver: Callable[..., Receiver], video: Path
) -> None:
    """DNS rebinding, or settings tightened: the check runs again before every attempt."""
    rec = receiver(204)
    loose = make(WEBHOOK_ALLOW_PRIVATE="true")
    job_id = loose.upload(video, callbackUrl=rec.url()).json()["jobId"]
    loose.run_queued()
    strict = loose.settings.model_copy(update={"webhook_allow_private": False})
    assert dispatch_due(strict, session_factory(strict)) == 1
    assert rec.requests == []
    webhook = loose.client.get(f"/api/jobs/{job_id}").json()["webhook"]
    assert webhook["state"] == "failed" and webhook["code"] == "callback_url_forbidden"
    assert len(webhook["attempts"]) == 1
