"""Script use cases: read a version, edit rows, give rows back the AI's texts. The API calls
these with a completed job it has already found for its owner; they own the transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from reels_scripter.config import Settings
from reels_scripter.contract import AnalysisResult, Pace, ScriptRow
from reels_scripter.errors import AppError
from reels_scripter.fit import DEFAULT_PACE
from reels_scripter.jobs.current import FIRST_VERSION, LatestScript, current_result
from reels_scripter.jobs.models import Job
from reels_scripter.jobs.script_edit import (
    edited_script,
    parse_patch,
    parse_restore,
    restored_script,
)
from reels_scripter.jobs.script_versions import ScriptVersionRepository

# Two edits of one job at the same moment both want the next number; the loser reads the
# winner's version and applies its own edit on top. Past this many tries it gives up.
SAVE_ATTEMPTS = 3
# Results stored before the pace was measured: the calm default the analysis uses itself.
CALM_PACE = Pace(syllables_per_sec=DEFAULT_PACE, source="default")


class ScriptEditConflictError(
    AppError, code="script_edit_conflict", http_status=409, transient=True
):
    """Other edits of the same script kept arriving at the same moment; nothing was saved."""


@dataclass(frozen=True)
class ScriptView:
    """One version of a job's script."""

    version: int
    latest_version: int
    script: list[dict[str, Any]]

    @property
    def edited(self) -> bool:
        return any(bool(row.get("edited")) for row in self.script)


Change = Callable[[list[ScriptRow], list[ScriptRow], AnalysisResult], list[ScriptRow]]


class ScriptService:
    def __init__(self, session: Session, settings: Settings) -> None:
        self.session = session
        self.settings = settings
        self.versions = ScriptVersionRepository(session)

    def current(self, job: Job) -> dict[str, Any] | None:
        """The job's result as every reader shows it: the newest script in place."""
        if job.result is None:
            return None
        return current_result(job.result, self.versions.latest(job.id))

    def version(self, job: Job, version: int | None) -> ScriptView | None:
        """Version `version` of the script (the newest when None; 1 is the AI's), or None
        when there is no such version."""
        assert job.result is not None
        latest = self.versions.latest(job.id)
        newest = latest.version if latest is not None else FIRST_VERSION
        wanted = newest if version is None else version
        if wanted == FIRST_VERSION:
            script = list(job.result.get("script", []))
        elif latest is not None and wanted == latest.version:
            script = latest.script
        else:
            found = self.versions.get(job.id, wanted) if 1 < wanted < newest else None
            if found is None:
                return None
            script = found
        return ScriptView(wanted, newest, script)

    def edit(self, job: Job, body: Any) -> dict[str, Any]:
        """Apply the creator's edit (`PATCH .../script` body) as a new version; the current
        result after it. Raises ScriptEditError (nothing saved) for an edit that is not
        valid for this script."""
        patch = parse_patch(body)
        language = self.settings.target_language
        return self._save(
            job,
            lambda current, original, result: edited_script(
                current, original, patch, language, result.meta.pace or CALM_PACE
            ),
        )

    def restore(self, job: Job, body: Any) -> dict[str, Any]:
        """Give rows (all when the body names none) the AI's texts back, as a new version."""
        restore = parse_restore(body)
        return self._save(
            job, lambda current, original, _: restored_script(current, original, restore.rows)
        )

    def _save(self, job: Job, change: Change) -> dict[str, Any]:
        job_id, stored = job.id, job.result
        assert stored is not None
        result = AnalysisResult.model_validate(stored)
        for _ in range(SAVE_ATTEMPTS):
            latest = self.versions.latest(job_id)
            if latest is None:
                current = result.script
            else:
                current = [ScriptRow.model_validate(row) for row in latest.script]
            rows = change(current, result.script, result)
            script = [row.model_dump(mode="json") for row in rows]
            version = (latest.version if latest is not None else FIRST_VERSION) + 1
            try:
                self.versions.add(job_id, version, script)
                self.session.commit()
            except IntegrityError:
                self.session.rollback()
                continue
            edited = current_result(stored, LatestScript(version, script))
            assert edited is not None
            return edited
        raise ScriptEditConflictError(f"{SAVE_ATTEMPTS} edits of job {job_id} collided")
