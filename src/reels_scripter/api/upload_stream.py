"""The content policy of an upload: a video container by its first bytes, or refused early.

The generic receiver (`multipart.receive_file`) streams the field to disk; this module gives
it the check that runs on the first 4 KiB: anything that is not an MP4/QuickTime or
WebM/Matroska container is refused before the rest of the body is read, with the same typed
error (and code) the probe gives for it (`png`, `mp3`, `avi`, ... named in the message).
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request

from reels_scripter.analysis.probe import refuse_unknown
from reels_scripter.analysis.sniff import HEAD_SIZE, sniff
from reels_scripter.api import multipart


async def _video_head(head: bytes) -> None:
    if sniff(head) is None:
        refuse_unknown(head)


async def receive_video(
    request: Request,
    *,
    field_name: str,
    max_bytes: int,
    tmp_dir: Path,
    idle_timeout: float = float("inf"),
    deadline: float = float("inf"),
) -> multipart.ReceivedFile:
    """Receive the video in `field_name` (see `multipart.receive_file`), refusing a file
    whose first bytes are not a supported container before reading on."""
    return await multipart.receive_file(
        request,
        field_name=field_name,
        max_bytes=max_bytes,
        tmp_dir=tmp_dir,
        check_head=_video_head,
        head_size=HEAD_SIZE,
        idle_timeout=idle_timeout,
        deadline=deadline,
    )
