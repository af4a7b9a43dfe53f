"""One way to open an uploaded video for decoding: `open_container`.

Every decode (the probe's inspection, the video pass, the audio pass) opens the file the same
way: with the demuxer named from the sniffed family, so FFmpeg never guesses among its hundreds
of formats, and with the pixel cap passed to the decoders, so a giant picture is refused
instead of allocated. Light on purpose: the sandboxed probe child imports it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import av.container

# The demuxer for each family `sniff` returns (QuickTime/MP4 share FFmpeg's "mov" demuxer).
DEMUXERS: dict[str, str] = {"mp4": "mov", "webm": "matroska"}


def open_container(
    path: str | Path, family: str, *, max_pixels: int, threads: int | None = None
) -> av.container.InputContainer:
    """Open `path` for reading with the demuxer of `family` and the decoders capped at
    `max_pixels` (codec options also reach the decoders `avformat_find_stream_info` runs)."""
    import av

    options = {"max_pixels": str(max_pixels)}
    if threads is not None:
        options["threads"] = str(threads)
    return av.open(str(path), format=DEMUXERS.get(family, "mov"), options=options)
