"""Text on screen (captions, titles) read with PP-OCR, only where and when it is worth it.

RapidOCR's default settings cost ~0.95 CPU-s per frame whatever its size (the detector scales
the *shorter* side up to 736 px). Three things make reading a whole reel cheap:
1. a text-presence test on a 180-px-wide gray copy (~0.8 ms): text lines are runs of dense,
   high-contrast strokes, found by a morphological gradient, a horizontal closing and a shape
   check of the blobs. OCR runs only on frames where it finds a line;
2. the same caption is read once: while the lines found stay in place with the same strokes
   (compared on the 180-px edge map, so video moving under a fixed caption does not matter),
   the previous reading is reused;
3. OCR runs on a 360-px-wide copy with the detector capped at 480 px on its longer side:
   ~0.13 CPU-s a frame (measured on a 360x640 frame, one thread), reading large captions as
   well as a 540-px frame does.

Sampling: densely (every 0.25 s) in the hook window, where the caption that keeps a viewer is;
after it every `interval_after` seconds (None: only frames the caller marks as keyframes).

Known limit: the models inside the rapidocr wheel read Latin scripts (English and ~45 other
languages written in Latin letters), Chinese and Japanese; **not Cyrillic**. A Russian caption is
found (the presence test is script-blind) but read as nonsense or not at all; the reading's
confidence filter drops most of it. The Cyrillic model is a separate download.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import cv2
import numpy as np
import numpy.typing as npt

from reels_scripter.analysis.models import OnscreenText, shown_in
from reels_scripter.analysis.per_process import PerProcess
from reels_scripter.analysis.ppocr import PpOcr

if TYPE_CHECKING:
    from reels_scripter.analysis.decode import Frame

PRESENCE_WIDTH = 180
OCR_WIDTH = 360
DET_MAX_SIDE = 480
MIN_SCORE = 0.6
# A stroke edge: the 3x3 gradient of a caption's letter against its outline or box is large.
# 140 (of 255), not lower: at 80 a busy photo-like texture passed for text lines and broke a
# caption drawn over it into pieces (the bench reel: 3 false captions, "WAIT FOR IT" missed);
# at 140 both captions are found and the texture is not.
EDGE_LEVEL = 140
# Text line shape on the presence grid (fractions of the frame height / width).
LINE_MIN_H, LINE_MAX_H = 0.015, 0.2
LINE_MIN_W = 0.1
LINE_MIN_DENSITY = 0.2  # share of edge pixels in the line's box
LINE_MIN_FILL = 0.45  # share of the box the closed blob fills
# Same caption: the rows the lines occupy overlap this much and no character-sized window of
# the stroke edges changed more than this share of its pixels (see `same_caption`).
SAME_ROWS = 0.6
SAME_MAX_LOCAL_CHANGE = 0.24

Image = npt.NDArray[np.uint8]
Box = tuple[int, int, int, int]  # x, y, w, h on the presence grid


def _gray(frame: Image) -> Image:
    if frame.ndim == 2:
        return frame
    return np.asarray(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), dtype=np.uint8)


def _resize_width(image: Image, width: int) -> Image:
    h, w = image.shape[:2]
    if w == width:
        return image
    height = max(2, round(width * h / w))
    interp = cv2.INTER_AREA if width < w else cv2.INTER_LINEAR
    return np.asarray(cv2.resize(image, (width, height), interpolation=interp), dtype=np.uint8)


@dataclass
class TextPresence:
    lines: list[Box]  # on the 180-px presence grid
    # Stroke edges at the OCR width (360 px), computed only when lines were found: comparing
    # two captions needs that detail (at 180 px "3 TRICKS" and "4 TRICKS" look the same).
    fine_edges: Image | None = None

    @property
    def found(self) -> bool:
        return bool(self.lines)

    def union(self) -> Box | None:
        if not self.lines:
            return None
        x0 = min(b[0] for b in self.lines)
        y0 = min(b[1] for b in self.lines)
        x1 = max(b[0] + b[2] for b in self.lines)
        y1 = max(b[1] + b[3] for b in self.lines)
        return x0, y0, x1 - x0, y1 - y0


def _stroke_edges(gray: Image) -> Image:
    gradient = cv2.morphologyEx(gray, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    return (gradient >= EDGE_LEVEL).astype(np.uint8)


def text_presence(frame: Image, fine_width: int = OCR_WIDTH) -> TextPresence:
    """Likely text lines in a BGR or gray frame of any size (tested at 180 px wide)."""
    full = _gray(frame)
    gray = _resize_width(full, PRESENCE_WIDTH)
    h, w = gray.shape
    edges = _stroke_edges(gray)
    # Join the letters and words of a line (gaps up to ~8% of the width) into one blob.
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (max(3, w // 12), 1))
    closed = cv2.morphologyEx(edges, cv2.MORPH_CLOSE, kernel)
    count, _, stats, _ = cv2.connectedComponentsWithStats(closed, connectivity=8)
    lines: list[Box] = []
    for i in range(1, count):
        x, y, bw, bh, area = (int(v) for v in stats[i])
        if not (LINE_MIN_H * h <= bh <= LINE_MAX_H * h and bw >= 2 * bh and bw >= LINE_MIN_W * w):
            continue
        density = float(edges[y : y + bh, x : x + bw].mean())
        if density >= LINE_MIN_DENSITY and area / (bw * bh) >= LINE_MIN_FILL:
            lines.append((x, y, bw, bh))
    if not lines:
        return TextPresence([])
    return TextPresence(lines, _stroke_edges(_resize_width(full, fine_width)))


def _rows_overlap(a: Box, b: Box) -> float:
    """Intersection over union of the two boxes' row ranges."""
    top, bottom = max(a[1], b[1]), min(a[1] + a[3], b[1] + b[3])
    span = max(a[1] + a[3], b[1] + b[3]) - min(a[1], b[1])
    return max(0, bottom - top) / span if span else 0.0


