"""On-screen text: a cheap presence test, one OCR run per distinct caption, timed spans."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import numpy.typing as npt
import pytest

from reels_scripter.analysis.onscreen_text import (
    OcrCollector,
    PpOcrReader,
    TextLine,
    reading_order,
    same_caption,
    text_presence,
)
from support.reelgen import CameraKind, ReelSpec, _frame_image

CAPTIONS = [(0.0, 3.0, "3 TRICKS"), (4.5, 8.0, "WAIT FOR IT"), (8.5, 10.0, "follow for part two")]


@pytest.fixture(scope="module")
def reader() -> PpOcrReader:
    return PpOcrReader()


def _frame(
    caption: str, t: float = 1.0, camera: CameraKind = "pan", **spec: Any
) -> npt.NDArray[np.uint8]:
    reel = ReelSpec(width=540, height=960, camera=camera, cuts=(), **spec)
    if caption:
        reel.captions = [(0.0, 99.0, caption)]
    rgb = _frame_image(reel, t, np.random.default_rng(0))
    return np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), dtype=np.uint8)


@pytest.mark.parametrize("camera", ["pan", "static", "none", "handheld", "zoom"])
@pytest.mark.parametrize("caption", ["3 TRICKS", "WAIT FOR IT", "follow for part two"])
def test_presence_finds_captions(camera: CameraKind, caption: str) -> None:
    presence = text_presence(_frame(caption, camera=camera))
    assert presence.found
    box = presence.union()
    assert box is not None
    # the caption is drawn in the upper third (reelgen.draw_caption), 180-px grid: 320 rows
    assert 40 <= box[1] <= 100, box


@pytest.mark.parametrize(
    "frame",
    [
        _frame("", camera="pan"),
        _frame("", camera="none"),
        _frame("", camera="none", noise=True),
        _frame("", camera="none", face_scales=[0.6]),
        np.full((960, 540, 3), 128, np.uint8),
    ],
    ids=["texture", "flat+bar", "noise", "face", "grey"],
)
def test_presence_ignores_pictures_without_text(frame: np.ndarray) -> None:
    assert not text_presence(frame).found


def test_presence_works_on_gray_and_small_frames() -> None:
    gray = np.asarray(cv2.cvtColor(_frame("3 TRICKS"), cv2.COLOR_BGR2GRAY), dtype=np.uint8)
    assert text_presence(gray).found
    small = cv2.resize(gray, (180, 320), interpolation=cv2.INTER_AREA)
    assert text_presence(np.asarray(small, dtype=np.uint8)).found


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (("3 TRICKS", 1.0, "pan"), ("3 TRICKS", 3.0, "pan"), True),  # video moves under it
        (("3 TRICKS", 1.0, "zoom"), ("3 TRICKS", 2.0, "zoom"), True),
        (("WAIT FOR IT", 1.0, "handheld"), ("WAIT FOR IT", 3.0, "handheld"), True),
        (("3 TRICKS", 1.0, "pan"), ("4 TRICKS", 1.1, "pan"), False),  # one character
        (("follow for part two", 1.0, "pan"), ("follow for part one", 2.0, "pan"), False),
        (("WAIT FOR IT", 1.0, "pan"), ("follow for part two", 1.0, "pan"), False),
    ],
)
def test_same_caption(
    a: tuple[str, float, CameraKind], b: tuple[str, float, CameraKind], same: bool
) -> None:
    first = text_presence(_frame(a[0], a[1], a[2]))
    second = text_presence(_frame(b[0], b[1], b[2]))
    assert same_caption(first, second) is same


def test_reading_order() -> None:
    def line(text: str, x: float, y: float) -> TextLine:
        return TextLine(text, 0.9, (x, y, 50.0, 20.0))

    lines = [line("TRICKS", 120, 52), line("FOR", 60, 100), line("3", 20, 50), line("IT", 10, 101)]
    assert reading_order(lines) == "3 TRICKS IT FOR"
    assert reading_order([]) == ""


def _collect(path: Path, collector: OcrCollector, keyframes: tuple[float, ...] = ()) -> None:
    """What the decode loop does: ask first, convert only the frames wanted, 360 px wide."""
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            t = float(frame.time)
            key = any(abs(t - k) < 0.02 for k in keyframes)
            if collector.wants(t, keyframe=key):
                small = frame.reformat(width=360, height=640, format="bgr24").to_ndarray()
                collector.offer(t, np.asarray(small, dtype=np.uint8), keyframe=key)


def test_collector_reads_each_caption_once_with_its_time(
    reel: Callable[..., Path], reader: PpOcrReader
) -> None:
    path = reel(
        "c.mp4", duration=10.0, cuts=(6.0,), camera="pan", width=540, height=960, captions=CAPTIONS
    )
    collector = OcrCollector(reader=reader)
    _collect(path, collector)
    spans = collector.finish(10.0)
    assert [s.text for s in spans] == ["3 TRICKS", "WAIT FOR IT", "follow for part two"]
    hook, middle, last = spans
    # dense in the hook window: times within one 0.25 s step (+ one frame)
    assert hook.start <= 0.05 and abs(hook.end - 3.0) <= 0.3
    # after it, one sample a second: within a second
    assert 4.5 <= middle.start <= 5.55 and abs(middle.end - 8.0) <= 1.05
    assert 8.5 <= last.start <= 9.55 and last.end == 10.0
    stats = collector.stats
    assert stats.ocr_runs == 3  # once per distinct caption, not once per sampled frame
    assert stats.frames_offered == 12 + 7  # 0-3 s every 0.25 s, then every second
    assert stats.frames_with_text >= 15


def test_collector_after_the_hook_reads_keyframes_only(
    reel: Callable[..., Path], reader: PpOcrReader
) -> None:
    path = reel(
        "k.mp4",
        duration=8.0,
        cuts=(),
        camera="static",
        width=540,
        height=960,
        captions=[(5.0, 8.0, "WAIT FOR IT")],
    )
    collector = OcrCollector(reader=reader, interval_after=None)
    assert not collector.wants(4.0) and collector.wants(4.0, keyframe=True)
    _collect(path, collector, keyframes=(4.0, 6.0))
    assert [(s.start, s.text) for s in collector.finish(8.0)] == [(6.0, "WAIT FOR IT")]
    assert collector.stats.frames_offered == 12 + 2
    assert collector.stats.ocr_runs == 1  # nothing to read in the hook: no OCR there


def test_no_text_no_ocr(reel: Callable[..., Path], reader: PpOcrReader) -> None:
    path = reel("n.mp4", duration=5.0, cuts=(2.0,), camera="pan", width=540, height=960)
    collector = OcrCollector(reader=reader)
    _collect(path, collector)
    assert collector.finish(5.0) == []
    assert collector.stats.ocr_runs == 0 and collector.stats.frames_offered == 12 + 2


def test_a_caption_belongs_to_the_shots_it_is_really_shown_in() -> None:
    from reels_scripter.analysis.models import OnscreenText
    from reels_scripter.analysis.onscreen_text import texts_in

    spans = [
        OnscreenText(start=0.0, end=3.18, text="3 TRICKS"),  # drawn until 3.0, next sample 3.18
        OnscreenText(start=5.0, end=5.2, text="flash"),
    ]
    assert texts_in(spans, 0.0, 3.03) == ["3 TRICKS"]
    assert texts_in(spans, 3.03, 7.0) == ["flash"]  # not the caption that ended at the cut
    assert texts_in(spans, 7.0, 9.0) == []


class _CannotRead:
    """A reader at its worst legal behaviour: it finds nothing (a Cyrillic caption for the
    bundled Latin models)."""

    def __init__(self) -> None:
        self.calls = 0

    def read(self, image: np.ndarray) -> list[TextLine]:
        self.calls += 1
        return []


def test_a_caption_that_cannot_be_read_is_reported_not_invented(
    reel: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from reels_scripter.analysis import AnalysisOptions, analyze
    from reels_scripter.texts import notice_text

    path = reel(
        "u.mp4",
        duration=6.0,
        cuts=(),
        camera="static",
        width=360,
        height=640,
        captions=[(0.0, 2.5, "THREE TIPS"), (4.0, 4.3, "flash")],
    )
    stub = _CannotRead()
    monkeypatch.setattr(PpOcrReader, "shared", classmethod(lambda cls: stub))
    m = analyze(path, AnalysisOptions(transcribe=False))
    assert m.onscreen_text == [] and m.hook.onscreen_text == []
    assert stub.calls >= 1
    [notice] = [n for n in m.notices if n.code == "onscreen_text_unread"]
    assert notice.params["count"] == 1  # the 2.5 s caption; the 0.3 s flash is not counted
    text = notice_text(notice.code, "ru", notice.params)
    assert text is not None and "не кириллицу" in text
