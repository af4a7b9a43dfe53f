"""EBU R 128 loudness through FFmpeg's ebur128 filter, checked against the ffmpeg binary."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import imageio_ffmpeg
import numpy as np
import pytest

from reels_scripter.analysis.loudness import LoudnessMeter, measure_loudness


def ffmpeg_ebur128(path: Path) -> tuple[float, float, float]:
    """(I LUFS, LRA LU, true peak dBFS) from `ffmpeg -af ebur128=peak=true`'s summary."""
    err = subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-hide_banner",
            "-nostats",
            "-i",
            str(path),
            "-af",
            "ebur128=peak=true",
            "-f",
            "null",
            "-",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stderr
    summary = err[err.rindex("Summary:") :]

    def value(key: str) -> float:
        found = re.search(key + r":\s+(-?[\d.]+|-inf)", summary)
        assert found, summary
        return float(found.group(1))

    return value("I"), value("LRA"), value("Peak")


@pytest.mark.parametrize(
    "spec",
    [
        {"audio": "speech"},
        {"audio": "speech+clicks", "bpm": 100},
        {"audio": "espeak", "speech_voice": "es", "audio_channels": 2, "audio_rate": 44100},
        {"audio": "clicks", "audio_channels": 2, "container": "webm", "codec": "libvpx-vp9"},
        {"audio": "tone", "tone_hz": 3000.0},
    ],
    ids=["speech", "speech+beat", "stereo-44k", "webm-opus-stereo", "tone-3k"],
)
def test_loudness_agrees_with_ffmpeg(reel: Callable[..., Path], spec: dict[str, object]) -> None:
    ext = "webm" if spec.get("container") == "webm" else "mp4"
    path = reel(f"l.{ext}", duration=12.0, cuts=(), **spec)
    ours = measure_loudness(path)
    assert ours is not None and ours.integrated_lufs is not None
    integrated, lra, peak = ffmpeg_ebur128(path)
    assert abs(ours.integrated_lufs - integrated) <= 0.5
    assert ours.range_lu is not None and abs(ours.range_lu - lra) <= 0.5
    assert ours.true_peak_dbtp is not None and abs(ours.true_peak_dbtp - peak) <= 0.3


def _sine_frames(amplitude: float, rate: int, seconds: float) -> list[av.AudioFrame]:
    n = int(seconds * rate)
    signal = (amplitude * np.sin(2 * np.pi * 1000 * np.arange(n) / rate)).astype(np.float32)
    frames = []
    for i in range(0, n, 1024):
        frame = av.AudioFrame.from_ndarray(signal[i : i + 1024].reshape(1, -1), "flt", "mono")
        frame.sample_rate, frame.pts, frame.time_base = rate, i, Fraction(1, rate)
        frames.append(frame)
    return frames


@pytest.mark.parametrize("rate", [48000, 16000])
def test_a_1khz_sine_reads_as_the_standard_says(rate: int) -> None:
    """BS.1770: a 1 kHz sine of peak amplitude A in one channel reads 20 log10(A) - 3.01 LUFS."""
    meter = LoudnessMeter(sample_rate=rate, layout="mono", format="flt")
    for frame in _sine_frames(0.1, rate, 5.0):
        meter.push(frame)
    result = meter.result()
    assert result.integrated_lufs == pytest.approx(-23.01, abs=0.1)
    assert result.true_peak_dbtp == pytest.approx(-20.0, abs=0.1)
    assert result.range_lu == pytest.approx(0.0, abs=0.1)


def test_silence_has_no_loudness(reel: Callable[..., Path]) -> None:
    result = measure_loudness(reel("s.mp4", duration=4.0, audio="silence"))
    assert result is not None
    assert result.integrated_lufs is None and result.range_lu is None
    assert result.true_peak_dbtp is None


def test_no_audio_stream(reel: Callable[..., Path]) -> None:
    assert measure_loudness(reel("v.mp4", duration=2.0, audio="none")) is None
