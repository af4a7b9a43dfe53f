"""Faces and shot scale from OpenCV's Haar cascade, run on a few small upright frames per shot.

Shot scale is judged from the largest face's height relative to the frame height:
- close-up: the face is at least `CLOSE_UP` of the frame height (head and shoulders or tighter);
- medium:   at least `MEDIUM` (a person from the waist up);
- wide:     a smaller face (a whole body, a person in a room or landscape);
- unknown:  no face was found. We deliberately do not call a faceless shot "wide": shot scale
  is defined by the subject, and a faceless shot is as often a product close-up or a screen
  recording as a landscape, so guessing "wide" would be wrong about half the time.

OpenCV 5 dropped the Haar cascade API (and the cascade files that 4.x wheels ship in
`cv2.data.haarcascades`). Where it is missing, `FaceDetector.available` is False and the video
stage reports shot scale "unknown" with a warning instead of failing the analysis.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from reels_scripter.analysis.models import ShotScale
from reels_scripter.analysis.per_process import PerProcess

CLOSE_UP = 0.22
MEDIUM = 0.09
# Faces smaller than this share of the frame height are not looked for: on a ~640 px tall
# frame that is ~25 px, about the smallest face the cascade finds reliably, and skipping the
# smallest scales is where most of the cascade's time goes.
MIN_FACE = 0.04

_CASCADE = "haarcascade_frontalface_default.xml"


def shot_scale(face_height_ratio: float | None) -> ShotScale:
    """Shot scale from the largest face's height / frame height (None: no face)."""
    if face_height_ratio is None:
        return "unknown"
    if face_height_ratio >= CLOSE_UP:
        return "close-up"
    if face_height_ratio >= MEDIUM:
        return "medium"
    return "wide"


class FaceDetector(PerProcess):
    """Frontal-face detector; one per process, `shared()` (loading the cascade costs ~50 ms)."""

    def __init__(self) -> None:
        self._cascade: Any = None
        self.reason = ""
        import cv2

        cascade_cls = getattr(cv2, "CascadeClassifier", None)
        data_dir = getattr(getattr(cv2, "data", None), "haarcascades", None)
        if cascade_cls is None or data_dir is None:
            self.reason = f"OpenCV {cv2.__version__} has no Haar cascades"
            return
        path = Path(data_dir) / _CASCADE
        if not path.is_file():
            self.reason = f"{_CASCADE} is missing from OpenCV's data"
            return
        cascade = cascade_cls(str(path))
        if cascade.empty():
            self.reason = f"{_CASCADE} could not be loaded"
            return
        self._cascade = cascade

    @property
    def available(self) -> bool:
        return self._cascade is not None

    def largest_faces(self, gray: npt.NDArray[np.uint8]) -> tuple[int, float | None]:
        """(number of faces, largest face height / frame height) in an upright gray frame."""
        if self._cascade is None:
            return 0, None
        h = gray.shape[0]
        side = max(16, int(MIN_FACE * h))
        boxes = self._cascade.detectMultiScale(
            np.ascontiguousarray(gray), scaleFactor=1.2, minNeighbors=5, minSize=(side, side)
        )
        if len(boxes) == 0:
            return 0, None
        return len(boxes), max(float(b[3]) for b in boxes) / h
