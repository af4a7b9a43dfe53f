"""Regenerate the bundled sample reel (src/reels_scripter/samples/sample_reel.mp4).

It is the committed speech sample over coloured scenes with hard cuts and a 120 BPM beat,
so `make demo` shows every part of the result without any download. The generator is the
tests' own (tests/support/reelgen.py), found the way pytest and mypy find it:

    PYTHONPATH=tests .venv/bin/python scripts/make_sample_reel.py
"""

from __future__ import annotations

from pathlib import Path

from support.reelgen import make_reel

ROOT = Path(__file__).resolve().parents[1]

if __name__ == "__main__":
    out = ROOT / "src" / "reels_scripter" / "samples" / "sample_reel.mp4"
    make_reel(
        out,
        duration=21.0,
        cuts=(1.2, 2.6, 6.2, 10.3, 14.5, 18.4),
        width=360,
        height=640,
        fps=30,
        audio="speech+clicks",
        speech_offset=0.4,
        bitrate=150_000,
        extra_options={"preset": "medium"},
    )
    print(out, out.stat().st_size)
