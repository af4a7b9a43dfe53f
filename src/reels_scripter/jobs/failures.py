"""Why an attempt failed, and what happens next: classification and the backoff policy.

Every deliberate error already is an `AppError` with a stable code and a `transient` flag, so
classification only has to name the few foreign exceptions a job can meet (the database
driver, the network, Celery's soft time limit) and wrap anything else as an internal error.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

from billiard.exceptions import SoftTimeLimitExceeded
from sqlalchemy import exc as sa_exc

from reels_scripter.config import Settings
from reels_scripter.errors import (
    AppError,
    ConnectionProblemError,
    DatabaseUnavailableError,
    InternalError,
    JobTimeoutError,
    one_line,
)

Status = Literal["completed", "failed", "retry", "skipped", "superseded"]


@dataclass(frozen=True)
class Outcome:
    """How one run of the task ended; `countdown` is the delay before a retry."""

    status: Status
    countdown: float | None = None
    error: str | None = None
    code: str | None = None


class JobSuperseded(Exception):
    """Our claim is no longer valid (job deleted, or re-queued and taken by another worker)."""


def classify(exc: BaseException, settings: Settings) -> AppError:
    """The error an attempt ended with, as an AppError (code, transient, params)."""
    if isinstance(exc, AppError):
        return exc
    if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.DisconnectionError):
        return DatabaseUnavailableError(f"database unavailable: {type(exc).__name__}")
    if isinstance(exc, ConnectionError | TimeoutError):
        return ConnectionProblemError(f"connection problem: {type(exc).__name__}")
    if isinstance(exc, SoftTimeLimitExceeded):
        limit = settings.job_time_limit_sec
        return JobTimeoutError(
            f"the analysis took longer than {limit:.0f} s and was stopped",
            params={"limit": limit},
        )
    return InternalError(one_line(f"{type(exc).__name__}: {exc}"))


def backoff_seconds(attempt: int, settings: Settings) -> float:
    """Exponential backoff with a little jitter so retried jobs do not arrive together."""
    base = settings.job_retry_backoff_sec * (2 ** max(attempt - 1, 0))
    delay = min(base, settings.job_retry_backoff_max_sec)
    return float(delay * (1 + random.uniform(0, 0.1)))
