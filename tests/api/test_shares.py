"""Share links: made, shown and revoked by the owner only; opened by anyone with the link,
read-only, for that one job; a revoked, expired or unknown link is a Russian 404."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from reels_scripter.db.base import utcnow
from reels_scripter.jobs.runner import run_job
from reels_scripter.shares.models import Share

from .conftest import services_of

KEY = "owner-key-123456"
OTHER = "other-key-654321"


def _finished_job(client: TestClient, video: Path, key: str = KEY) -> str:
    with video.open("rb") as fh:
        response = client.post(
            "/api/upload",
            files={"video": ("reel.mp4", fh, "video/mp4")},
            headers={"X-API-Key": key},
        )
    assert response.status_code == 200, response.text
    job_id: str = response.json()["jobId"]
    assert run_job(job_id, services_of(client).settings).status == "completed"
    return job_id


@pytest.fixture
def keyed(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client(API_KEYS=f"{KEY},{OTHER}")


def _share(client: TestClient, job_id: str, **body: Any) -> dict[str, Any]:
    response = client.post(f"/api/jobs/{job_id}/share", json=body, headers={"X-API-Key": KEY})
    assert response.status_code == 200, response.text
    link: dict[str, Any] = response.json()
    return link


def test_owner_makes_sees_and_revokes_a_link(keyed: TestClient, videos: dict[str, Path]) -> None:
    job_id = _finished_job(keyed, videos["good"])
    owner = {"X-API-Key": KEY}
    none = keyed.get(f"/api/jobs/{job_id}/share", headers=owner)
    assert none.status_code == 200 and none.json() is None
    link = _share(keyed, job_id)
    assert link["path"] == f"/s/{link['token']}" and link["url"].endswith(link["path"])
    assert len(link["token"]) >= 43 and link["expiresAt"] is None
    assert _share(keyed, job_id)["token"] == link["token"]  # one live link per job
    assert keyed.get(f"/api/jobs/{job_id}/share", headers=owner).json()["token"] == link["token"]

    # another key sees no job, so no link, and cannot make or revoke one
    other = {"X-API-Key": OTHER}
    assert keyed.get(f"/api/jobs/{job_id}/share", headers=other).status_code == 404
    assert keyed.post(f"/api/jobs/{job_id}/share", headers=other).status_code == 404
    assert keyed.delete(f"/api/jobs/{job_id}/share", headers=other).status_code == 404
    assert keyed.post(f"/api/jobs/{job_id}/share").status_code == 401

    # the page and its data open without a key
    page = keyed.get(link["path"])
    assert page.status_code == 200 and "share.js" in page.text
    assert page.headers["cache-control"] == "private, no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    shared = keyed.get(f"/api/shared/{link['token']}").json()
    assert shared["job"]["id"] == job_id and shared["job"]["result"]["keys"]
    assert "webhook" not in shared["job"]

    assert keyed.delete(f"/api/jobs/{job_id}/share", headers=owner).status_code == 204
    gone = keyed.get(link["path"])
    assert gone.status_code == 404
    assert "Ссылка не найдена" in gone.text and gone.headers["content-type"].startswith("text/html")
    missing = keyed.get(f"/api/shared/{link['token']}")
    assert missing.status_code == 404 and missing.json()["code"] == "share_not_found"
    assert missing.json()["error"].endswith(".")
    assert keyed.delete(f"/api/jobs/{job_id}/share", headers=owner).status_code == 404


def test_the_share_token_reads_only_its_own_job(keyed: TestClient, videos: dict[str, Path]) -> None:
    shared_id = _finished_job(keyed, videos["good"])
    other_id = _finished_job(keyed, videos["long"])
    link = _share(keyed, shared_id)
    access = keyed.get(f"/api/shared/{link['token']}").json()["access"]
    param = f"{access['param']}={access['token']}"

    # its own job's media: keyframe, video, downloads
    keyframe = keyed.get(f"/api/shared/{link['token']}").json()["job"]["result"]["timeline"][
        "scenes"
    ][0]["keyframe"]
    assert keyed.get(f"{keyframe}?{param}").status_code == 200
    assert keyed.get(f"/api/jobs/{shared_id}/video?{param}").status_code == 200
    assert keyed.get(f"/api/jobs/{shared_id}/script.md?{param}").status_code == 200
    # another job of the same owner: refused
    for path in ("keyframes/0.jpg", "video", "script.md", ""):
        url = f"/api/jobs/{other_id}/{path}".rstrip("/")
        assert keyed.get(f"{url}?{param}").status_code in (401, 404), url
    # nothing but reading: no delete, no new share, no fresh studio token
    assert keyed.delete(f"/api/jobs/{shared_id}?{param}").status_code == 401
    assert keyed.post(f"/api/jobs/{shared_id}/share?{param}").status_code == 401
    assert keyed.post(f"/api/jobs/{shared_id}/access?{param}").status_code == 401
    assert keyed.get(f"/api/jobs?{param}").status_code == 401  # no history


def test_expiry_and_bad_requests(keyed: TestClient, videos: dict[str, Path]) -> None:
    job_id = _finished_job(keyed, videos["good"])
    link = _share(keyed, job_id, expiresInHours=2)
    assert link["expiresAt"] is not None
    assert keyed.get(link["path"]).status_code == 200
    with services_of(keyed).sessions() as session:
        session.execute(
            update(Share)
            .where(Share.token == link["token"])
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        session.commit()
    assert keyed.get(link["path"]).status_code == 404
    assert keyed.get(f"/api/shared/{link['token']}").status_code == 404
    # a new link replaces the expired one
    assert _share(keyed, job_id)["token"] != link["token"]
    owner = {"X-API-Key": KEY}
    for body in ({"expiresInHours": 0}, {"expiresInHours": "x"}, {"expiresInHours": 10**6}):
        response = keyed.post(f"/api/jobs/{job_id}/share", json=body, headers=owner)
        assert response.status_code == 422
    for token in ("short", "x" * 43, "%00" * 20):
        assert keyed.get(f"/s/{token}").status_code == 404


def test_a_deleted_job_takes_its_link_with_it(keyed: TestClient, videos: dict[str, Path]) -> None:
    job_id = _finished_job(keyed, videos["good"])
    link = _share(keyed, job_id)
    assert keyed.delete(f"/api/jobs/{job_id}", headers={"X-API-Key": KEY}).status_code == 204
    assert keyed.get(link["path"]).status_code == 404


def test_an_unfinished_job_cannot_be_shared(
    make_client: Callable[..., TestClient], videos: dict[str, Path]
) -> None:
    client = make_client()
    with videos["good"].open("rb") as fh:
        job_id = client.post("/api/upload", files={"video": ("r.mp4", fh, "video/mp4")}).json()[
            "jobId"
        ]
    response = client.post(f"/api/jobs/{job_id}/share")
    assert response.status_code == 409 and response.json()["code"] == "not_completed"
