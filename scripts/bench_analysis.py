"""Benchmark `analyze` against a plain FFmpeg decode of the same reel (the project's target).

    .venv/bin/python scripts/bench_analysis.py /tmp/bench [--duration 30]

Writes a 1080x1920 30 fps H.264 reel with textured, moving scenes and speech+clicks audio
(unless it already exists), then times `ffmpeg -threads 2 -i reel -f null -` and a fresh
`python -c "analyze(...)"` process (Python start-up included, as a worker would pay it).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import av
import imageio_ffmpeg
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from reelgen import ReelSpec, _audio_samples


def make_textured_reel(path: Path, duration: float, cut_every: float = 2.7) -> Path:
    """Scenes of different colour and texture that pan, so the encoder must really work.

    `veryfast` keeps CABAC and B-frames, as phone and app encoders do, so decoding costs
    what a real reel costs."""
    w, h, fps = 1080, 1920, 30
    rng = np.random.default_rng(1)
    textures = [
        rng.integers(0, 60, size=(h // 8, w // 8, 3), dtype=np.uint8).repeat(8, 0).repeat(8, 1)
        for _ in range(4)
    ]
    colours = np.array(
        [(200, 60, 40), (40, 160, 80), (50, 70, 200), (220, 200, 60), (120, 120, 120)], np.uint8
    )
    spec = ReelSpec(duration=duration, audio="speech+clicks")
    with av.open(str(path), "w") as out:
        vs = out.add_stream("libx264", rate=fps)
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        vs.options = {"preset": "veryfast", "crf": "23"}
        a = out.add_stream("aac", rate=48000)
        a.layout = "mono"
        for k in range(int(duration * fps)):
            t = k / fps
            s = int(t // cut_every)
            tex = np.roll(textures[s % 4], shift=(k * 6, k * 3), axis=(0, 1))
            img = tex + colours[s % len(colours)] // 2
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = k
            frame.time_base = Fraction(1, fps)
            for p in vs.encode(frame):
                out.mux(p)
        for p in vs.encode():
            out.mux(p)
        samples = _audio_samples(spec, 48000)
        for i in range(0, len(samples), 1024):
            block = np.pad(samples[i : i + 1024], (0, max(0, i + 1024 - len(samples))))
            af = av.AudioFrame.from_ndarray(block.reshape(1, -1), format="flt", layout="mono")
            af.sample_rate, af.pts, af.time_base = 48000, i, Fraction(1, 48000)
            for p in a.encode(af):
                out.mux(p)
        for p in a.encode():
            out.mux(p)
    return path


def timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("dir", type=Path)
    ap.add_argument("--duration", type=float, default=30.0)
    ap.add_argument("--runs", type=int, default=2)
    args = ap.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    reel = args.dir / f"bench_{int(args.duration)}s.mp4"
    if not reel.exists():
        make_textured_reel(reel, args.duration)
    ffmpeg = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-threads", "2", "-i", str(reel)]
    code = (
        "import sys, json; from reels_scripter.analysis import analyze; "
        "m = analyze(sys.argv[1]); print(json.dumps(m.timings))"
    )
    for _ in range(args.runs):
        f = timed([*ffmpeg, "-f", "null", "-"])
        t0 = time.perf_counter()
        r = subprocess.run(
            [sys.executable, "-c", code, str(reel)], check=True, capture_output=True, text=True
        )
        a = time.perf_counter() - t0
        print(
            f"{reel.name}: ffmpeg {f:.2f}s  analyze {a:.2f}s  ratio {a / f:.2f}  "
            f"RTF {a / args.duration:.3f}  stages {r.stdout.strip()}"
        )


if __name__ == "__main__":
    main()
