"""Take-away files of a finished job, beside `script.md`: a DOCX shooting script with keyframes
and subtitles (SRT, WebVTT) of the original speech or of the Russian voice-over."""

from __future__ import annotations

import contextlib
import re
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Response

from reels_scripter.api.deps import FinishedJobDep, JobServiceDep
from reels_scripter.api.errors import (
    JobNotFoundError,
    NoSubtitlesError,
    NotCompletedError,
    NoTranslationError,
    UnauthorizedError,
    file_responses,
)
from reels_scripter.contract import AnalysisResult
from reels_scripter.jobs import keyframes
from reels_scripter.render.subtitles import Track, cues_for, to_srt, to_vtt
from reels_scripter.storage import StorageError

router = APIRouter(prefix="/api", tags=["exports"])

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_ERRORS = (JobNotFoundError, UnauthorizedError, NotCompletedError)
_SUBTITLE_ERRORS = (*_ERRORS, NoSubtitlesError, NoTranslationError)
TrackQuery = Annotated[
    Literal["original", "translation"],
    Query(
        description="`original`: the speech, timed by its words; `translation` (only when "
        "the speech was translated): the voice-over text of each script row, shown while the "
        "row's speech is said."
    ),
]


def attachment_headers(
    job: Any, extension: str, fallback: str, disposition: str = "attachment"
) -> dict[str, str]:
    """Content-Disposition named after the upload (its extension swapped), for every export."""
    stem = re.sub(r"\.[A-Za-z0-9]{1,5}$", "", job.display_name or "") or fallback
    # ASCII fallback plus RFC 5987 for the real (often Cyrillic) name
    return {
        "Content-Disposition": f'{disposition}; filename="{fallback}.{extension}"; '
        f"filename*=UTF-8''{quote(f'{stem}.{extension}', safe='')}"
    }


@router.get(
    "/jobs/{job_id}/script.docx",
    response_class=Response,
    responses=file_responses(DOCX_TYPE, "A DOCX document.", *_ERRORS),
    summary="The finished script as a DOCX shooting script with keyframe pictures",
)
def get_script_docx(finished: FinishedJobDep, jobs: JobServiceDep) -> Response:
    job, result = finished
    pictures: dict[int, bytes] = {}
    for index in sorted({row.scene for row in result.script}):
        name = keyframes.stored_name(job.result, index)
        if name is None:
            continue
        # a keyframe removed by the bucket's lifecycle rule leaves a cell without a picture
        with contextlib.suppress(StorageError):
            pictures[index] = jobs.storage.read_bytes(name)
    from reels_scripter.render.docx import render_docx  # python-docx: only when asked for

    data = render_docx(result, pictures, title=job.display_name)
    return Response(data, media_type=DOCX_TYPE, headers=attachment_headers(job, "docx", "script"))


def _subtitles(finished: tuple[Any, AnalysisResult], track: Track, kind: str) -> Response:
    job, result = finished
    # NoSubtitlesError (409) when the track has no text, NoTranslationError (409) when the
    # translation track is asked for speech that was not translated
    cues = cues_for(result, track)
    if kind == "srt":
        body, media_type = to_srt(cues), "application/x-subrip; charset=utf-8"
    else:
        body, media_type = to_vtt(cues), "text/vtt; charset=utf-8"
    # `<name>.en.srt` / `<name>.ru.srt`: players pick the track's language from the name
    language = (
        result.original.language or result.meta.source_language
        if track == "original"
        else result.meta.target_language
    )
    named = language and re.fullmatch(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})?", language)
    extension = f"{language}.{kind}" if named else kind
    return Response(
        body, media_type=media_type, headers=attachment_headers(job, extension, "subtitles")
    )


@router.get(
    "/jobs/{job_id}/subtitles.srt",
    response_class=Response,
    responses=file_responses("application/x-subrip", "SRT", *_SUBTITLE_ERRORS),
    summary="Subtitles as SRT (original speech or the Russian voice-over)",
)
def get_subtitles_srt(finished: FinishedJobDep, track: TrackQuery = "original") -> Response:
    return _subtitles(finished, track, "srt")


@router.get(
    "/jobs/{job_id}/subtitles.vtt",
    response_class=Response,
    responses=file_responses("text/vtt", "WebVTT", *_SUBTITLE_ERRORS),
    summary="Subtitles as WebVTT (original speech or the Russian voice-over)",
)
def get_subtitles_vtt(finished: FinishedJobDep, track: TrackQuery = "original") -> Response:
    return _subtitles(finished, track, "vtt")
