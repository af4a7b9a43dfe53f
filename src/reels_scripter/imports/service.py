"""The import use case: accept a link, answer from an earlier import of the same video, or
record a job whose first stage (in the worker) downloads it.

Nothing is fetched here: the API process only checks the link (form and addresses, 422 when
refused) and writes the row. The worker downloads (`imports.stage`).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from reels_scripter.db.base import utcnow
from reels_scripter.imports.platforms import source_key
from reels_scripter.imports.policy import check_link
from reels_scripter.jobs.models import Job
from reels_scripter.jobs.service import JobService, settings_fingerprint

MAX_LINK_LENGTH = 2048
DISPLAY_NAME_LENGTH = 120


def link_display_name(url: str) -> str:
    """What the history shows for an import until its title is known: host and path."""
    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.")
    shown = f"{host}{parts.path}".rstrip("/") or url
    return shown if len(shown) <= DISPLAY_NAME_LENGTH else shown[: DISPLAY_NAME_LENGTH - 1] + "…"


def placeholder_sha256(job_id: str) -> str:
    """What `jobs.sha256` holds until the video is fetched: never a content hash, so it can
    match no other job's content (dedupe, shared keyframes)."""
    return f"link:{job_id}"


def submit_import(
    jobs: JobService,
    url: str,
    owner: str | None,
    *,
    callback_url: str | None = None,
    public_base_url: str | None = None,
) -> Job:
    """Record an import job and queue it, or answer from a completed import of the same video
    (same platform id or canonical link, same settings). Raises LinkError when the link is
    refused. Blocking (DNS): from async code run it in a thread."""
    url = url.strip()
    check_link(url, allow_private=jobs.settings.import_allow_private)
    key = source_key(url)
    ai = jobs.current_ai()
    fingerprint = settings_fingerprint(jobs.settings, ai)
    duplicate = jobs.repo.find_completed_by_source(key, fingerprint, owner, ai.name)
    now = utcnow()
    job = jobs.new_job(
        now,
        fingerprint,
        owner,
        callback_url,
        public_base_url,
        size_bytes=0,
        display_name=link_display_name(url),
        source_url=url,
        source_key=key,
    )
    job.sha256 = placeholder_sha256(job.id)
    if duplicate is not None:
        # The same video, the same settings: the answer is known, nothing is fetched.
        job.complete_as_copy_of(duplicate, now)
        job.sha256, job.size_bytes = duplicate.sha256, duplicate.size_bytes
        job.duration, job.probe = duplicate.duration, duplicate.probe
        jobs.repo.add(job)
        jobs.session.commit()
        return job
    return jobs.queue(job)
