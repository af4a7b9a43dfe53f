"""The PP-OCR pipeline on ONNX Runtime reads what RapidOCR's own pipeline reads."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from reels_scripter.analysis.onscreen_text import MIN_SCORE, PpOcrReader
from reels_scripter.analysis.ppocr import PpOcr, model_dir
from support.reelgen import CameraKind, ReelSpec, _frame_image


def _frame(
    caption: str, camera: CameraKind, width: int = 360, **spec: Any
) -> npt.NDArray[np.uint8]:
    reel = ReelSpec(width=540, height=960, camera=camera, cuts=(), **spec)
    reel.captions = [(0.0, 99.0, caption)]
    rgb = _frame_image(reel, 1.0, np.random.default_rng(1))
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    height = round(width * 960 / 540)
    return np.asarray(cv2.resize(bgr, (width, height), interpolation=cv2.INTER_AREA), np.uint8)


def _two_lines(width: int = 360) -> npt.NDArray[np.uint8]:
    image = np.full((round(width * 16 / 9), width, 3), (40, 90, 160), np.uint8)
    cv2.putText(image, "SAVE THIS", (30, 120), cv2.FONT_HERSHEY_DUPLEX, 1.3, (255, 255, 255), 3)
    cv2.putText(image, "for later", (60, 500), cv2.FONT_HERSHEY_SIMPLEX, 1.1, (0, 0, 0), 2)
    return image


FRAMES = {
    "pan 3 TRICKS": _frame("3 TRICKS", "pan"),
    "handheld WAIT FOR IT": _frame("WAIT FOR IT", "handheld"),
    "zoom lower case": _frame("follow for part two", "zoom"),
    "540 px": _frame("WAIT FOR IT", "static", width=540),
    "two lines": _two_lines(),
}


@pytest.fixture(scope="module")
def rapidocr_texts() -> dict[str, list[str]]:
    from rapidocr import RapidOCR

    engine = RapidOCR(
        params={
            "Global.log_level": "error",
            "Global.use_cls": False,
            "Global.text_score": MIN_SCORE,
            "Det.limit_type": "max",
            "Det.limit_side_len": 480,
        }
    )
    out = {}
    for name, image in FRAMES.items():
        result: Any = engine(image)
        out[name] = sorted(str(t) for t in (result.txts or ()))
    return out


@pytest.mark.parametrize("name", list(FRAMES))
def test_reads_what_rapidocr_reads(name: str, rapidocr_texts: dict[str, list[str]]) -> None:
    lines = PpOcrReader().read(FRAMES[name])
    assert rapidocr_texts[name], (
        "the frame must hold readable text for the comparison to mean anything"
    )
    assert sorted(line.text for line in lines) == rapidocr_texts[name]
    for line in lines:
        assert line.score >= MIN_SCORE


def test_boxes_are_where_the_text_is() -> None:
    lines = PpOcrReader().read(FRAMES["two lines"])
    by_text = {line.text: line.box for line in lines}
    x, y, w, h = by_text["SAVE THIS"]
    assert 20 <= x <= 40 and 80 <= y <= 125 and 150 <= w <= 260 and 20 <= h <= 60
    assert by_text["for later"][1] > 400


def test_no_text_no_readings() -> None:
    engine = PpOcr()
    assert engine(np.full((640, 360, 3), 128, np.uint8)) == []
    assert engine(np.zeros((4, 4, 3), np.uint8)) == []  # too small to hold a line


def test_models_come_from_the_rapidocr_wheel() -> None:
    assert (model_dir() / "PP-OCRv6_rec_small.onnx").is_file()


def test_missing_models_are_a_setup_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from reels_scripter.analysis import ppocr

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ppocr.OcrModelError) as caught:
        ppocr.model_dir()
    assert caught.value.code == "ocr_unavailable"
