"""How the camera moves within a shot, from the global motion between small gray frames.

Between two sampled frames (~160 px wide, ~0.2 s apart) corners are tracked with pyramidal
Lucas-Kanade optical flow and a similarity transform (shift, scale, rotation) is fitted with
RANSAC: that is the camera's motion; what the transform does not explain is the subject's. A
frame too flat for corners falls back to phase correlation (shift only). Two guards keep a
moving object from passing for the camera: the corners that agree must spread over the frame,
and the fitted motion must explain the picture better than no motion. ~2.5 ms a pair on the
bench reel's noise texture (the worst case: every corner is strong), one OpenCV thread.

A shot is then classified from the per-second velocities:
- static: the picture hardly moves (a tripod, a phone on a stand);
- pan / tilt: a steady sideways / vertical drift in one direction;
- zoom: a steady change of scale (a zoom or a walk towards the subject);
- handheld: the picture moves, but back and forth with no steady direction.
Directions are the camera's (panning right moves the picture left).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np
import numpy.typing as npt

CameraMove = Literal["static", "pan", "tilt", "zoom", "handheld"]
Direction = Literal["left", "right", "up", "down", "in", "out"]
Gray = npt.NDArray[np.uint8]

MIN_CORNERS = 12
# Lucas-Kanade's search window at each pyramid level. 11x11 instead of OpenCV's usual 15x15:
# half the area, so 2.0 -> 0.9 ms a pair on the bench reel's frames (the flow is most of a
# step's cost), and the same figures to the fourth decimal for pans and tilts of 3% to 100% of
# the frame a second, zooms in and handheld shake (three pyramid levels still follow a 160-px
# picture moving 30 px between samples). Only a synthetic zoom out that runs past its crop read
# otherwise (0.61 instead of 0.50 log-scale a second), still a zoom out.
LK_WINDOW = (11, 11)
# Agreeing corners must span this share of the frame's width and height to be the camera.
MIN_SPREAD = 0.4
# Phase correlation is trusted only when this share of 8x8 blocks has a std above TEXTURE_STD.
TEXTURED_SHARE = 0.5
TEXTURE_STD = 3.0
_IDENTITY = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
# Per-second thresholds, in frame widths (heights) for shifts and in log-scale for zoom.
STATIC_SPEED = 0.02  # below this the camera is standing still (sensor noise, tiny sway)
STEADY_SHARE = 0.6  # a pan/tilt/zoom: the steady drift is this share of all the movement
ZOOM_RATE = 0.04
# A pixel "moved" when the motion-compensated difference exceeds this (of 255).
SUBJECT_LEVEL = 20
# A step where more than this share of pixels moves on its own is left out of the camera's
# figures (see `classify`).
UNEXPLAINED = 0.3


@dataclass(frozen=True)
class Step:
    """Global motion from one sampled frame to the next, per second of video."""

    dt: float
    vx: float  # picture shift, frame widths per second (+: content moves right)
    vy: float  # frame heights per second (+: content moves down)
    zoom: float  # log scale per second (+: content grows, the camera zooms in)
    subject: float  # share of pixels that changed beyond the camera's motion (0..1)
    changed: float  # share of pixels that changed at all between the two frames (0..1)


def _similarity(prev: Gray, cur: Gray) -> tuple[npt.NDArray[np.float64] | None, int]:
    corners = cv2.goodFeaturesToTrack(prev, maxCorners=150, qualityLevel=0.005, minDistance=5)
    if corners is None or len(corners) < MIN_CORNERS:
        return None, 0
    moved, status, _ = cv2.calcOpticalFlowPyrLK(
        prev, cur, corners, np.empty_like(corners), winSize=LK_WINDOW
    )
    ok = status.reshape(-1) == 1
    if int(ok.sum()) < MIN_CORNERS:
        return None, 0
    matrix, inliers = cv2.estimateAffinePartial2D(
        corners[ok], moved[ok], method=cv2.RANSAC, ransacReprojThreshold=1.5
    )
    if matrix is None or inliers is None or int(inliers.sum()) < MIN_CORNERS // 2:
        return None, 0
    # The camera moves the whole picture: points agreeing on a motion must be spread over
    # the frame. A moving object on a flat background is the subject, not the camera.
    points = corners[ok].reshape(-1, 2)[inliers.reshape(-1) == 1]
    h, w = prev.shape
    spread_x = float(np.ptp(points[:, 0])) / w
    spread_y = float(np.ptp(points[:, 1])) / h
    if spread_x < MIN_SPREAD or spread_y < MIN_SPREAD:
        return _IDENTITY.copy(), 0
    return np.asarray(matrix, dtype=np.float64), int(inliers.sum())


def _textured(gray: Gray) -> bool:
    """True when most 8x8 blocks of the picture have some detail (not a flat backdrop)."""
    h, w = gray.shape[0] // 8 * 8, gray.shape[1] // 8 * 8
    blocks = gray[:h, :w].reshape(h // 8, 8, w // 8, 8).astype(np.float32)
    return bool(float((blocks.std(axis=(1, 3)) > TEXTURE_STD).mean()) >= TEXTURED_SHARE)


def _phase_shift(prev: Gray, cur: Gray) -> npt.NDArray[np.float64]:
    a, b = prev.astype(np.float32), cur.astype(np.float32)
    window = cv2.createHanningWindow((a.shape[1], a.shape[0]), cv2.CV_32F)
    (dx, dy), _ = cv2.phaseCorrelate(a, b, window)
    return np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]])


def _centre_shift(matrix: npt.NDArray[np.float64], w: int, h: int) -> tuple[float, float]:
    """How far the frame centre moves: a zoom about the centre is not read as a shift."""
    cx, cy = w / 2.0, h / 2.0
    x = matrix[0, 0] * cx + matrix[0, 1] * cy + matrix[0, 2] - cx
    y = matrix[1, 0] * cx + matrix[1, 1] * cy + matrix[1, 2] - cy
    return float(x), float(y)


def _residual(prev: Gray, cur: Gray, matrix: npt.NDArray[np.float64]) -> npt.NDArray[np.int16]:
    """|cur - prev moved by matrix|, without the border where the warp invents pixels."""
    h, w = prev.shape
    shift_x, shift_y = _centre_shift(matrix, w, h)
    warped = cv2.warpAffine(prev, matrix, (w, h), borderMode=cv2.BORDER_REPLICATE)
    scale = math.hypot(matrix[0, 0], matrix[1, 0])
    grow = abs(scale - 1.0) * max(w, h) / 2.0
    mx, my = int(abs(shift_x) + grow) + 2, int(abs(shift_y) + grow) + 2
    core = (slice(my, max(my + 1, h - my)), slice(mx, max(mx + 1, w - mx)))
    return np.abs(warped[core].astype(np.int16) - cur[core].astype(np.int16))


def measure_step(prev: Gray, cur: Gray, dt: float) -> Step:
    """The camera's and the subject's motion between two gray frames of the same size."""
    h, w = prev.shape
    matrix, _ = _similarity(prev, cur)
    if matrix is None:
        # Too few corners. Over a textured picture (blur, sky, water) a shift can still be
        # measured; over a mostly flat one whatever moves is an object, not the camera.
        matrix = _phase_shift(prev, cur) if _textured(prev) else _IDENTITY.copy()
    raw = np.abs(prev.astype(np.int16) - cur.astype(np.int16))
    residual = _residual(prev, cur, matrix)
    # A fitted motion that explains the picture worse than no motion at all followed an
    # object (phase correlation locks onto the strongest edges), not the camera.
    if float(residual.mean()) >= float(raw.mean()):
        matrix, residual = _IDENTITY.copy(), raw
    scale = math.hypot(matrix[0, 0], matrix[1, 0])
    shift_x, shift_y = _centre_shift(matrix, w, h)
    dt = max(dt, 1e-3)
    return Step(
        dt=dt,
        vx=shift_x / w / dt,
        vy=shift_y / h / dt,
        zoom=math.log(max(scale, 1e-3)) / dt,
        subject=float(np.count_nonzero(residual > SUBJECT_LEVEL)) / max(1, residual.size),
        changed=float(np.count_nonzero(raw > SUBJECT_LEVEL)) / max(1, raw.size),
    )


@dataclass(frozen=True)
class CameraMotion:
    move: CameraMove
    direction: Direction | None  # the camera's, for pan / tilt / zoom
    speed: float  # mean picture speed: frame sizes per second (zoom: log-scale per second)
    shake: float  # mean speed of the back-and-forth part, frame sizes per second
    subject_motion: float  # mean share of pixels moving on their own (0..1)
    changed: float  # mean share of pixels that changed between samples (0..1)


def classify(steps: list[Step]) -> CameraMotion:
    """The camera move of a shot from its steps (time-weighted means over the shot)."""
    if not steps:
        return CameraMotion("static", None, 0.0, 0.0, 0.0, 0.0)
    subject = float(np.average([s.subject for s in steps], weights=[s.dt for s in steps]))
    changed = float(np.average([s.changed for s in steps], weights=[s.dt for s in steps]))
    # A pair the fitted motion explains badly (a cut or flash the shot boundaries missed by a
    # frame, a whip pan) says nothing reliable about the camera.
    steps = [s for s in steps if s.subject <= UNEXPLAINED] or steps
    dt = np.array([s.dt for s in steps])
    weights = dt / dt.sum()
    vx = np.array([s.vx for s in steps])
    vy = np.array([s.vy for s in steps])
    zoom = np.array([s.zoom for s in steps])
    speed = np.hypot(vx, vy)
    mean_vx, mean_vy = float(weights @ vx), float(weights @ vy)
    mean_zoom = float(weights @ zoom)
    drift = math.hypot(mean_vx, mean_vy)
    total = float(weights @ speed)
    shake = float(weights @ np.hypot(vx - mean_vx, vy - mean_vy))

    def result(move: CameraMove, direction: Direction | None, figure: float) -> CameraMotion:
        return CameraMotion(
            move, direction, round(figure, 4), round(shake, 4), round(subject, 4), round(changed, 4)
        )

    zoom_total = float(weights @ np.abs(zoom))
    steady_zoom = abs(mean_zoom) >= ZOOM_RATE and abs(mean_zoom) >= STEADY_SHARE * zoom_total
    if steady_zoom and abs(mean_zoom) >= drift:
        return result("zoom", "in" if mean_zoom > 0 else "out", abs(mean_zoom))
    if total < STATIC_SPEED:
        return result("static", None, total)
    if drift >= STATIC_SPEED and drift >= STEADY_SHARE * total:
        if abs(mean_vx) >= abs(mean_vy):  # the picture moves left when the camera pans right
            return result("pan", "right" if mean_vx < 0 else "left", drift)
        return result("tilt", "down" if mean_vy < 0 else "up", drift)
    if shake >= STATIC_SPEED:
        return result("handheld", None, total)
    return result("static", None, total)
