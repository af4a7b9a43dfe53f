"""Every visual measurement from one decode of the video stream.

The full-resolution frames never become numpy images. Per frame we only take a strided view
of the decoder's own Y/U/V planes (~64 samples across), which costs a fraction of a
millisecond; that tiny feature drives the cut detector, brightness and motion. A handful of
frames per shot are kept as references (no copy) and only the chosen ones are scaled: one
keyframe per shot for the JPEG and a few for face detection.

By default the decoder skips non-reference frames (`skip_frame="NONREF"`, most B-frames): that
saves about a quarter of the decode time on typical H.264 and still leaves a frame every
~0.1 s, well inside the ±0.25 s that cut times need. Motion is normalised per 1/30 s, so it
does not depend on how many frames were skipped or on the frame rate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import numpy.typing as npt

from reels_scripter.analysis.errors import CorruptVideoError
from reels_scripter.analysis.faces import FaceDetector, shot_scale
from reels_scripter.analysis.models import AnalysisOptions, ProbeInfo, SceneFacts
from reels_scripter.analysis.scenes import CutDetector, Feature, Histogram, histogram

# Samples across the width of the tiny feature frame.
FEATURE_WIDTH = 64
# Motion is expressed as the mean absolute difference over this interval.
MOTION_INTERVAL = 1 / 30
# Frames kept per shot as keyframe / face candidates; when full, every other one is dropped
# and the sampling interval doubles, so a long shot still has evenly spread candidates.
MAX_CANDIDATES = 6
FIRST_SAMPLE_INTERVAL = 0.25
SHARPNESS_WIDTH = 270
# Haar is the costliest step on textured frames (84 ms a call at 360 px wide, 37 ms at 240):
# two samples a shot on 240 px frames still find faces down to ~6% of the frame height.
FACE_SAMPLES = 2
FACE_FRAME_WIDTH = 240
JPEG_QUALITY = 85
_FULL_RANGE = 2  # AVCOL_RANGE_JPEG


@dataclass
class VideoResult:
    scenes: list[SceneFacts]
    cuts: list[float]
    frame_times: npt.NDArray[np.float64]
    frame_motion: npt.NDArray[np.float64]
    frames_decoded: int
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Shot:
    start: float
    luma_sum: float = 0.0
    frames: int = 0
    motion_sum: float = 0.0
    motion_frames: int = 0
    interval: float = FIRST_SAMPLE_INTERVAL
    next_sample: float = 0.0
    candidates: list[tuple[float, Any]] = field(default_factory=list)

    def offer(self, t: float, frame: Any) -> None:
        if t < self.next_sample:
            return
        self.candidates.append((t, frame))
        self.next_sample = t + self.interval
        if len(self.candidates) > MAX_CANDIDATES:
            self.candidates = self.candidates[::2]
            self.interval *= 2
            self.next_sample = self.candidates[-1][0] + self.interval


def _plane(plane: Any, dtype: type[np.generic]) -> npt.NDArray[Any]:
    """A (height, width) view of one of the decoder's planes, rows `line_size` bytes apart."""
    itemsize = np.dtype(dtype).itemsize
    rows = np.frombuffer(plane, dtype, count=plane.line_size // itemsize * plane.height)
    return rows.reshape(plane.height, -1)[:, : plane.width]


def _planes_in_place(
    frame: Any, width: int = FEATURE_WIDTH
) -> tuple[npt.NDArray[np.uint8], ...] | None:
    """Tiny Y, U, V sample grids read straight from a planar YUV frame (8 to 16 bits, any
    chroma subsampling: phones' 10-bit HDR included); None for other layouts. Chroma is
    sampled on the same spatial grid as luma, so all three have about the same shape."""
    fmt = frame.format
    if not fmt.name.startswith("yuv") or fmt.name.endswith("be") or len(frame.planes) < 3:
        return None
    bits = int(fmt.components[0].bits)
    if bits == 8:
        dtype: type[np.generic] = np.uint8
    elif 8 < bits <= 16:
        dtype = np.uint16  # little-endian ("...le") on every platform we run on
    else:
        return None
    # Even, so that 2x-subsampled chroma lands on the same grid as luma in every format.
    step = max(2, frame.width // width // 2 * 2)
    out = []
    for plane in frame.planes[:3]:
        s = max(1, round(step * plane.width / frame.width))
        grid = _plane(plane, dtype)[::s, ::s]
        out.append(grid if bits == 8 else (grid >> (bits - 8)).astype(np.uint8))
    return tuple(out)


def feature_of(frame: Any) -> tuple[Feature, Histogram, float]:
    """(tiny Y+U+V samples, their histograms, mean luma 0..1) of a decoded frame, read in
    place from the decoder's planes: no full-size copy or conversion."""
    planes = _planes_in_place(frame)
    if planes is None:  # packed RGB, NV12 and the like: let swscale make a tiny yuv420p
        h = max(2, round(FEATURE_WIDTH * frame.height / max(1, frame.width)) // 2 * 2)
        small = frame.reformat(width=FEATURE_WIDTH, height=h, format="yuv420p")
        planes = tuple(_plane(p, np.uint8) for p in small.planes[:3])
    y, u, v = planes
    luma = float(y.mean())
    if frame.color_range != _FULL_RANGE:  # limited ("TV") range: black is 16, white 235
        luma = (luma - 16.0) / 219.0
    else:
        luma /= 255.0
    feature = np.concatenate((y.ravel(), u.ravel(), v.ravel()))
    return feature, histogram(y, u, v), min(1.0, max(0.0, luma))


def upright(image: npt.NDArray[Any], rotation: float) -> npt.NDArray[Any]:
    """Rotate a decoded image as players do. PyAV's `frame.rotation` is counter-clockwise
    degrees of the display matrix (90, -90, -180, ...); np.rot90 turns counter-clockwise too,
    which matches FFmpeg's autorotate (checked against `ffmpeg -i` output)."""
    k = round(rotation / 90) % 4
    return np.ascontiguousarray(np.rot90(image, k)) if k else image


def _scaled(frame: Any, display_width: int, fmt: str) -> npt.NDArray[np.uint8]:
    """The frame scaled so that its *displayed* (rotated) width is `display_width`, upright."""
    rotation = frame.rotation or 0
    sideways = round(rotation / 90) % 2 == 1
    disp_w, disp_h = (frame.height, frame.width) if sideways else (frame.width, frame.height)
    w = min(display_width, disp_w)
    h = max(2, round(w * disp_h / disp_w / 2) * 2)
    cw, ch = (h, w) if sideways else (w, h)
    image = frame.reformat(width=cw, height=ch, format=fmt, interpolation="AREA").to_ndarray()
    return upright(image, rotation)


def keyframe_jpeg(frame: Any, width: int) -> bytes | None:
    bgr = _scaled(frame, width, "bgr24")
    ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    return bytes(buf) if ok else None


def _pick(candidates: list[tuple[float, Any]], at: float) -> tuple[float, Any]:
    return min(candidates, key=lambda c: abs(c[0] - at))


def sharpness(frame: Any) -> float:
    """Variance of a Laplacian over a ~270-wide luma grid: low for motion blur and defocus."""
    planes = _planes_in_place(frame, width=SHARPNESS_WIDTH)
    if planes is None:
        return 0.0
    y = planes[0].astype(np.float32)
    if y.shape[0] < 3 or y.shape[1] < 3:
        return 0.0
    lap = 4 * y[1:-1, 1:-1] - y[:-2, 1:-1] - y[2:, 1:-1] - y[1:-1, :-2] - y[1:-1, 2:]
    return float(lap.var())


def _keyframe(candidates: list[tuple[float, Any]], start: float, end: float) -> Any:
    """The sharpest candidate of the shot's middle half (a blurred mid-pan frame makes a
    poor thumbnail), else the one nearest the middle."""
    span = end - start
    middle = [c for c in candidates if start + span / 4 <= c[0] <= end - span / 4]
    if len(middle) > 1:
        return max(middle, key=lambda c: sharpness(c[1]))[1]
    return _pick(candidates, (start + end) / 2)[1]


class _SceneBuilder:
    def __init__(self, options: AnalysisOptions, faces: FaceDetector) -> None:
        self.options = options
        self.faces = faces
        self.scenes: list[SceneFacts] = []

    def close(self, shot: _Shot, end: float) -> None:
        start = shot.start
        if end - start <= 1e-3:
            return
        jpeg = None
        count, largest = 0, None
        if shot.candidates:
            jpeg = keyframe_jpeg(
                _keyframe(shot.candidates, start, end), self.options.keyframe_width
            )
            if self.faces.available:
                count, largest = self._faces(shot, start, end)
        self.scenes.append(
            SceneFacts(
                index=len(self.scenes),
                start=round(start, 3),
                end=round(end, 3),
                brightness=round(shot.luma_sum / shot.frames, 4) if shot.frames else 0.0,
                motion=round(shot.motion_sum / shot.motion_frames, 4)
                if shot.motion_frames
                else 0.0,
                faces=count,
                shot_scale=shot_scale(largest),
                keyframe_jpeg=jpeg,
            )
        )

    def _faces(self, shot: _Shot, start: float, end: float) -> tuple[int, float | None]:
        """Max face count and largest face over a few frames spread over the shot."""
        picked: dict[float, Any] = {}
        for i in range(FACE_SAMPLES):
            t, frame = _pick(shot.candidates, start + (end - start) * (i + 1) / (FACE_SAMPLES + 1))
            picked[t] = frame
        count, largest = 0, None
        for frame in picked.values():
            n, ratio = self.faces.largest_faces(_scaled(frame, FACE_FRAME_WIDTH, "gray"))
            count = max(count, n)
            if ratio is not None:
                largest = ratio if largest is None else max(largest, ratio)
        return count, largest


def measure_video(
    path: str | Path,
    info: ProbeInfo,
    options: AnalysisOptions,
    progress: Callable[[float], None] | None = None,
    *,
    threads: int = 0,
    skip_nonref: bool = True,
) -> VideoResult:
    """Decode the video once and measure shots, brightness, motion and keyframes."""
    faces = FaceDetector.shared()
    builder = _SceneBuilder(options, faces)
    detector = CutDetector()
    warnings: list[str] = []
    if not faces.available:
        warnings.append(f"Face detection unavailable ({faces.reason}); shot scale is unknown.")
    duration = info.duration
    times: list[float] = []
    motion: list[float] = []
    shot = _Shot(start=0.0)
    prev_t: float | None = None
    decoded = 0
    reported = 0.0
    with av.open(str(path)) as container:
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
            for frame in container.decode(stream):
                t = frame.time
                if t is None or (prev_t is not None and t <= prev_t):
                    continue  # no timestamp, or out of order after a broken packet
                feature, hist, luma = feature_of(frame)
                if detector.push(t, feature, hist) and t < duration:
                    builder.close(shot, t)
                    shot = _Shot(start=t)
                elif prev_t is not None:
                    m = min(1.0, detector.last_score * MOTION_INTERVAL / max(t - prev_t, 1e-3))
                    shot.motion_sum += m
                    shot.motion_frames += 1
                    times.append(t)
                    motion.append(m)
                shot.luma_sum += luma
                shot.frames += 1
                shot.offer(t, frame)
                prev_t = t
                decoded += 1
                if progress is not None and duration > 0 and t - reported >= 0.02 * duration:
                    reported = t
                    progress(min(1.0, t / duration))
        except av.FFmpegError as exc:
            if prev_t is None:
                raise CorruptVideoError(f"The video stream could not be decoded: {exc}") from exc
            warnings.append(f"Video decoding stopped at {prev_t:.1f} s of {duration:.1f} s: {exc}")
    if prev_t is None:
        raise CorruptVideoError("The video stream has no decodable frames.")
    if prev_t < duration - max(1.0, 0.1 * duration) and not any(
        w.startswith("Video decoding stopped") for w in warnings
    ):
        warnings.append(f"Video frames end at {prev_t:.1f} s of {duration:.1f} s.")
    builder.close(shot, max(duration, shot.start + 1e-3) if duration > 0 else prev_t)
    if progress is not None:
        progress(1.0)
    return VideoResult(
        scenes=builder.scenes,
        cuts=[s.start for s in builder.scenes[1:]],
        frame_times=np.asarray(times, dtype=np.float64),
        frame_motion=np.asarray(motion, dtype=np.float64),
        frames_decoded=decoded,
        warnings=warnings,
    )
