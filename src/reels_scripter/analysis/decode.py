"""The one decode of the video stream, feeding every visual measurement (PySceneDetect style).

The loop knows nothing about what is measured: it decodes frames in presentation order and
hands each to a list of frame consumers (`FrameConsumer`): the shot builder (cuts, brightness,
motion, keyframes, faces), and whatever else measures pictures. Views of a frame that several
consumers want (the tiny feature, a small upright copy) are computed once, on the `Frame`.

By default the decoder skips non-reference frames (`skip_frame="NONREF"`, most B-frames): that
saves about a quarter of the decode time on typical H.264 and still leaves a frame every
~0.1 s, well inside the ±0.25 s that cut times need.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import av
import numpy as np
import numpy.typing as npt

from reels_scripter.analysis.container import open_container
from reels_scripter.analysis.errors import CorruptVideoError
from reels_scripter.analysis.models import Notice, ProbeInfo
from reels_scripter.analysis.pixels import feature_of, scaled
from reels_scripter.analysis.scenes import Feature, Histogram


class Frame:
    """One decoded picture at `time` (seconds), with shared, lazily computed views.

    `shot` is the index of the shot the frame belongs to; the shot builder (always the first
    consumer) sets it, so later consumers can group their work by shot.
    """

    __slots__ = ("_feature", "_scaled", "av", "shot", "time")

    def __init__(self, time: float, av_frame: Any) -> None:
        self.time = time
        self.av = av_frame
        self.shot = 0
        self._feature: tuple[Feature, Histogram, float] | None = None
        self._scaled: dict[tuple[int, str], npt.NDArray[np.uint8]] = {}

    def feature(self) -> tuple[Feature, Histogram, float]:
        """(tiny Y+U+V samples, their histograms, mean luma 0..1), read in place."""
        if self._feature is None:
            self._feature = feature_of(self.av)
        return self._feature

    def scaled(self, width: int, fmt: str = "gray") -> npt.NDArray[np.uint8]:
        """An upright copy whose displayed width is `width` (`gray`, `bgr24`, ...)."""
        key = (width, fmt)
        image = self._scaled.get(key)
        if image is None:
            image = self._scaled[key] = scaled(self.av, width, fmt)
        return image


class FrameConsumer(Protocol):
    """Receives every decoded frame in presentation order, then the end of the stream."""

    def push(self, frame: Frame) -> None: ...

    def finish(self, end: float) -> None:
        """No more frames; `end` is where the last shot ends (the reel's duration)."""


@dataclass
class DecodeReport:
    frames: int
    last_time: float
    notices: list[Notice] = field(default_factory=list)


def decode_video(
    path: str | Path,
    info: ProbeInfo,
    consumers: Sequence[FrameConsumer],
    *,
    max_pixels: int,
    progress: Callable[[float], None] | None = None,
    threads: int = 0,
    skip_nonref: bool = True,
) -> DecodeReport:
    """Decode the first video stream once, feeding every frame to `consumers` in order."""
    duration = info.duration
    notices: list[Notice] = []
    prev_t: float | None = None
    decoded = 0
    reported = 0.0
    with open_container(path, info.family, max_pixels=max_pixels) as container:
        stream = container.streams.video[0]
        # Slice threading, not frame threading: on 2 cores frame threads fight whisper for the
        # second core and add hand-off overhead; measured on the 30 s 1080x1920 bench reel,
        # "AUTO" took 4.9 s for the whole analyze and "SLICE" 4.3 s (and 26.8 s vs 14.3 s on
        # the 170 s reel once faces were on). Streams encoded with slices still get threads.
        stream.thread_type = "SLICE"
        if threads:
            stream.codec_context.thread_count = threads
        if skip_nonref:
            stream.codec_context.skip_frame = "NONREF"
        try:
            for av_frame in container.decode(stream):
                t = av_frame.time
                if t is None or (prev_t is not None and t <= prev_t):
                    continue  # no timestamp, or out of order after a broken packet
                frame = Frame(t, av_frame)
                for consumer in consumers:
                    consumer.push(frame)
                prev_t = t
                decoded += 1
                if progress is not None and duration > 0 and t - reported >= 0.02 * duration:
                    reported = t
                    progress(min(1.0, t / duration))
        except av.FFmpegError as exc:
            if prev_t is None:
                raise CorruptVideoError(f"The video stream could not be decoded: {exc}") from exc
            notices.append(
                Notice.of(
                    "video_decode_stopped",
                    f"Video decoding stopped at {prev_t:.1f} s of {duration:.1f} s: {exc}",
                    at=prev_t,
                    duration=duration,
                )
            )
    if prev_t is None:
        raise CorruptVideoError("The video stream has no decodable frames.")
    if prev_t < duration - max(1.0, 0.1 * duration) and not notices:
        notices.append(
            Notice.of(
                "video_frames_end_early",
                f"Video frames end at {prev_t:.1f} s of {duration:.1f} s.",
                at=prev_t,
                duration=duration,
            )
        )
    end = duration if duration > 0 else prev_t
    for consumer in consumers:
        consumer.finish(end)
    if progress is not None:
        progress(1.0)
    return DecodeReport(frames=decoded, last_time=prev_t, notices=notices)
