"""Dominant colours of a shot, named by basic colour terms, from a few tiny frames.

k-means (k=5) in CIELAB over the pixels of up to a few 32-px-wide frames (~0.5 ms); clusters
that get the same name are merged, and the names covering at least 10% of the picture are
reported, largest first. Names are English basic colour terms as a viewer would say them; the
person-facing words for them live in texts.py (the engine returns codes, not wording).
"""

from __future__ import annotations

import colorsys
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

TINY_WIDTH = 32
CLUSTERS = 5
MIN_SHARE = 0.1

# The basic colour terms used here (texts.colour_label words them for a person).
NAMES = (
    "black",
    "white",
    "grey",
    "red",
    "orange",
    "yellow",
    "green",
    "light blue",
    "blue",
    "purple",
    "pink",
    "brown",
    "beige",
)


@dataclass(frozen=True)
class Colour:
    name: str  # English basic colour term, one of NAMES
    share: float  # of the picture, 0..1
    rgb: str  # the cluster's mean colour, "#rrggbb"


def colour_name(r: float, g: float, b: float) -> str:
    """Basic colour term for an sRGB colour (components 0..255)."""
    h, s, v = colorsys.rgb_to_hsv(r / 255.0, g / 255.0, b / 255.0)
    hue = h * 360.0
    if v < 0.18:
        return "black"
    if s < 0.15 or (s < 0.25 and v < 0.35):
        if v > 0.85:
            return "white"
        return "grey" if v > 0.3 else "black"
    if 15 <= hue < 50 and s < 0.4 and v > 0.7:
        return "beige"
    if (hue < 45 or hue >= 345) and v < 0.55:
        return "brown"
    if hue < 15 or hue >= 345:
        return "pink" if s < 0.5 and v > 0.75 else "red"
    if hue < 40:
        return "orange"
    if hue < 70:
        return "yellow" if v >= 0.5 else "brown"
    if hue < 165:
        return "green"
    if hue < 200:
        return "light blue"
    if hue < 255:
        return "blue"
    if hue < 295:
        return "purple"
    return "pink"


def tiny(frame: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """A 32-px-wide copy of a BGR frame: enough pixels for colour statistics."""
    h, w = frame.shape[:2]
    size = (TINY_WIDTH, max(1, round(TINY_WIDTH * h / w)))
    return np.asarray(cv2.resize(frame, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


def dominant_colours(frames: Sequence[npt.NDArray[np.uint8]]) -> list[Colour]:
    """Named dominant colours of BGR frames (any size; each is reduced to 32 px wide)."""
    if not frames:
        return []
    pixels = np.concatenate([tiny(f).reshape(-1, 3) for f in frames]).astype(np.uint8)
    lab = cv2.cvtColor(pixels.reshape(-1, 1, 3), cv2.COLOR_BGR2LAB).reshape(-1, 3)
    # Distinct colours counted on sorted 24-bit ints: `np.unique` imports `numpy.ma` on first
    # use, an import that holds the GIL the decode loop running beside it needs.
    packed = np.sort(
        (pixels[:, 0].astype(np.int32) << 16) | (pixels[:, 1].astype(np.int32) << 8) | pixels[:, 2]
    )
    k = min(CLUSTERS, 1 + int(np.count_nonzero(np.diff(packed))))
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 1.0)
    cv2.setRNGSeed(0)  # the same picture gets the same answer
    data = lab.astype(np.float32)
    best = np.zeros((len(data), 1), np.int32)  # an output buffer (the stubs refuse None)
    _, labels, _ = cv2.kmeans(data, k, best, criteria, 2, cv2.KMEANS_PP_CENTERS)
    labels = labels.reshape(-1)
    merged: dict[str, list[int]] = {}
    for cluster in range(k):
        members = labels == cluster
        if not members.any():
            continue
        b, g, r = pixels[members].mean(axis=0)
        merged.setdefault(colour_name(r, g, b), []).append(cluster)
    out = []
    for name, clusters in merged.items():
        members = np.isin(labels, clusters)
        share = float(members.mean())
        if share < MIN_SHARE:
            continue
        b, g, r = (round(float(c)) for c in pixels[members].mean(axis=0))
        out.append(Colour(name, round(share, 3), f"#{r:02x}{g:02x}{b:02x}"))
    return sorted(out, key=lambda c: -c.share)
