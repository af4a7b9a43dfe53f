"""Jobs: the row model, its repository (all queries), the use cases and the Celery task."""

from reels_scripter.jobs.models import Job, JobState
from reels_scripter.jobs.service import JobService, settings_fingerprint

__all__ = ["Job", "JobService", "JobState", "settings_fingerprint"]
