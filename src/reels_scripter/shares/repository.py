"""Every query on the `shares` table. Callers own the transaction: nothing here commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from reels_scripter.shares.models import Share


def _owned(owner: str | None) -> object:
    return Share.owner.is_(None) if owner is None else Share.owner == owner


class ShareRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, share: Share) -> Share:
        self.session.add(share)
        self.session.flush()
        return share

    def active_for_job(self, job_id: str, owner: str | None, now: datetime) -> Share | None:
        """The job's live link (not revoked, not expired), newest first."""
        return self.session.scalars(
            select(Share)
            .where(
                Share.job_id == job_id,
                _owned(owner),  # type: ignore[arg-type]
                Share.revoked_at.is_(None),
                or_(Share.expires_at.is_(None), Share.expires_at > now),
            )
            .order_by(Share.created_at.desc())
            .limit(1)
        ).first()

    def live(self, token: str, now: datetime) -> Share | None:
        """The link behind `token` while it may be opened."""
        return self.session.scalars(
            select(Share).where(
                Share.token == token,
                Share.revoked_at.is_(None),
                or_(Share.expires_at.is_(None), Share.expires_at > now),
            )
        ).first()

    def revoke_for_job(self, job_id: str, owner: str | None, now: datetime) -> int:
        """Revoke every live link of the job; how many there were."""
        result = self.session.execute(
            update(Share)
            .where(
                Share.job_id == job_id,
                _owned(owner),  # type: ignore[arg-type]
                Share.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )
        return int(getattr(result, "rowcount", 0) or 0)
