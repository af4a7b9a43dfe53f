"""The import and share queries on SQLite and PostgreSQL (the `db_settings` fixture runs both):
an import recorded before its download, its dedupe by source key per owner, and share links
made, found, expired and revoked."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from reels_scripter.config import Settings
from reels_scripter.db.base import utcnow
from reels_scripter.imports import policy, service
from reels_scripter.imports.service import placeholder_sha256, submit_import
from reels_scripter.jobs.models import Job, JobState
from reels_scripter.jobs.repository import JobRepository
from reels_scripter.jobs.service import JobService, settings_fingerprint
from reels_scripter.shares.service import ShareService
from reels_scripter.storage import get_storage
from reels_scripter.webhooks.destination import CallbackUrl

LINK = "https://www.youtube.com/shorts/dQw4w9WgXcQ"
PUBLIC = "203.0.113.7"  # what the platforms' hosts resolve to here (no DNS in tests)


@pytest.fixture(autouse=True)
def public_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    def checked(url: str, *, allow_private: bool) -> CallbackUrl:
        return policy.check_link(url, allow_private=False, resolver=lambda host, port: [PUBLIC])

    monkeypatch.setattr(service, "check_link", checked)
    monkeypatch.setattr(
        "reels_scripter.webhooks.destination.refused_reason",
        lambda address: None if str(address) == PUBLIC else "refused",
    )


def _jobs(session: Session, settings: Settings) -> JobService:
    return JobService(session, get_storage(settings), settings, enqueue=lambda _: None)


def _complete(session: Session, job: Job) -> None:
    job.state = JobState.completed
    job.result = {"keys": []}
    job.provider = "local"  # the configured provider wrote it (not a fallback)
    job.finished_at = utcnow()
    session.commit()


def test_import_row_and_dedupe_by_source_per_owner(session: Session, db_settings: Settings) -> None:
    jobs = _jobs(session, db_settings)
    first = submit_import(jobs, LINK, "alice")
    assert first.state == JobState.waiting and first.object_name is None
    assert first.sha256 == placeholder_sha256(first.id)  # never a content hash
    assert first.source_key == "youtube:dQw4w9WgXcQ" and first.display_name == (
        "youtube.com/shorts/dQw4w9WgXcQ"
    )
    repo = JobRepository(session)
    fingerprint = settings_fingerprint(jobs.settings)
    assert repo.find_completed_by_source(first.source_key, fingerprint, "alice", "local") is None
    _complete(session, first)

    again = submit_import(jobs, "https://youtube.com/shorts/dQw4w9WgXcQ?si=x", "alice")
    assert again.state == JobState.completed and again.result == {"keys": []}
    # another owner's import of the same video is not an answer for this one
    other = submit_import(jobs, LINK, "bob")
    assert other.state == JobState.waiting
    assert repo.find_completed_by_source(first.source_key, fingerprint, None, "local") is None


def test_share_links(session: Session, db_settings: Settings) -> None:
    jobs = _jobs(session, db_settings)
    job = submit_import(jobs, LINK, "alice")
    _complete(session, job)
    shares = ShareService(session)
    link = shares.create(job, "alice", None)
    assert shares.create(job, "alice", None).token == link.token
    assert shares.current(job.id, "bob") is None
    opened = shares.open(link.token)
    assert opened is not None and opened.job.id == job.id

    timed = shares.create(job, "alice", 1.0)  # a new expiry: a new link, the old one revoked
    assert timed.token != link.token and shares.open(link.token) is None
    assert timed.expires_at is not None
    timed.expires_at = utcnow() - timedelta(seconds=1)
    session.commit()
    assert shares.open(timed.token) is None and shares.current(job.id, "alice") is None

    fresh = shares.create(job, "alice", None)
    assert not shares.revoke(job.id, "bob")
    assert shares.revoke(job.id, "alice") and shares.open(fresh.token) is None
    assert shares.open("not a token") is None
