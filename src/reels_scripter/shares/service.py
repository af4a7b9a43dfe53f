"""Share use cases: make, show and revoke a job's read-only link, and open one.

A link is a random 256-bit token (`secrets.token_urlsafe(32)`), stored as is so its owner can
see it again; it opens the job's result read-only until revoked or, when given, until it
expires. Opening it yields the job and a short-lived signed access token for that one job
(`api.signed_urls`, GET only), which is all the share page uses to read the result, its
keyframes, its video and its downloads: a share never reaches another job.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from reels_scripter.db.base import utcnow
from reels_scripter.jobs.models import Job, JobState
from reels_scripter.jobs.repository import JobRepository
from reels_scripter.shares.models import Share
from reels_scripter.shares.repository import ShareRepository

TOKEN_BYTES = 32
MAX_EXPIRY_HOURS = 24 * 365


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def looks_like_token(value: str) -> bool:
    """Cheap shape check before any query (43 URL-safe characters)."""
    return 20 <= len(value) <= 64 and all(c.isalnum() or c in "-_" for c in value)


@dataclass(frozen=True)
class Opened:
    share: Share
    job: Job


class ShareService:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.shares = ShareRepository(session)
        self.jobs = JobRepository(session)

    def current(self, job_id: str, owner: str | None) -> Share | None:
        return self.shares.active_for_job(job_id, owner, utcnow())

    def create(self, job: Job, owner: str | None, expires_in_hours: float | None) -> Share:
        """The job's live link; a new one when there is none or a different expiry is asked
        for (the old one is revoked then: one live link per job)."""
        now = utcnow()
        existing = self.shares.active_for_job(job.id, owner, now)
        if existing is not None and expires_in_hours is None and existing.expires_at is None:
            return existing
        if existing is not None:
            self.shares.revoke_for_job(job.id, owner, now)
        expires = now + timedelta(hours=expires_in_hours) if expires_in_hours else None
        share = self.shares.add(
            Share(token=new_token(), job_id=job.id, owner=owner, created_at=now, expires_at=expires)
        )
        self.session.commit()
        return share

    def revoke(self, job_id: str, owner: str | None) -> bool:
        revoked = self.shares.revoke_for_job(job_id, owner, utcnow())
        self.session.commit()
        return revoked > 0

    def open(self, token: str) -> Opened | None:
        """The live link and its completed job; None when revoked, expired, unknown, or the
        job is gone (a deleted job takes its links with it)."""
        if not looks_like_token(token):
            return None
        share = self.shares.live(token, utcnow())
        if share is None:
            return None
        job = self.jobs.get(share.job_id, share.owner)
        if job is None or job.state != JobState.completed or job.result is None:
            return None
        return Opened(share, job)
