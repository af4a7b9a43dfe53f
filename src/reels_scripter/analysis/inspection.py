"""What a video container holds, read by the sandboxed probe child (see `probe`).

Everything here parses untrusted bytes with FFmpeg, so it runs only inside the child process,
under its memory and CPU limits. It decodes the first picture (to prove the stream decodes
and to read its rotation) and walks every packet (to find the true end, so a truncated upload
is refused here rather than half-analysed later).
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from reels_scripter.analysis.container import open_container
from reels_scripter.analysis.errors import (
    AudioOnlyError,
    CorruptVideoError,
    NoVideoStreamError,
    ResolutionTooLargeError,
    UnsupportedFormatError,
    too_long,
)
from reels_scripter.analysis.sniff import SUPPORTED

if TYPE_CHECKING:
    import av.container
    import av.stream

# A declared duration may exceed the limit by this much before we refuse: muxers round, and
# audio priming makes a 180.0 s reel report 180.02 s.
DURATION_SLACK = 0.25
# How far the last packet may stop short of the declared duration before we call the file
# truncated. Streams of one file end together within a frame or two in a healthy file.
_TRUNCATION_SLACK = 0.25
# Video packets fed to the decoder while waiting for the first picture: covers decoder delay
# (B-frames, VP9 alt-ref frames) with room to spare, yet bounds work on a hopeless stream.
_FIRST_FRAME_PACKETS = 64


def inspect_container(
    path: str, family: str, max_pixels: int, max_duration: float
) -> dict[str, Any]:
    """The container facts of `path` (ProbeInfo fields), or an InputError subclass."""

    codec_options = {"max_pixels": str(max_pixels), "threads": "1"}
    with _av_errors("The video file is damaged or incomplete and cannot be opened.", ValueError):
        container = open_container(path, family, max_pixels=max_pixels, threads=1)
    with container:
        return _inspect_open(container, max_pixels, max_duration, codec_options)


def _inspect_open(
    container: av.container.InputContainer,
    max_pixels: int,
    max_duration: float,
    codec_options: dict[str, str],
) -> dict[str, Any]:
    import av

    videos = [
        s for s in container.streams.video if not s.disposition & av.stream.Disposition.attached_pic
    ]
    audios = list(container.streams.audio)
    if not videos:
        if audios:
            raise AudioOnlyError("The file contains only audio, no video.")
        raise NoVideoStreamError("The file contains no video stream.")
    vs = videos[0]
    cc = vs.codec_context
    if cc is None:
        raise UnsupportedFormatError(
            f"The video uses a codec that is not supported. Upload an {SUPPORTED} file."
        )
    coded_w, coded_h = int(cc.width), int(cc.height)
    if coded_w <= 0 or coded_h <= 0:
        raise CorruptVideoError("The video file is damaged: its picture size is missing.")
    # Refused from the header alone, before a single frame is decoded.
    if coded_w * coded_h > max_pixels:
        raise ResolutionTooLargeError(
            f"The video is {coded_w}x{coded_h} pixels ({coded_w * coded_h / 1e6:.1f} MP), "
            f"above the {max_pixels / 1e6:.1f} MP limit.",
            params={"width": coded_w, "height": coded_h, "limit_mp": max_pixels / 1e6},
        )

    start = container.start_time / 1_000_000 if container.start_time is not None else 0.0
    declared = _declared_duration(container, [vs, *audios])
    if declared is not None and declared > max_duration + DURATION_SLACK:
        raise too_long(declared, max_duration)

    audio = audios[0] if audios else None
    wanted: list[av.stream.Stream] = [vs, audio] if audio is not None else [vs]
    _check_index_within_file(container, wanted)

    cc.thread_count = 1
    cc.options = dict(codec_options)
    first_frame: av.VideoFrame | None = None
    fed = 0
    video_pts: list[int] = []
    end = 0.0
    with _av_errors("The video file is damaged or incomplete: it cannot be read to the end."):
        for packet in container.demux(wanted):
            if packet.size == 0:
                continue  # the flush packet PyAV yields at the end of each stream
            stream = packet.stream
            tb = packet.time_base or stream.time_base
            ts = packet.pts if packet.pts is not None else packet.dts
            if ts is not None and tb is not None:
                t_end = float((ts + (packet.duration or 0)) * tb) - start
                end = max(end, t_end)
                if t_end > max_duration + DURATION_SLACK:
                    raise too_long(t_end, max_duration, at_least=True)
            if stream.index != vs.index:
                continue
            if ts is not None:
                video_pts.append(ts)
            if first_frame is None and fed < _FIRST_FRAME_PACKETS:
                fed += 1
                first_frame = _decode_first(cc, packet)
    if first_frame is None and fed:
        first_frame = _decode_first(cc, None)
    if not video_pts:
        raise CorruptVideoError("The video file is damaged: its video track has no frames.")
    if first_frame is None:
        raise CorruptVideoError("The video file is damaged: its first frame cannot be decoded.")

    fps = _fps(vs, len(video_pts), declared or end)
    # Matroska video blocks often carry no duration, so the last frame's own length is
    # missing from `end`: allow two frame intervals on top of the fixed slack.
    slack = max(_TRUNCATION_SLACK, 2.0 / fps if fps > 0 else 0.0, 0.02 * (declared or 0.0))
    if declared is not None and end < declared - slack:
        raise CorruptVideoError("The video file is incomplete: it stops early (truncated upload?).")

    duration = declared if declared is not None and end <= declared + 1.0 else end
    if duration <= 0:
        raise CorruptVideoError("The video file is damaged: its duration is unknown.")

    rotation = _normalise_rotation(first_frame.rotation)
    width, height = (coded_h, coded_w) if rotation in (90, 270) else (coded_w, coded_h)
    if fps <= 0:
        fps = len(video_pts) / duration
    facts: dict[str, Any] = {
        "duration": round(duration, 6),
        "width": width,
        "height": height,
        "coded_width": coded_w,
        "coded_height": coded_h,
        "rotation": rotation,
        "video_codec": cc.name,
        "fps": round(fps, 6),
        "variable_frame_rate": _is_vfr(video_pts),
        "frame_count": len(video_pts),
        "has_audio": audio is not None,
    }
    if audio is not None:
        acc = audio.codec_context
        facts["audio_codec"] = acc.name if acc is not None else audio.codec.name
        facts["audio_sample_rate"] = int(acc.sample_rate) if acc is not None else None
        facts["audio_channels"] = int(acc.channels) if acc is not None else None
    return facts


def _check_index_within_file(
    container: av.container.InputContainer, streams: list[av.stream.Stream]
) -> None:
    """Refuse a file whose own index points past its end.

    An MP4 lists every sample's offset up front (in full, for a faststart file), so a cut
    upload still opens and its first frames still decode; only the index gives it away.
    Comparing offsets, not frame counts, keeps trimmed files (edit lists) valid.
    """
    size = container.size
    if size <= 0:
        return
    for stream in streams:
        for entry in stream.index_entries:
            if entry.pos + entry.size > size:
                raise CorruptVideoError(
                    "The video file is incomplete: it ends before its last frame "
                    "(truncated upload?)."
                )


@contextmanager
def _av_errors(damage: str, *also: type[Exception]) -> Iterator[None]:
    """Inside: PyAV running out of memory is a MemoryError; any other PyAV error (or one of
    `also`) is a CorruptVideoError that says `damage`."""
    import av

    damaged: tuple[type[Exception], ...] = (av.FFmpegError, *also)
    try:
        yield
    except av.error.MemoryError as e:
        raise MemoryError from e
    except damaged as e:
        raise CorruptVideoError(damage) from e


def _decode_first(cc: Any, packet: Any) -> Any:
    """Feed one packet (None flushes) and return the first picture it yields, if any."""

    with _av_errors("The video file is damaged: its first frame cannot be decoded."):
        frames = cc.decode(packet)
    return frames[0] if frames else None


def _declared_duration(
    container: av.container.InputContainer, streams: list[av.stream.Stream]
) -> float | None:
    """The longest duration the headers claim, from the container and each stream."""
    found: list[float] = []
    if container.duration is not None and container.duration > 0:
        found.append(container.duration / 1_000_000)
    for s in streams:
        if s.duration is not None and s.duration > 0 and s.time_base is not None:
            found.append(float(s.duration * s.time_base))
    return max(found) if found else None


def _fps(vs: av.stream.Stream, frames: int, duration: float) -> float:
    for rate in (vs.average_rate, vs.guessed_rate):
        if rate is not None and rate > 0:
            return float(rate)
    return frames / duration if duration > 0 else 0.0


def _is_vfr(pts: list[int]) -> bool:
    """Whether frame intervals vary beyond timestamp rounding.

    A single long interval (one dropped frame) does not count: what matters downstream is
    whether frame index and time stop being proportional.
    """
    ordered = sorted(set(pts))
    deltas = [b - a for a, b in itertools.pairwise(ordered)]
    if len(deltas) < 3:
        return False
    median = statistics.median(deltas)
    # 1.5 ticks absorbs millisecond rounding of a 30 fps clock (33/34 ms)
    tolerance = max(0.2 * median, 1.5)
    off = sum(1 for d in deltas if abs(d - median) > tolerance)
    return off > max(1, len(deltas) // 20)


def _normalise_rotation(value: float | int | None) -> int:
    if value is None or not math.isfinite(value):
        return 0
    return (round(value / 90) % 4) * 90
