"""Every visual measurement from one decode of the video stream.

`measure_video` runs the decode loop (`decode`) with the shot builder (`shots`) first and any
further frame consumers after it, and gathers what they measured.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from reels_scripter.analysis.decode import FrameConsumer, decode_video
from reels_scripter.analysis.faces import FaceDetector
from reels_scripter.analysis.models import AnalysisOptions, Notice, ProbeInfo, SceneFacts
from reels_scripter.analysis.shots import ShotBuilder

__all__ = ["VideoResult", "measure_video"]


@dataclass
class VideoResult:
    scenes: list[SceneFacts]
    cuts: list[float]
    frame_times: npt.NDArray[np.float64]
    frame_motion: npt.NDArray[np.float64]
    frames_decoded: int
    notices: list[Notice] = field(default_factory=list)
    decoder_cpu: float = 0.0


def measure_video(
    path: str | Path,
    info: ProbeInfo,
    options: AnalysisOptions,
    progress: Callable[[float], None] | None = None,
    *,
    consumers: Sequence[FrameConsumer] = (),
    threads: int = 0,
    skip_nonref: bool = True,
) -> VideoResult:
    """Decode the video once and measure shots, brightness, motion and keyframes; further
    `consumers` see every frame after the shot builder has tagged it with its shot."""
    # OpenCV's own pool (a worker per core) would split each face search and optical-flow step
    # in two, but the decoder, speech and OCR threads already keep every core busy: the split
    # only adds hand-overs. One thread, measured on the bench reel's frames: a face search
    # 1.49 -> 1.36 CPU-s per 20 frames, a camera-motion step 3.4 -> 2.3 ms. Process-wide, as
    # OpenCV's setting is; nothing outside `analysis` uses OpenCV.
    cv2.setNumThreads(1)
    faces = FaceDetector.shared()
    shots = ShotBuilder(info.duration, options.keyframe_width, faces)
    notices: list[Notice] = []
    if not faces.available:
        notices.append(
            Notice.of(
                "faces_unavailable",
                f"Face detection unavailable ({faces.reason}); shot scale is unknown.",
            )
        )
    report = decode_video(
        path,
        info,
        [shots, *consumers],
        max_pixels=options.max_pixels,
        progress=progress,
        threads=threads,
        skip_nonref=skip_nonref,
    )
    return VideoResult(
        scenes=shots.scenes,
        cuts=shots.cuts,
        frame_times=shots.frame_times,
        frame_motion=shots.frame_motion,
        frames_decoded=report.frames,
        notices=[*notices, *report.notices],
        decoder_cpu=report.decoder_cpu,
    )
