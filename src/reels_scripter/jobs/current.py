"""The current result of a job: the one accessor every reader goes through.

The analysis writes the AI's result once (`Job.result`, script version 1); the creator's edits
are later versions of the script (`ScriptVersion`). What the status, the job, Markdown, DOCX
and the subtitles show is the stored result with its newest script in place, made here and
nowhere else, so no export can show one version while another shows the next.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

FIRST_VERSION = 1


@dataclass(frozen=True)
class LatestScript:
    """The newest edited version of a job's script (absent while only the AI's exists)."""

    version: int
    script: list[dict[str, Any]]


def current_result(
    result: dict[str, Any] | None, latest: LatestScript | None
) -> dict[str, Any] | None:
    """`result` (as stored by the analysis) with the newest script version in place, and
    `script_version` and `edited` saying which version it is. A copy; `result` is untouched."""
    if result is None:
        return None
    if latest is None:
        # results stored before versions existed carry neither field
        return {
            **result,
            "script_version": result.get("script_version", FIRST_VERSION),
            "edited": bool(result.get("edited", False)),
        }
    return {
        **result,
        "script": latest.script,
        "script_version": latest.version,
        "edited": any(bool(row.get("edited")) for row in latest.script),
    }