def same_caption(a: TextPresence, b: TextPresence) -> bool:
    """True when both frames show the same lines in the same place, whatever the video under
    them does: the rows the lines occupy overlap, and nowhere in that band (full width: which
    words pass the line test varies from frame to frame) does a character-sized window of the
    fine stroke edges differ much. Measured on captions over moving video: the same caption
    differs by at most 0.17 in any window, one changed character ("3 TRICKS" / "4 TRICKS",
    "part two" / "part one") by 0.31 or more."""
    box_a, box_b = a.union(), b.union()
    if box_a is None or box_b is None or a.fine_edges is None or b.fine_edges is None:
        return False
    if a.fine_edges.shape != b.fine_edges.shape or _rows_overlap(box_a, box_b) < SAME_ROWS:
        return False
    scale = a.fine_edges.shape[1] / PRESENCE_WIDTH
    top = max(0, int((min(box_a[1], box_b[1]) - 2) * scale))
    bottom = int((max(box_a[1] + box_a[3], box_b[1] + box_b[3]) + 2) * scale)
    diff = np.abs(
        a.fine_edges[top:bottom].astype(np.float32) - b.fine_edges[top:bottom].astype(np.float32)
    )
    line_height = max(3, int(min(line[3] for line in a.lines + b.lines) * scale))
    window = (max(3, int(line_height * 0.6)), line_height)  # about one character
    local = cv2.boxFilter(diff, -1, window, normalize=True)
    return bool(float(local.max()) < SAME_MAX_LOCAL_CHANGE)


@dataclass(frozen=True)
class TextLine:
    text: str
    score: float
    box: tuple[float, float, float, float]  # x, y, w, h in the read image's pixels


class TextReader(Protocol):
    def read(self, image: Image) -> list[TextLine]: ...


class PpOcrReader(PerProcess):
    """PP-OCR (`ppocr.PpOcr`, the models of the rapidocr wheel) with one ONNX thread and the
    detector capped at 480 px. The sessions are built on first use (~0.2 CPU-s); `shared()`
    keeps one reader per process, so a worker pays that once."""

    def __init__(self, det_max_side: int = DET_MAX_SIDE, threads: int = 1) -> None:
        self._det_max_side = det_max_side
        self._threads = threads
        self._engine: PpOcr | None = None
        self._lock = threading.Lock()

    def _get(self) -> PpOcr:
        with self._lock:
            if self._engine is None:
                self._engine = PpOcr(self._det_max_side, self._threads)
            return self._engine

    def warm_up(self) -> None:
        """Build the sessions now (e.g. in a thread while the probe runs)."""
        self._get()

    def read(self, image: Image) -> list[TextLine]:
        bgr = image if image.ndim == 3 else cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
        lines = []
        for reading in self._get()(np.asarray(bgr, dtype=np.uint8)):
            text = reading.text.strip()
            if text and reading.score >= MIN_SCORE:
                xs, ys = reading.quad[:, 0], reading.quad[:, 1]
                box = (
                    float(xs.min()),
                    float(ys.min()),
                    float(xs.max() - xs.min()),
                    float(ys.max() - ys.min()),
                )
                lines.append(TextLine(text, reading.score, box))
        return lines


