"""A share link: an unguessable token that opens one job's result, read-only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from reels_scripter.db.base import Base, UTCDateTime, utcnow


class Share(Base):
    __tablename__ = "shares"

    # 32 random bytes, URL-safe base64 (43 characters): the link's only secret
    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    job_id: Mapped[str] = mapped_column(String(36))
    # The key (hashed) that made it: only that owner sees or revokes it.
    owner: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_shares_job_id", "job_id"),)
