"""Which frames the analysis decode skips: H.264 B-frames, with a fallback when too few remain."""

from __future__ import annotations

from pathlib import Path

import pytest
from av.video.frame import PictureType

from reels_scripter.analysis.decode import MIN_DECODED_FPS, Frame, decode_video
from reels_scripter.analysis.probe import probe
from support.reelgen import make_reel

MAX_PIXELS = 4096 * 4096


class _Counter:
    def __init__(self) -> None:
        self.times: list[float] = []
        self.types: list[str] = []

    def push(self, frame: Frame) -> None:
        self.times.append(frame.time)
        self.types.append(PictureType(int(frame.av.pict_type)).name)

    def finish(self, end: float) -> None:
        pass


def _decode(path: Path) -> _Counter:
    counter = _Counter()
    decode_video(path, probe(path), [counter], max_pixels=MAX_PIXELS)
    return counter


def test_h264_b_frames_are_skipped_and_the_rest_stays_dense(tmp_path: Path) -> None:
    # veryfast: up to 3 B-frames between references, as platforms re-encode reels
    path = make_reel(
        tmp_path / "b.mp4", duration=4.0, cuts=(2.0,), extra_options={"preset": "veryfast"}
    )
    counter = _decode(path)
    assert "B" not in counter.types
    assert counter.types.count("P") > 0
    gaps = [b - a for a, b in zip(counter.times, counter.times[1:], strict=False)]
    assert max(gaps) <= 0.2  # a frame at least every 0.2 s: cut times stay within +-0.25 s
    assert len(counter.times) < 4.0 * 30  # something was skipped


def test_a_stream_of_mostly_b_frames_falls_back_to_decoding_them(tmp_path: Path) -> None:
    """16 B-frames between P-frames, the middle ones references (pyramid): skipping every
    B-frame would leave under 2 frames a second; after the first second the decoder keeps the
    reference B-frames again."""
    path = make_reel(
        tmp_path / "mostly-b.mp4",
        duration=5.0,
        cuts=(),
        extra_options={
            "preset": "veryfast",
            "x264-params": "bframes=16:b-adapt=0:b-pyramid=normal:keyint=250",
        },
    )
    counter = _decode(path)
    first = [t for t in counter.times if t < 1.0]
    later = [t for t in counter.times if t >= 2.0]
    assert len(first) < MIN_DECODED_FPS  # B-frames were skipped at first
    assert "B" in counter.types  # then reference B-frames were decoded
    assert len(later) / 3.0 >= MIN_DECODED_FPS / 2


@pytest.mark.parametrize("fps", [24, 30])
def test_a_strict_three_b_frame_pattern_keeps_the_skip(tmp_path: Path, fps: int) -> None:
    """I/P every fourth frame at most (the middle B-frame a reference, which a fallback to
    NONREF would decode): 6-7.5 frames a second is dense enough, the skip stays."""
    path = make_reel(
        tmp_path / "ibbbp.mp4",
        duration=3.0,
        cuts=(),
        fps=fps,
        extra_options={"preset": "veryfast", "x264-params": "bframes=3:b-adapt=0:b-pyramid=normal"},
    )
    counter = _decode(path)
    assert "B" not in counter.types  # no fallback: the reference B-frames stayed skipped
    assert len(counter.times) >= 3.0 * fps / 4 - 2


@pytest.mark.parametrize(
    "extra",
    [{"extra_options": {"preset": "ultrafast"}}, {"container": "webm", "codec": "libvpx-vp9"}],
)
def test_streams_without_b_frames_lose_nothing(tmp_path: Path, extra: dict[str, object]) -> None:
    path = make_reel(tmp_path / "r.mp4", duration=2.0, cuts=(), fps=30, **extra)
    assert len(_decode(path).times) == 60
