"""The one row of stored AI settings (the studio's «Подключить ИИ»)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from reels_scripter.db.base import Base, UTCDateTime

# The service has one set of AI settings; the fixed key makes "save" an upsert of one row.
SINGLETON_ID = 1


class StoredAISettings(Base):
    __tablename__ = "ai_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider: Mapped[str] = mapped_column(String(32), nullable=False)
    model: Mapped[str | None] = mapped_column(String(200), nullable=True)
    base_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Fernet token of the key (never the key itself); its last 4 characters to show it back.
    key_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    key_last4: Mapped[str | None] = mapped_column(String(4), nullable=True)
    # Bumped on every save: a process rebuilds its cached choice only when this changes.
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
