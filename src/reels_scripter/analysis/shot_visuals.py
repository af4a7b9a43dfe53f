"""Visual facts of one shot, collected from small frames while the video decodes.

One `ShotVisualsCollector` per shot (start a new one at each cut: motion across a cut is not
camera motion). The decode loop asks `wants(t)` and, when True, offers a small copy of the
frame, >= 160 px wide: gray is enough for motion and brightness (a strided view of the
decoder's Y plane, every 6th sample of a 1080-wide frame, costs 0.12 ms), and BGR is needed
only when `wants_colour(t)` is also True (about once a second; a 180-px `reformat` to bgr24
costs 1.5 ms). Every 0.2 s a 160-px gray copy is compared with the previous one
(`camera_motion`, ~1.8 ms); the colour frames are kept as 32-px copies (at most 6 per shot,
evenly spread) and clustered at `finish` (~3 ms a frame, 3 frames).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import cv2
import numpy as np
import numpy.typing as npt

from reels_scripter.analysis.camera_motion import CameraMotion, Step, classify, measure_step
from reels_scripter.analysis.colours import Colour, dominant_colours, tiny
from reels_scripter.analysis.pixels import plane_view

if TYPE_CHECKING:
    from reels_scripter.analysis.decode import Frame

MOTION_WIDTH = 160
MOTION_INTERVAL = 0.2  # 5 samples a second: enough for shake at 1-2 Hz, half the cost of 10
COLOUR_INTERVAL = 1.0
MAX_COLOUR_FRAMES = 6
COLOUR_FRAMES_USED = 3
COLOUR_WIDTH = 180
# Decoder layouts whose first plane is 8-bit luma (the strided gray view reads it in place).
_PLANAR_8BIT = frozenset({"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p"})

Image = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class ShotVisuals:
    camera: CameraMotion
    colours: list[Colour]  # largest share first; empty when only gray frames were offered
    brightness: float  # mean luma 0..1
    contrast: float  # standard deviation of luma 0..1 (flat vs punchy pictures)
    samples: int  # frames measured


def _motion_gray(frame: Image) -> Image:
    gray = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    h, w = gray.shape
    size = (MOTION_WIDTH, max(2, round(MOTION_WIDTH * h / w)))
    if w == MOTION_WIDTH:
        return np.asarray(gray, dtype=np.uint8)
    return np.asarray(cv2.resize(gray, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


@dataclass
class ShotVisualsCollector:
    motion_interval: float = MOTION_INTERVAL
    colour_interval: float = COLOUR_INTERVAL
    _next: float = float("-inf")
    _next_colour: float = float("-inf")
    _prev: tuple[float, Image] | None = None
    _steps: list[Step] = field(default_factory=list)
    _colour_frames: list[tuple[float, Image]] = field(default_factory=list)
    _luma_sum: float = 0.0
    _luma_sq_sum: float = 0.0
    _pixels: int = 0
    _samples: int = 0

    def wants(self, t: float) -> bool:
        return t >= self._next - 1e-6

    def wants_colour(self, t: float) -> bool:
        """True when a frame offered at `t` should be BGR: a colour sample is due."""
        return self.wants(t) and t >= self._next_colour - 1e-6

    def offer(self, t: float, frame: Image) -> None:
        if not self.wants(t) or (self._prev is not None and t <= self._prev[0]):
            return
        self._next = t + self.motion_interval
        gray = _motion_gray(frame)
        if self._prev is not None:
            prev_t, prev = self._prev
            if gray.shape != prev.shape:
                # The strided luma view and the scaled colour copy round the height differently
                # (91 vs 90 rows at 160 px for 16:9, 4:5 and 3:4 frames), and a stream may
                # change size mid-shot: motion is measured between images of one size.
                size = (prev.shape[1], prev.shape[0])
                gray = np.asarray(cv2.resize(gray, size, interpolation=cv2.INTER_AREA), np.uint8)
            self._steps.append(measure_step(prev, gray, t - prev_t))
        self._prev = (t, gray)
        luma = gray.astype(np.float64) / 255.0
        self._luma_sum += float(luma.sum())
        self._luma_sq_sum += float((luma * luma).sum())
        self._pixels += luma.size
        self._samples += 1
        if frame.ndim == 3 and t >= self._next_colour - 1e-6:
            self._keep_colour(t, tiny(frame))

    def _keep_colour(self, t: float, small: Image) -> None:
        self._colour_frames.append((t, small))
        self._next_colour = t + self.colour_interval
        if len(self._colour_frames) > MAX_COLOUR_FRAMES:  # thin out, sample half as often
            self._colour_frames = self._colour_frames[::2]
            self.colour_interval *= 2
            self._next_colour = self._colour_frames[-1][0] + self.colour_interval

    def finish(self) -> ShotVisuals:
        frames = [f for _, f in self._colour_frames]
        if len(frames) > COLOUR_FRAMES_USED:
            picks = np.linspace(0, len(frames) - 1, COLOUR_FRAMES_USED).round().astype(int)
            frames = [frames[i] for i in picks]
        mean = self._luma_sum / self._pixels if self._pixels else 0.0
        variance = self._luma_sq_sum / self._pixels - mean * mean if self._pixels else 0.0
        return ShotVisuals(
            camera=classify(self._steps),
            colours=dominant_colours(frames),
            brightness=round(mean, 4),
            contrast=round(float(np.sqrt(max(0.0, variance))), 4),
            samples=self._samples,
        )


class ShotVisualsConsumer:
    """Frame consumer for the decode loop: one `ShotVisualsCollector` per shot (the shot
    builder, which runs first, tags each frame with its shot), fed a 180-px BGR copy when a
    colour sample is due and otherwise a gray view of the decoder's own luma plane."""

    def __init__(self) -> None:
        self.visuals: dict[int, ShotVisuals] = {}
        self._shot = -1
        self._collector = ShotVisualsCollector()

    def push(self, frame: Frame) -> None:
        if frame.shot != self._shot:
            if self._shot >= 0:
                self.visuals[self._shot] = self._collector.finish()
            self._shot = frame.shot
            self._collector = ShotVisualsCollector()
        collector = self._collector
        t = frame.time
        if collector.wants_colour(t):
            bigger = frame.cached(360, "bgr24")  # a keyframe candidate's copy, if any
            if bigger is not None:
                h, w = bigger.shape[:2]
                size = (COLOUR_WIDTH, max(2, round(COLOUR_WIDTH * h / w)))
                small = np.asarray(
                    cv2.resize(bigger, size, interpolation=cv2.INTER_AREA), dtype=np.uint8
                )
            else:
                small = frame.scaled(COLOUR_WIDTH, "bgr24")
            collector.offer(t, small)
        elif collector.wants(t):
            collector.offer(t, _luma_view(frame))

    def finish(self, end: float) -> None:
        if self._shot >= 0:
            self.visuals[self._shot] = self._collector.finish()


def _luma_view(frame: Frame) -> Image:
    """~180-px gray view of an upright frame: a strided view of the decoder's Y plane
    (0.1 ms) when the frame needs no rotation, else a scaled copy."""
    av_frame = frame.av
    if not (av_frame.rotation or 0) and av_frame.format.name in _PLANAR_8BIT:
        step = max(1, av_frame.width // (MOTION_WIDTH + 20))
        y = plane_view(av_frame.planes[0], np.uint8)
        return np.ascontiguousarray(y[::step, ::step])
    return frame.scaled(MOTION_WIDTH, "gray")
