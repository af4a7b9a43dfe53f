"""PP-OCR text detection and recognition on ONNX Runtime, with the models the rapidocr wheel ships.

Why not RapidOCR's own pipeline: importing `rapidocr.RapidOCR` costs ~1.3 CPU-s in a fresh
process (it parses its YAML configs with OmegaConf and imports requests and shapely), nearly
all of it holding the GIL, so in `analyze` it stalled the decode loop running beside it. What
reading captions needs is two ONNX sessions, a resize, the DB post-processing of the detector
and a CTC decode: the steps below follow rapidocr 3.x (`ch_ppocr_det`, `ch_ppocr_rec`,
Apache-2.0) with its default parameters, and a test compares the readings with RapidOCR's on
the same frames. The rapidocr wheel stays a dependency: it carries the model files.

Differences, both immaterial for upright captions: no angle classifier (RapidOCR's is off here
too), and the detector's "unclip" (growing each box by area x 1.6 / perimeter) is done on the
rotated rectangle directly instead of through a polygon-offset library: the minimal rectangle
around a round-joined offset of a rectangle is that rectangle grown by the distance.
"""

from __future__ import annotations

import importlib.util
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from reels_scripter.analysis.errors import AnalysisError

DET_MODEL = "PP-OCRv6_det_small.onnx"
REC_MODEL = "PP-OCRv6_rec_small.onnx"
# rapidocr's defaults (config.yaml, Det and Rec sections)
DET_THRESHOLD = 0.3  # pixel probability that counts as text
DET_BOX_THRESHOLD = 0.5  # mean probability inside a box to keep it
DET_UNCLIP_RATIO = 1.6
DET_MAX_CANDIDATES = 1000
DET_MIN_SIDE = 3
REC_HEIGHT = 48
REC_MIN_WIDTH = 320
REC_BATCH = 6

Image = npt.NDArray[np.uint8]
Quad = npt.NDArray[np.float32]  # 4 x 2: top-left, top-right, bottom-right, bottom-left


class OcrModelError(AnalysisError, code="ocr_unavailable", http_status=500):
    """The OCR models could not be found or loaded (the rapidocr wheel is missing or broken)."""


@dataclass(frozen=True)
class Reading:
    quad: Quad  # in the input image's pixels
    text: str
    score: float  # mean probability of the characters read


def model_dir() -> Path:
    """The folder with the ONNX models inside the installed rapidocr package (found without
    importing it)."""
    spec = importlib.util.find_spec("rapidocr")
    if spec is None or not spec.submodule_search_locations:
        raise OcrModelError("The rapidocr package (which carries the OCR models) is not installed.")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def _session(path: Path, threads: int) -> Any:
    import onnxruntime as ort

    if not path.is_file():
        raise OcrModelError(f"OCR model {path.name} is missing from {path.parent}.")
    options = ort.SessionOptions()
    options.log_severity_level = 4
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.enable_cpu_mem_arena = False
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Idle worker threads would spin waiting for work: CPU the other stages need.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _ordered(points: npt.NDArray[np.float32]) -> Quad:
    """Corners as top-left, top-right, bottom-right, bottom-left."""
    by_x = points[np.argsort(points[:, 0], kind="stable")]
    left = by_x[:2][np.argsort(by_x[:2, 1], kind="stable")]
    right = by_x[2:][np.argsort(by_x[2:, 1], kind="stable")]
    return np.array([left[0], right[0], right[1], left[1]], dtype=np.float32)


def _box_score(prob: npt.NDArray[np.float32], points: npt.NDArray[np.float32]) -> float:
    """Mean text probability inside the polygon (rapidocr's `box_score_fast`)."""
    h, w = prob.shape
    x0 = int(np.clip(np.floor(points[:, 0].min()), 0, w - 1))
    x1 = int(np.clip(np.ceil(points[:, 0].max()), 0, w - 1))
    y0 = int(np.clip(np.floor(points[:, 1].min()), 0, h - 1))
    y1 = int(np.clip(np.ceil(points[:, 1].max()), 0, h - 1))
    mask = np.zeros((y1 - y0 + 1, x1 - x0 + 1), dtype=np.uint8)
    shifted = (points - np.array([x0, y0], dtype=np.float32)).astype(np.int32)
    cv2.fillPoly(mask, [shifted.reshape(-1, 1, 2)], 1)
    return float(cv2.mean(prob[y0 : y1 + 1, x0 : x1 + 1], mask)[0])


def _crop(image: Image, quad: Quad) -> Image:
    """The quad straightened into an upright strip (rapidocr's `get_rotate_crop_image`)."""
    width = int(max(np.linalg.norm(quad[0] - quad[1]), np.linalg.norm(quad[2] - quad[3])))
    height = int(max(np.linalg.norm(quad[0] - quad[3]), np.linalg.norm(quad[1] - quad[2])))
    target = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(quad, target)
    strip = np.asarray(
        cv2.warpPerspective(
            image,
            matrix,
            (width, height),
            borderMode=cv2.BORDER_REPLICATE,
            flags=cv2.INTER_CUBIC,
        ),
        dtype=np.uint8,
    )
    if height >= 1.5 * width:
        strip = np.ascontiguousarray(np.rot90(strip))
    return strip


