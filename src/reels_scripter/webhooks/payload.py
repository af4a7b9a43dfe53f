"""The body POSTed when a job ends: `{jobId, state, progress, error, code, statusUrl,
timestamp}` as compact UTF-8 JSON.

`statusUrl` is the absolute `GET /api/status/{jobId}` address, so a receiver that does not
check signatures can still confirm the state there. `timestamp` (Unix seconds of the attempt)
is inside the signed body, for replay protection.
"""

from __future__ import annotations

import json
import time
from typing import Any

TERMINAL_STATES = ("completed", "failed")


def build_payload(
    *,
    job_id: str,
    state: str,
    progress: int,
    error: str | None,
    code: str | None,
    status_url: str,
) -> dict[str, Any]:
    """The job's part of the body; `encode` adds the timestamp per attempt."""
    return {
        "jobId": job_id,
        "state": state,
        "progress": progress,
        "error": error,
        "code": code,
        "statusUrl": status_url,
    }


def encode(payload: dict[str, Any], *, timestamp: int | None = None) -> bytes:
    """The exact bytes sent and signed. Russian text stays UTF-8 (not \\u escapes)."""
    body = {**payload, "timestamp": int(time.time()) if timestamp is None else timestamp}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
