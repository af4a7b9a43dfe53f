"""The worker's first stage of an import job: «Скачиваем ролик».

Fetch the reel (`downloader.fetch`, real progress from the byte counts), then treat the file
exactly like an upload: the same sniff and probe in its sandbox with the same limits, the same
content hash and dedupe, the same storage under a random name. After this stage the job is
indistinguishable from an uploaded one, except that its result carries `source`.
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from reels_scripter.ai_settings.service import AISettingsService
from reels_scripter.analysis.errors import TooLargeError, TooLongError
from reels_scripter.analysis.models import Notice, ProbedVideo
from reels_scripter.config import Settings, analysis_options
from reels_scripter.contract import AnalysisResult, Source
from reels_scripter.imports.downloader import fetch
from reels_scripter.imports.engagement import with_source
from reels_scripter.imports.errors import LinkTooLargeError, LinkTooLongError
from reels_scripter.jobs.failures import JobSuperseded
from reels_scripter.jobs.liveness import Liveness
from reels_scripter.jobs.models import STAGE_IMPORT, Job
from reels_scripter.jobs.repository import Claim, JobRepository
from reels_scripter.jobs.service import display_name
from reels_scripter.storage import Storage, StorageError

# Share of the overall bar the download gets; the analysis fills the rest.
IMPORT_SHARE = 0.15


@dataclass(frozen=True)
class Imported:
    video: ProbedVideo
    object_name: str
    source: Source
    notices: list[Notice] = field(default_factory=list)


def import_video(
    job: Job,
    claim: Claim,
    settings: Settings,
    storage: Storage,
    live: Liveness,
    sessions: sessionmaker[Session],
    workdir: Path,
) -> Imported | None:
    """Download, check and store the job's reel; None when the job was completed instead from
    an earlier analysis of the same video. Raises LinkError / InputError for what cannot be
    imported (the caller removes `workdir`)."""
    from reels_scripter.analysis.probe import probe

    assert job.source_url is not None
    live.progress(STAGE_IMPORT, 0.0)
    got = fetch(
        job.source_url,
        workdir,
        settings,
        on_progress=lambda fraction: live.progress(STAGE_IMPORT, IMPORT_SHARE * fraction),
    )
    try:
        info = probe(got.path, analysis_options(settings))
    except TooLongError as exc:
        got.path.unlink(missing_ok=True)
        raise LinkTooLongError(exc.message, params=exc.params) from None
    except TooLargeError as exc:
        got.path.unlink(missing_ok=True)
        raise LinkTooLargeError(exc.message, params=exc.params) from None
    live.progress(STAGE_IMPORT, IMPORT_SHARE)
    sha256 = _sha256(got.path)
    with sessions() as session:
        repo = JobRepository(session)
        # the provider this job would write with (the studio's, unless the environment's)
        provider = AISettingsService(session, settings).current_choice().name
        original = (
            repo.find_completed_by_source(got.key, job.settings_fingerprint, job.owner, provider)
            if got.key
            else None
        )
        original = original or repo.find_completed_duplicate(
            sha256, job.settings_fingerprint, job.owner, provider
        )
        if original is not None and original.result is not None:
            result = _answer_of(original.result, got.source, settings)
            done = repo.complete_as_duplicate(claim, original, result, sha256)
            session.commit()
            if not done:
                raise JobSuperseded(job.id)
            return None
    object_name = storage.new_object_name()
    storage.upload_file(got.path, object_name, info.mime_type)
    try:
        with sessions() as session:
            attached = JobRepository(session).attach_import(
                claim,
                object_name=object_name,
                sha256=sha256,
                size_bytes=got.path.stat().st_size,
                duration=info.duration,
                probe=info.model_dump(mode="json"),
                source_key=got.key,
                display_name=display_name(got.source.title),
                imported={
                    "source": got.source.model_dump(mode="json"),
                    "notices": [n.model_dump(mode="json") for n in got.notices],
                },
            )
            session.commit()
    except BaseException:
        _delete_quietly(storage, object_name)
        raise
    if not attached:
        _delete_quietly(storage, object_name)
        raise JobSuperseded(job.id)
    return Imported(
        video=ProbedVideo(path=got.path, info=info, sha256=sha256),
        object_name=object_name,
        source=got.source,
        notices=got.notices,
    )


def imported_of(job: Job) -> tuple[Source | None, list[Notice] | None]:
    """The source and notices an earlier attempt fetched (a retry analyses the stored copy)."""
    if not job.imported:
        return None, None
    source = job.imported.get("source")
    notices = [Notice.model_validate(n) for n in job.imported.get("notices") or []]
    return (Source.model_validate(source) if source else None), notices


def _answer_of(earlier: dict[str, Any], source: Source, settings: Settings) -> dict[str, Any]:
    """An earlier job's result for this import: as it was when that job was an import of the
    same video; with this link's source added when it was an upload of the same bytes."""
    if earlier.get("source"):
        return earlier
    result = AnalysisResult.model_validate(earlier)
    return with_source(result, source, settings.target_language).model_dump(mode="json")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _delete_quietly(storage: Storage, name: str) -> None:
    with contextlib.suppress(StorageError):  # the sweeper removes objects no job names
        storage.delete(name)