def reading_order(lines: list[TextLine]) -> str:
    """Lines joined top to bottom, left to right within a row (boxes whose vertical centres
    are within half a line height share a row)."""
    rows: list[list[TextLine]] = []
    for line in sorted(lines, key=lambda item: item.box[1] + item.box[3] / 2):
        centre = line.box[1] + line.box[3] / 2
        if rows:
            last = rows[-1][-1]
            if abs(centre - (last.box[1] + last.box[3] / 2)) <= max(line.box[3], last.box[3]) / 2:
                rows[-1].append(line)
                continue
        rows.append([line])
    return " ".join(
        " ".join(item.text for item in sorted(row, key=lambda i: i.box[0])) for row in rows
    )


def _key(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


@dataclass
class OcrStats:
    frames_offered: int = 0
    frames_with_text: int = 0
    ocr_runs: int = 0
    ocr_cpu_seconds: float = 0.0
    presence_cpu_seconds: float = 0.0
    # distinct captions the presence test kept finding (3+ samples) that OCR read as nothing
    unread_captions: int = 0


Text = str | Future[str]


def _resolved(text: Text) -> str:
    return text if isinstance(text, str) else text.result()


class _Caption:
    """One distinct caption: its reading (a Future while it runs in the executor) and how
    many samples showed it."""

    def __init__(self, text: Text) -> None:
        self.text = text
        self.sightings = 0

    def resolved(self) -> str:
        return _resolved(self.text)


@dataclass
class _Reading:
    t: float
    step: float  # how long this reading stands for when nothing is sampled after it
    caption: _Caption | None = None

    def show(self, caption: _Caption) -> None:
        self.caption = caption
        caption.sightings += 1

    @property
    def text(self) -> str:
        return self.caption.resolved() if self.caption is not None else ""


@dataclass
class OcrCollector:
    """Collects what text is on screen while frames stream by.

    The decode loop asks `wants(t, keyframe)` (cheap, no image needed) and, when True, hands a
    small copy of that frame to `offer(t, frame, keyframe)`: BGR or gray uint8, ideally 360 px
    wide (larger is downscaled here, smaller is used as it is). `finish(end)` returns the spans.
    With an `executor`, readings run there (the decode loop only runs the presence test);
    `finish` waits for them.
    """

    reader: TextReader = field(default_factory=PpOcrReader)
    executor: Executor | None = None
    # Read a caption only once this many consecutive samples show it: a real caption stays
    # on screen, while busy pictures (foliage, a patterned shirt) pass the presence test on
    # one frame and not on the next. 2 saves ~0.2 CPU-s per such false alarm.
    confirm_sightings: int = 1
    hook_window: float = 3.0
    dense_interval: float = 0.25
    interval_after: float | None = 1.0
    ocr_width: int = OCR_WIDTH
    stats: OcrStats = field(default_factory=OcrStats)
    _next: float = 0.0
    _readings: list[_Reading] = field(default_factory=list)
    _last: tuple[TextPresence, _Caption] | None = None
    _captions: list[_Caption] = field(default_factory=list)
    # Sightings of a caption not read yet (the presence test and the last one agree).
    _sightings: list[tuple[TextPresence, _Reading]] = field(default_factory=list)
    _stats_lock: threading.Lock = field(default_factory=threading.Lock)

    def _step(self, t: float) -> float:
        if t < self.hook_window:
            return self.dense_interval
        return self.interval_after if self.interval_after is not None else self.dense_interval

    def wants(self, t: float, keyframe: bool = False) -> bool:
        if keyframe:
            return True
        if t >= self.hook_window and self.interval_after is None:
            return False
        return t >= self._next - 1e-6

    def offer(self, t: float, frame: Image, keyframe: bool = False) -> None:
        if not self.wants(t, keyframe):
            return
        if self._readings and t <= self._readings[-1].t:
            return  # out of order or repeated: the spans need increasing times
        step = self._step(t)
        self._next = t + step
        self.stats.frames_offered += 1
        started = time.thread_time()
        presence = text_presence(frame, fine_width=min(self.ocr_width, frame.shape[1]))
        self.stats.presence_cpu_seconds += time.thread_time() - started
        reading = _Reading(t, step)
        if presence.found:
            self.stats.frames_with_text += 1
            if self._last is not None and same_caption(self._last[0], presence):
                reading.show(self._last[1])
            else:
                self._sightings = [
                    (p, r) for p, r in self._sightings if same_caption(p, presence)
                ] + [(presence, reading)]
                if len(self._sightings) >= self.confirm_sightings:
                    caption = self._start_reading(frame)
                    for _, earlier in self._sightings:
                        earlier.show(caption)  # the first sightings show the same caption
                    self._last = (presence, caption)
                    self._sightings = []
        else:
            self._sightings = []
        self._readings.append(reading)

    def _start_reading(self, frame: Image) -> _Caption:
        small = frame if frame.shape[1] <= self.ocr_width else _resize_width(frame, self.ocr_width)
        text: Text = (
            self.executor.submit(self._read, small.copy())
            if self.executor is not None
            else self._read(small)
        )
        caption = _Caption(text)
        self._captions.append(caption)
        return caption

    def _read(self, small: Image) -> str:
        started = time.thread_time()
        lines = self.reader.read(small)
        with self._stats_lock:
            self.stats.ocr_cpu_seconds += time.thread_time() - started
            self.stats.ocr_runs += 1
        return reading_order(lines)

    def finish(self, end: float | None = None, cuts: Sequence[float] = ()) -> list[OnscreenText]:
        """Spans of identical text (case and spacing ignored); a span ends where the next
        sample shows something else, or one sampling step after its last sighting, and never
        past a cut that comes after its last sighting: a caption read in one shot is not
        claimed for the next one (sampled every 0.5 s, its end would otherwise spill up to
        0.5 s past the cut)."""
        spans: list[OnscreenText] = []
        # A caption the presence test kept seeing for 3+ samples but OCR read as nothing is
        # text in a script the models do not read (Cyrillic); a busy picture that passed the
        # test on two samples is not worth a warning.
        self.stats.unread_captions = sum(
            1 for c in self._captions if c.sightings >= 3 and not c.resolved()
        )
        readings = self._readings
        i = 0
        while i < len(readings):
            j = i
            while j + 1 < len(readings) and _key(readings[j + 1].text) == _key(readings[i].text):
                j += 1
            if readings[i].text:
                stop = readings[j].t + readings[j].step
                if j + 1 < len(readings):
                    stop = min(stop, readings[j + 1].t)
                if end is not None:
                    stop = min(stop, end)
                last_seen = readings[j].t
                stop = min([stop, *(c for c in cuts if last_seen < c < stop)])
                spans.append(
                    OnscreenText(
                        start=round(readings[i].t, 3), end=round(stop, 3), text=readings[i].text
                    )
                )
            i = j + 1
        return spans


class OnscreenTextConsumer:
    """Frame consumer for the decode loop: hands `OcrCollector` a 360-px copy of the frames it
    wants (the BGR copy when another consumer already made one, else a cheaper gray one)."""

    def __init__(self, collector: OcrCollector) -> None:
        self.collector = collector
        self.spans: list[OnscreenText] = []
        self.end: float | None = None

    def push(self, frame: Frame) -> None:
        if not self.collector.wants(frame.time):
            return
        width = self.collector.ocr_width
        image = frame.cached(width, "bgr24")
        if image is None:
            image = frame.scaled(width, "gray")
        self.collector.offer(frame.time, image)

    def finish(self, end: float) -> None:
        self.end = end
        self.spans = self.collector.finish(end)

    def clip_to_shots(self, cuts: Sequence[float]) -> None:
        """The spans again, each ended at the first cut after its last sighting (the cuts are
        known only when the decode is over; the readings are done by then, so this is cheap)."""
        self.spans = self.collector.finish(self.end, cuts)


def texts_in(spans: list[OnscreenText], start: float, end: float) -> list[str]:
    """Distinct texts shown in [start, end), in order of appearance."""
    seen: dict[str, str] = {}
    for span in shown_in(spans, start, end):
        seen.setdefault(_key(span.text), span.text)
    return list(seen.values())
