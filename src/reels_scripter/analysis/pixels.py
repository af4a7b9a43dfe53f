"""Pixel helpers on decoded frames: tiny features read in place, scaled upright copies, JPEGs.

The full-resolution frames never become numpy images. For every frame only a strided view of
the decoder's own Y/U/V planes is taken (~64 samples across, a fraction of a millisecond);
that tiny feature drives the cut detector, brightness and motion. Only the few frames that
need it are scaled (swscale) to a small upright copy: keyframes, face and text samples.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from reels_scripter.analysis.scenes import Feature, Histogram, histogram

# Samples across the width of the tiny feature frame.
FEATURE_WIDTH = 64
SHARPNESS_WIDTH = 270
JPEG_QUALITY = 85
_FULL_RANGE = 2  # AVCOL_RANGE_JPEG


def plane_view(plane: Any, dtype: type[np.generic]) -> npt.NDArray[Any]:
    """A (height, width) view of one of the decoder's planes, rows `line_size` bytes apart."""
    itemsize = np.dtype(dtype).itemsize
    rows = np.frombuffer(plane, dtype, count=plane.line_size // itemsize * plane.height)
    return rows.reshape(plane.height, -1)[:, : plane.width]


def planes_in_place(
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
        grid = plane_view(plane, dtype)[::s, ::s]
        out.append(grid if bits == 8 else (grid >> (bits - 8)).astype(np.uint8))
    return tuple(out)


def feature_of(frame: Any) -> tuple[Feature, Histogram, float]:
    """(tiny Y+U+V samples, their histograms, mean luma 0..1) of a decoded frame, read in
    place from the decoder's planes: no full-size copy or conversion."""
    planes = planes_in_place(frame)
    if planes is None:  # packed RGB, NV12 and the like: let swscale make a tiny yuv420p
        h = max(2, round(FEATURE_WIDTH * frame.height / max(1, frame.width)) // 2 * 2)
        small = frame.reformat(width=FEATURE_WIDTH, height=h, format="yuv420p")
        planes = tuple(plane_view(p, np.uint8) for p in small.planes[:3])
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


def scaled(frame: Any, display_width: int, fmt: str) -> npt.NDArray[np.uint8]:
    """The frame scaled so that its *displayed* (rotated) width is `display_width`, upright."""
    rotation = frame.rotation or 0
    sideways = round(rotation / 90) % 2 == 1
    disp_w, disp_h = (frame.height, frame.width) if sideways else (frame.width, frame.height)
    w = min(display_width, disp_w)
    h = max(2, round(w * disp_h / disp_w / 2) * 2)
    cw, ch = (h, w) if sideways else (w, h)
    image = frame.reformat(width=cw, height=ch, format=fmt, interpolation="AREA").to_ndarray()
    return upright(image, rotation)


def jpeg_of(bgr: npt.NDArray[np.uint8]) -> bytes | None:
    ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    return bytes(buf) if ok else None


def gray_at(bgr: npt.NDArray[np.uint8], width: int) -> npt.NDArray[np.uint8]:
    """A gray copy of a small BGR image, at most `width` wide."""
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    h, w = gray.shape
    if w > width:
        # an even height, as `scaled` makes (the face cascade is sensitive to a pixel)
        size = (width, max(2, round(width * h / w / 2) * 2))
        gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    return np.asarray(gray, dtype=np.uint8)


def sharpness(frame: Any) -> float:
    """Variance of a Laplacian over a ~270-wide luma grid: low for motion blur and defocus."""
    planes = planes_in_place(frame, width=SHARPNESS_WIDTH)
    if planes is None:
        return 0.0
    y = planes[0].astype(np.float32)
    if y.shape[0] < 3 or y.shape[1] < 3:
        return 0.0
    lap = 4 * y[1:-1, 1:-1] - y[:-2, 1:-1] - y[2:, 1:-1] - y[1:-1, :-2] - y[1:-1, 2:]
    return float(lap.var())
