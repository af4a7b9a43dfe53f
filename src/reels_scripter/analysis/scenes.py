"""Hard-cut detection on tiny frames: pure numpy, causal, so it runs while the video decodes.

Each decoded frame is reduced (elsewhere) to a small stack of Y, U and V samples. Two scores
compare it with the previous decoded frame, both in 0..1:
- pixel: the mean absolute difference of the samples. It sees a cut between two shots of the
  same colours (two angles on one speaker) but also rises with camera and subject motion;
- histogram: the distance between the Y/U/V histograms. Motion hardly moves it (the same
  things are still in the picture), a change of scene does.
A cut is a frame where either score is large in absolute terms *and* large against the recent
scores of the same shot: a fast pan scores high on every frame, a cut on one frame only. The
pixel score must always pass its floor, so a change of light alone is not a cut, and a cut by
pixels must change a good part of the picture: an object jumping across a still shot (a
graphic popping in) changes a strip of it, a cut nearly all of it.

The detector is causal (it only looks back) so that the video stage can close a scene, choose
its keyframe and release the frames it kept the moment the next shot starts. Times are the
frames' presentation times, never frame indices, so variable frame rate and skipped frames
(decoding reference frames only) do not shift the cuts.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

Feature = npt.NDArray[np.uint8]
Histogram = npt.NDArray[np.float64]

# Bins per plane: coarse enough that noise and small shifts stay in the same bin.
LUMA_BINS = 32
CHROMA_BINS = 16


def histogram(y: Feature, u: Feature, v: Feature) -> Histogram:
    """Concatenated, per-plane normalised histograms of a frame's tiny Y, U and V planes."""
    parts = []
    for plane, bins in ((y, LUMA_BINS), (u, CHROMA_BINS), (v, CHROMA_BINS)):
        counts = np.bincount((plane.ravel() // (256 // bins)).astype(np.intp), minlength=bins)
        parts.append(counts / max(1, plane.size))
    return np.concatenate(parts)


def histogram_distance(a: Histogram, b: Histogram) -> float:
    """Half the L1 distance averaged over the three planes: 0 same, 1 disjoint."""
    return float(np.abs(a - b).sum()) / 6.0


# A sample "changed" when it moved by more than this (of 255); see `CutDetector`.
CHANGED_LEVEL = 16


def frame_difference(a: Feature, b: Feature) -> tuple[float, float]:
    """(mean absolute difference in 0..1, share of samples that changed) of two features."""
    diff = np.abs(a.astype(np.int16) - b.astype(np.int16))
    return float(diff.mean()) / 255.0, float(np.count_nonzero(diff > CHANGED_LEVEL)) / diff.size


@dataclass(kw_only=True, eq=False)
class CutDetector:
    """Online hard-cut detector. Feed frames in presentation order with `push`.

    Parameters are in seconds and in score units (mean absolute difference, 0..1):
    - floor: a pixel score below this is never a cut (noise, compression, slow changes);
    - hist_floor: the histogram score a cut needs when the pixel score alone does not do;
    - changed: the share of samples a cut by pixels must change;
    - ratio: a cut must score `ratio` times the mean of the shot's recent scores;
    - window: how far back "recent" reaches;
    - min_scene: a cut closer than this to the previous cut is ignored (flashes, strobes).
    """

    floor: float = 0.04
    hist_floor: float = 0.3
    changed: float = 0.4
    ratio: float = 3.0
    window: float = 1.0
    min_scene: float = 0.3
    cuts: list[float] = field(default_factory=list, init=False)
    last_score: float = field(default=0.0, init=False)
    _prev: tuple[Feature, Histogram] | None = field(default=None, init=False, repr=False)
    _recent: deque[tuple[float, float, float]] = field(
        default_factory=deque, init=False, repr=False
    )
    _last_cut: float = field(default=0.0, init=False, repr=False)

    def push(self, t: float, feature: Feature, hist: Histogram) -> bool:
        """Add the frame shown at `t`; True when a new shot starts with this frame."""
        prev, self._prev = self._prev, (feature, hist)
        if prev is None or prev[0].shape != feature.shape:
            self.last_score = 0.0
            return False
        score, changed = frame_difference(prev[0], feature)
        hscore = histogram_distance(prev[1], hist)
        self.last_score = score
        while self._recent and self._recent[0][0] < t - self.window:
            self._recent.popleft()
        n = len(self._recent)
        base = sum(r[1] for r in self._recent) / n if n else 0.0
        hbase = sum(r[2] for r in self._recent) / n if n else 0.0
        by_pixels = score >= self.ratio * base and changed >= self.changed
        by_histogram = hscore >= self.hist_floor and hscore >= self.ratio * hbase
        is_cut = (
            score >= self.floor
            and (by_pixels or by_histogram)
            and t - self._last_cut >= self.min_scene
        )
        if is_cut:
            self._last_cut = t
            self.cuts.append(t)
            # The new shot's motion is judged against its own frames, not the old shot's.
            self._recent.clear()
        else:
            self._recent.append((t, score, hscore))
        return is_cut
