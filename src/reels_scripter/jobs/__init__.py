"""Jobs, one feature slice: the row (`models`), every query (`repository`), the use cases
(`service`), one attempt (`runner`, with `liveness` and `failures`), recovery (`sweeper`),
keyframes in storage (`keyframes`) and the thin Celery bindings (`tasks`). Nothing here
imports the worker process wiring (`reels_scripter.worker`)."""

from reels_scripter.jobs.models import Job, JobState
from reels_scripter.jobs.service import JobService, settings_fingerprint

__all__ = ["Job", "JobService", "JobState", "settings_fingerprint"]
