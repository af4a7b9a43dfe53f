"""The one decode of the video stream, feeding every visual measurement (PySceneDetect style).

The loop knows nothing about what is measured: it decodes frames in presentation order and
hands each to a list of frame consumers (`FrameConsumer`): the shot builder (cuts, brightness,
motion, keyframes, faces), and whatever else measures pictures. Views of a frame that several
consumers want (the tiny feature, a small upright copy) are computed once, on the `Frame`.

By default the decoder skips frames nothing else needs. H.264 skips every B-frame
(`skip_frame="BIDIR"`; its P-frames never reference B-frames): on the bench reel (x264, B-frame
pyramid) 387 of 900 frames are decoded instead of 525 with non-reference frames skipped, 2.0
instead of 2.5 CPU-s of decoding and 0.17 CPU-s less of per-frame measures, and a frame still
comes every ~0.13 s at 30 fps, inside the ±0.25 s that cut times need. Should a stream code its
inter frames as B-frames (legal, rare in H.264), fewer than `MIN_DECODED_FPS` frames a second
come out and the decoder falls back to skipping only non-reference frames, which is what every
other codec does (HEVC encoders often code all inter frames as B).

For H.264 and HEVC the decoder also skips the in-loop deblocking filter (`skip_loop_filter`):
another ~12% of the decode of a single-slice 1080x1920 phone stream (1.65 -> 1.45 s for
30 s). Safe for what is measured here: every consumer works on copies of at most 360 px wide,
where the skipped filter's drift measured 55.6 dB PSNR at worst (61.5 dB median) against
fully filtered frames on the bench reel.

Decoding runs in a thread of its own and hands frames over a short queue, so the consumers'
work (numpy, OpenCV, ONNX: all release the GIL) runs on the other core instead of after each
frame: a single-slice phone stream, which FFmpeg decodes on one thread, keeps both cores busy
once speech recognition is done (2.7 -> 1.8 s for decode plus shot measures on the bench reel).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import av
import numpy as np
import numpy.typing as npt

from reels_scripter.analysis.container import open_container
from reels_scripter.analysis.errors import CorruptVideoError
from reels_scripter.analysis.models import Notice, ProbeInfo
from reels_scripter.analysis.pixels import feature_of, scaled
from reels_scripter.analysis.scenes import Feature, Histogram

log = logging.getLogger(__name__)


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

    def cached(self, width: int, fmt: str) -> npt.NDArray[np.uint8] | None:
        """The copy `scaled(width, fmt)` made earlier, if any (never scales)."""
        return self._scaled.get((width, fmt))

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
    decoder_cpu: float = 0.0  # CPU seconds of the decoder thread (FFmpeg's own threads aside)


# Codecs whose in-loop filter is skipped (see the module doc); others decode as they are.
SKIP_LOOP_FILTER_CODECS = frozenset({"h264", "hevc"})
# Frames skipped, by codec (see the module doc); any other codec skips "NONREF".
SKIP_FRAMES: dict[str, Literal["BIDIR", "NONREF"]] = {"h264": "BIDIR"}
# Below this many decoded frames a second (checked once a second of video has passed), a
# codec's skip falls back to "NONREF". 5: a frame every 0.2 s keeps cut times within their
# +-0.25 s and feeds the 0.2 s motion and 0.25 s caption samplers; a strict IBBBP stream keeps
# 7.5 frames a second at 30 fps and 6 at 24 fps, a mostly-B one under 2.
MIN_DECODED_FPS = 5.0
CHECK_AFTER_SEC = 1.0
# Frames waiting between the decoder thread and the consumers: enough to ride out a slow
# consumer call (a face search, a JPEG) without holding many full frames (~3 MB each at
# 1080x1920). 6 instead of 12: ~20 MB less peak memory on the bench reel at the same wall
# time (6 paired runs); 4 saved no more and cost ~0.1 s.
QUEUE_FRAMES = 6
_DONE = object()


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def _decoded_frames(
    container: Any, stream: Any, stop: threading.Event, cpu: list[float]
) -> Iterator[tuple[Any, bool]]:
    """(frame, ok) pairs from a decoder thread; the last item is `(exception, False)` if
    decoding failed. Stops early when `stop` is set. The thread's CPU seconds go to `cpu`."""
    handoff: queue.Queue[Any] = queue.Queue(maxsize=QUEUE_FRAMES)

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for av_frame in container.decode(stream):
                if not put(av_frame):
                    return
        except BaseException as exc:  # handed to the consumer thread, which raises or reports
            put(_Failure(exc))
            return
        finally:
            cpu.append(time.thread_time())
        put(_DONE)

    worker = threading.Thread(target=produce, name="video-decode", daemon=True)
    worker.start()
    try:
        while True:
            item = handoff.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                yield item.exc, False
                return
            yield item, True
    finally:
        stop.set()
        worker.join()


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
        # Slice threading, not frame threading: with non-reference frames skipped, what is
        # left is a chain of frames that each need the previous one, and frame threads
        # gained 5% wall for 15% more CPU on a single-slice stream (the second core does
        # better running the consumers, see above). Streams encoded with slices still get
        # slice threads.
        stream.thread_type = "SLICE"
        if threads:
            stream.codec_context.thread_count = threads
        skip = SKIP_FRAMES.get(stream.codec_context.name, "NONREF") if skip_nonref else None
        if skip is not None:
            stream.codec_context.skip_frame = skip
        check_at: float | None = None  # stream time of the decoded-rate check, once
        if stream.codec_context.name in SKIP_LOOP_FILTER_CODECS:
            stream.codec_context.options = {"skip_loop_filter": "all"}
        stop = threading.Event()
        cpu: list[float] = []
        for item, ok in _decoded_frames(container, stream, stop, cpu):
            if not ok:
                exc = item
                if not isinstance(exc, av.FFmpegError):
                    raise exc
                if prev_t is None:
                    raise CorruptVideoError(
                        f"The video stream could not be decoded: {exc}"
                    ) from exc
                notices.append(
                    Notice.of(
                        "video_decode_stopped",
                        f"Video decoding stopped at {prev_t:.1f} s of {duration:.1f} s: {exc}",
                        at=prev_t,
                        duration=duration,
                    )
                )
                break
            t = item.time
            if t is None or (prev_t is not None and t <= prev_t):
                continue  # no timestamp, or out of order after a broken packet
            if skip is not None and skip != "NONREF":
                if check_at is None:
                    check_at = t + CHECK_AFTER_SEC
                elif t >= check_at:
                    if decoded < MIN_DECODED_FPS * CHECK_AFTER_SEC:
                        # the decoder thread reads it at its next packet
                        stream.codec_context.skip_frame = "NONREF"
                        log.info(
                            "%d frames in the first %.0f s with %s skipped: now NONREF",
                            decoded,
                            CHECK_AFTER_SEC,
                            skip,
                        )
                    skip = "NONREF"
            frame = Frame(t, item)
            for consumer in consumers:
                consumer.push(frame)
            prev_t = t
            decoded += 1
            if progress is not None and duration > 0 and t - reported >= 0.02 * duration:
                reported = t
                progress(min(1.0, t / duration))
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
    return DecodeReport(frames=decoded, last_time=prev_t, notices=notices, decoder_cpu=sum(cpu))