class PpOcr:
    """Detect text lines, then read them. One ONNX thread each by default."""

    def __init__(self, det_max_side: int = 480, threads: int = 1) -> None:
        folder = model_dir()
        self.det_max_side = det_max_side
        self._det = _session(folder / DET_MODEL, threads)
        self._rec = _session(folder / REC_MODEL, threads)
        meta = self._rec.get_modelmeta().custom_metadata_map
        if "character" not in meta:
            raise OcrModelError(f"{REC_MODEL} carries no character list.")
        # index 0 is CTC's blank; the model's last class is a space
        self._chars = ["", *str(meta["character"]).splitlines(), " "]

    def __call__(self, image: Image) -> list[Reading]:
        """Text lines of a BGR image, each with its quad, text and score (unfiltered)."""
        if image.ndim != 3 or min(image.shape[:2]) < 8:
            return []
        quads = self.detect(image)
        if not quads:
            return []
        texts = self.recognize([_crop(image, q) for q in quads])
        return [Reading(q, text, score) for q, (text, score) in zip(quads, texts, strict=True)]

    def detect(self, image: Image) -> list[Quad]:
        h, w = image.shape[:2]
        ratio = min(1.0, self.det_max_side / max(h, w))
        rh = max(32, round(int(h * ratio) / 32) * 32)
        rw = max(32, round(int(w * ratio) / 32) * 32)
        resized = cv2.resize(image, (rw, rh))
        x = ((resized.astype(np.float32) / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)[None]
        prob = np.asarray(self._det.run(None, {"x": x})[0][0, 0], dtype=np.float32)
        mask = cv2.dilate((prob > DET_THRESHOLD).astype(np.uint8), np.ones((2, 2), np.uint8))
        contours, _ = cv2.findContours(mask * 255, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
        scale = np.array([w / rw, h / rh], dtype=np.float32)
        quads: list[Quad] = []
        for contour in contours[:DET_MAX_CANDIDATES]:
            (cx, cy), (bw, bh), angle = cv2.minAreaRect(contour)
            if min(bw, bh) < DET_MIN_SIDE:
                continue
            points = np.asarray(cv2.boxPoints(((cx, cy), (bw, bh), angle)), dtype=np.float32)
            if _box_score(prob, points) < DET_BOX_THRESHOLD:
                continue
            grow = bw * bh * DET_UNCLIP_RATIO / (2 * (bw + bh))
            if min(bw, bh) + 2 * grow < DET_MIN_SIDE + 2:
                continue
            corners = cv2.boxPoints(((cx, cy), (bw + 2 * grow, bh + 2 * grow), angle))
            quad = _ordered(np.round(corners * scale).astype(np.float32))
            quad[:, 0] = np.clip(quad[:, 0], 0, w - 1)
            quad[:, 1] = np.clip(quad[:, 1], 0, h - 1)
            if (
                int(np.linalg.norm(quad[0] - quad[1])) <= 3
                or int(np.linalg.norm(quad[0] - quad[3])) <= 3
            ):
                continue
            quads.append(quad)
        return quads

    def recognize(self, strips: list[Image]) -> list[tuple[str, float]]:
        """(text, score) per strip, batched by width as rapidocr does."""
        ratios = [s.shape[1] / s.shape[0] for s in strips]
        order = np.argsort(ratios, kind="stable")
        out: list[tuple[str, float]] = [("", 0.0)] * len(strips)
        for begin in range(0, len(strips), REC_BATCH):
            batch = [int(i) for i in order[begin : begin + REC_BATCH]]
            max_ratio = max([REC_MIN_WIDTH / REC_HEIGHT] + [ratios[i] for i in batch])
            width = int(REC_HEIGHT * max_ratio)
            x = np.zeros((len(batch), 3, REC_HEIGHT, width), dtype=np.float32)
            for row, i in enumerate(batch):
                strip_width = min(width, math.ceil(REC_HEIGHT * ratios[i]))
                resized = cv2.resize(strips[i], (strip_width, REC_HEIGHT)).astype(np.float32)
                x[row, :, :, :strip_width] = (resized.transpose(2, 0, 1) / 255 - 0.5) / 0.5
            probs = np.asarray(self._rec.run(None, {"x": x})[0])
            for row, i in enumerate(batch):
                out[i] = self._ctc(probs[row])
        return out

    def _ctc(self, probs: npt.NDArray[Any]) -> tuple[str, float]:
        index = probs.argmax(axis=1)
        best = probs.max(axis=1)
        keep = np.ones(len(index), dtype=bool)
        keep[1:] = index[1:] != index[:-1]
        keep &= index != 0
        if not keep.any():
            return "", 0.0
        text = "".join(self._chars[i] for i in index[keep] if i < len(self._chars))
        return text, round(float(best[keep].mean()), 5)
