"""`GET /api/jobs/{id}/video`: the uploaded video, streamed with HTTP Range, while it is stored.

The studio plays a script row's span of the original from here (a `<video>` element seeks
with Range requests). A completed job keeps its video for VIDEO_RETENTION_HOURS (24); after
that, or once a failed job no longer needs it, this answers 410 and the page shows the
scene's keyframe instead.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import anyio.to_thread
from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse

from reels_scripter.analysis.models import ProbeInfo
from reels_scripter.api.deps import JobServiceDep, OwnedJobDep
from reels_scripter.api.errors import (
    JobNotFoundError,
    RangeNotSatisfiableError,
    UnauthorizedError,
    VideoGoneError,
    file_responses,
)
from reels_scripter.storage import ObjectNotFoundError, Storage
from reels_scripter.storage.base import RangeReadable

router = APIRouter(prefix="/api", tags=["jobs"])

CHUNK_BYTES = 512 * 1024
# [0-9], not \d: a str pattern's \d also matches other scripts' digits, which int() accepts
_RANGE = re.compile(r"^\s*bytes\s*=\s*([0-9]*)\s*-\s*([0-9]*)\s*$", re.IGNORECASE)
# Longer positions are beyond any stored file; never hand them to int() (it refuses over
# 4,300 digits with a ValueError).
_MAX_DIGITS = 18
_ERRORS = (JobNotFoundError, UnauthorizedError, VideoGoneError, RangeNotSatisfiableError)


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) byte of a single `bytes=` range, inclusive; None for the whole file.

    Several ranges, or a header we do not understand, mean the whole file (RFC 9110 lets a
    server ignore Range); a range outside the file is refused with 416.
    """
    if not header:
        return None
    match = _RANGE.match(header)
    if match is None:
        return None
    first_text, last_text = match.groups()
    if not first_text and not last_text:
        return None
    if not first_text:  # "bytes=-500": the last 500 bytes
        suffix = _position(last_text)
        if suffix == 0:
            raise _unsatisfiable(size)
        return max(size - suffix, 0), size - 1
    first = _position(first_text)
    last = _position(last_text) if last_text else size - 1
    if first >= size or last < first:
        raise _unsatisfiable(size)
    return first, min(last, size - 1)


def _position(digits: str) -> int:
    """A byte position; one too long to be inside any file counts as past every end."""
    stripped = digits.lstrip("0") or "0"
    return int(stripped) if len(stripped) <= _MAX_DIGITS else 10**_MAX_DIGITS


def _unsatisfiable(size: int) -> RangeNotSatisfiableError:
    return RangeNotSatisfiableError(headers={"Content-Range": f"bytes */{size}"})


async def _chunks(storage: RangeReadable, name: str, first: int, last: int) -> AsyncIterator[bytes]:
    position = first
    while position <= last:
        length = min(CHUNK_BYTES, last - position + 1)
        data = await anyio.to_thread.run_sync(storage.read_range, name, position, length)
        if not data:  # the object shrank or vanished mid-stream: end rather than hang
            return
        yield data
        position += len(data)


@router.get(
    "/jobs/{job_id}/video",
    response_class=StreamingResponse,
    responses={
        **file_responses("video/mp4", "The whole video.", *_ERRORS),
        206: {"description": "The requested byte range."},
    },
    summary="The uploaded video while it is stored (GET or HEAD; HTTP Range supported)",
)
def get_video(request: Request, job: OwnedJobDep, jobs: JobServiceDep) -> Response:
    storage: Storage = jobs.storage
    name = job.object_name
    # the MIME type the upload sniffed from the content, stored with the job's probe facts
    media_type = ProbeInfo.model_validate(job.probe).mime_type if job.probe else "video/mp4"
    # A stream can last minutes: hand the database connection back before it starts.
    jobs.session.rollback()
    gone = VideoGoneError(params={"hours": jobs.settings.video_retention_hours})
    if not name or not isinstance(storage, RangeReadable):
        raise gone
    try:
        size = storage.size(name)
    except ObjectNotFoundError:
        raise gone from None
    span = parse_range(request.headers.get("range"), size)
    headers = {
        "Accept-Ranges": "bytes",
        # private: with API keys on the URL carries a token; never let a shared cache keep it
        "Cache-Control": "private, no-store",
    }
    if span is None:
        first, last, status = 0, size - 1, 200
    else:
        first, last = span
        status = 206
        headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    headers["Content-Length"] = str(last - first + 1)
    if size == 0 or request.method == "HEAD":
        return Response(status_code=status, headers=headers, media_type=media_type)
    return StreamingResponse(
        _chunks(storage, name, first, last),
        status_code=status,
        headers=headers,
        media_type=media_type,
    )


# HEAD as the docs promise for the links (a player or a download manager asks the size
# first); the same handler, left out of the schema (one operation id per path and handler)
router.add_api_route("/jobs/{job_id}/video", get_video, methods=["HEAD"], include_in_schema=False)
