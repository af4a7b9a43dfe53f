"""Shots from the decode loop: cuts, brightness, motion, a keyframe and faces per shot.

`ShotBuilder` is the first frame consumer of the decode loop. It runs the causal cut detector
on each frame's tiny feature, and the moment a new shot starts it closes the previous one:
picks its keyframe (the sharpest of a few evenly spread candidates), counts faces on two of
them and drops the rest. It tags every frame with its shot index (`Frame.shot`) for the
consumers after it.

A candidate is kept as a small upright copy (keyframe width, BGR: ~0.7 MB at 360 px) with its
sharpness measured on arrival, never as the decoded frame (~3 MB at 1080x1920, and a frame
held back pins a buffer of the decoder's pool).

Motion is normalised per 1/30 s, so it does not depend on how many frames the decoder skipped
or on the frame rate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from reels_scripter.analysis.decode import Frame
from reels_scripter.analysis.faces import FaceDetector, shot_scale
from reels_scripter.analysis.models import SceneFacts
from reels_scripter.analysis.pixels import gray_at, jpeg_of, sharpness
from reels_scripter.analysis.scenes import CutDetector

# Motion is expressed as the mean absolute difference over this interval.
MOTION_INTERVAL = 1 / 30
# Frames kept per shot as keyframe / face candidates; when full, every other one is dropped
# and the sampling interval doubles, so a long shot still has evenly spread candidates.
MAX_CANDIDATES = 4
FIRST_SAMPLE_INTERVAL = 0.5
# Haar is the costliest step on textured frames (~64 CPU-ms a call at 240 px wide on one
# OpenCV thread, on the bench reel's noise): it runs once a shot, on a 240-px copy of the
# keyframe (faces down to ~6% of the frame height), so the faces reported are the ones a
# person sees in the keyframe. A second sample per shot cost 0.38 CPU-s on the 30 s bench reel
# and changed nothing the tests measure. A 200-px copy costs a third less but is not as sure:
# a face photo of ~10% of the frame height, placed 45 ways on 5 backgrounds, was found 30
# times at 200 px and 45 at 240.
FACE_FRAME_WIDTH = 240


@dataclass(frozen=True)
class Candidate:
    """A possible keyframe: when it was shown, how sharp it is, and a small upright copy."""

    time: float
    sharpness: float
    bgr: npt.NDArray[np.uint8]

    @classmethod
    def of(cls, frame: Frame, width: int) -> Candidate:
        return cls(frame.time, sharpness(frame.av), frame.scaled(width, "bgr24"))


@dataclass
class _Shot:
    start: float
    luma_sum: float = 0.0
    frames: int = 0
    motion_sum: float = 0.0
    motion_frames: int = 0
    interval: float = FIRST_SAMPLE_INTERVAL
    next_sample: float = 0.0
    candidates: list[Candidate] = field(default_factory=list)

    def offer(self, frame: Frame, width: int) -> None:
        if frame.time < self.next_sample:
            return
        self.candidates.append(Candidate.of(frame, width))
        self.next_sample = frame.time + self.interval
        if len(self.candidates) > MAX_CANDIDATES:
            self.candidates = self.candidates[::2]
            self.interval *= 2
            self.next_sample = self.candidates[-1].time + self.interval


def _nearest(candidates: list[Candidate], at: float) -> Candidate:
    return min(candidates, key=lambda f: abs(f.time - at))


def pick_keyframe(candidates: list[Candidate], start: float, end: float) -> Candidate:
    """The sharpest candidate of the shot's middle half (a blurred mid-pan frame makes a
    poor thumbnail), else the one nearest the middle."""
    span = end - start
    middle = [f for f in candidates if start + span / 4 <= f.time <= end - span / 4]
    if len(middle) > 1:
        return max(middle, key=lambda f: f.sharpness)
    return _nearest(candidates, (start + end) / 2)


class ShotBuilder:
    """Frame consumer: measured shots (`scenes`), cut times and the motion series."""

    def __init__(
        self, duration: float, keyframe_width: int, faces: FaceDetector | None = None
    ) -> None:
        self.duration = duration  # a "cut" at or after the end is not a new shot
        self.keyframe_width = keyframe_width
        self.faces = faces if faces is not None else FaceDetector.shared()
        self.detector = CutDetector()
        self.scenes: list[SceneFacts] = []
        self._shot = _Shot(start=0.0)
        self._prev_t: float | None = None
        self._times: list[float] = []
        self._motion: list[float] = []

    @property
    def cuts(self) -> list[float]:
        return [s.start for s in self.scenes[1:]]

    @property
    def frame_times(self) -> npt.NDArray[np.float64]:
        return np.asarray(self._times, dtype=np.float64)

    @property
    def frame_motion(self) -> npt.NDArray[np.float64]:
        """Per-frame motion (0..1 per 1/30 s) at `frame_times`; cut frames are left out."""
        return np.asarray(self._motion, dtype=np.float64)

    def push(self, frame: Frame) -> None:
        t = frame.time
        feature, hist, luma = frame.feature()
        shot = self._shot
        if self.detector.push(t, feature, hist) and t < self.duration:
            self._close(shot, t)
            shot = self._shot = _Shot(start=t)
        elif self._prev_t is not None:
            m = min(1.0, self.detector.last_score * MOTION_INTERVAL / max(t - self._prev_t, 1e-3))
            shot.motion_sum += m
            shot.motion_frames += 1
            self._times.append(t)
            self._motion.append(m)
        frame.shot = len(self.scenes)
        shot.luma_sum += luma
        shot.frames += 1
        shot.offer(frame, self.keyframe_width)
        self._prev_t = t

    def finish(self, end: float) -> None:
        self._close(self._shot, max(end, self._shot.start + 1e-3))

    def _close(self, shot: _Shot, end: float) -> None:
        start = shot.start
        if end - start <= 1e-3:
            return
        jpeg = None
        count, largest = 0, None
        if shot.candidates:
            keyframe = pick_keyframe(shot.candidates, start, end)
            jpeg = jpeg_of(keyframe.bgr)
            if self.faces.available:
                count, largest = self.faces.largest_faces(gray_at(keyframe.bgr, FACE_FRAME_WIDTH))
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
