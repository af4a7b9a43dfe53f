"""Every query on the stored AI settings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from reels_scripter.ai_settings.models import SINGLETON_ID, StoredAISettings


class AISettingsRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self) -> StoredAISettings | None:
        """The stored row (one primary-key read: cheap enough for every job)."""
        return self.session.scalar(
            select(StoredAISettings).where(StoredAISettings.id == SINGLETON_ID)
        )

    def save(
        self,
        *,
        provider: str,
        model: str | None,
        base_url: str | None,
        key_ciphertext: bytes | None,
        key_last4: str | None,
        now: datetime,
    ) -> StoredAISettings:
        row = self.get()
        if row is None:
            row = StoredAISettings(id=SINGLETON_ID, version=0)
            self.session.add(row)
        row.provider = provider
        row.model = model
        row.base_url = base_url
        row.key_ciphertext = key_ciphertext
        row.key_last4 = key_last4
        row.version = row.version + 1
        row.checked_at = now
        row.updated_at = now
        self.session.flush()
        return row
