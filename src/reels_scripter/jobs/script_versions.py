"""Every query on the `script_versions` table (the creator's edits of a job's script).
Callers own the transaction: nothing here commits."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from reels_scripter.db.base import utcnow
from reels_scripter.jobs.current import LatestScript
from reels_scripter.jobs.models import ScriptVersion


class ScriptVersionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def latest(self, job_id: str) -> LatestScript | None:
        """The newest edited version, or None while the script is the AI's only."""
        row = self.session.execute(
            select(ScriptVersion.version, ScriptVersion.script)
            .where(ScriptVersion.job_id == job_id)
            .order_by(ScriptVersion.version.desc())
            .limit(1)
        ).first()
        return None if row is None else LatestScript(int(row[0]), list(row[1]))

    def get(self, job_id: str, version: int) -> list[dict[str, Any]] | None:
        script = self.session.scalar(
            select(ScriptVersion.script).where(
                ScriptVersion.job_id == job_id, ScriptVersion.version == version
            )
        )
        return None if script is None else list(script)

    def add(self, job_id: str, version: int, script: list[dict[str, Any]]) -> None:
        """Record a version. Two edits racing for the same number: the primary key (job,
        version) lets one in and raises IntegrityError at flush for the other."""
        self.session.add(
            ScriptVersion(job_id=job_id, version=version, script=script, created_at=utcnow())
        )
        self.session.flush()
