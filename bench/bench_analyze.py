"""Benchmark: `reels-scripter analyze` vs an ffmpeg decode of the same file, side by side.

Prints medians of repeated runs and their ratios (machines are noisy; ratios measured in one
run are what we compare against the targets):
- 30 s 1080x1920 H.264 reel: analyze process time (start-up included) / `ffmpeg -threads 2
  -f null` decode time. Target <= 3.0x, goal 1.5x.
- 170 s reel: analyze time / video duration (real-time factor). Target <= 0.15.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
OUT = ROOT / "bench-out"


def ffmpeg_exe() -> str:
    found = shutil.which("ffmpeg")
    if found:
        return found
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def make(path: Path, duration: float) -> Path:
    if path.exists():
        return path
    from support.reelgen import make_reel

    cuts = tuple(float(t) for t in range(3, int(duration), 4))
    tmp = path.with_suffix(".tmp.mp4")
    make_reel(
        tmp,
        duration=duration,
        cuts=cuts,
        width=1080,
        height=1920,
        fps=30,
        audio="speech+clicks",
        texture=True,
        extra_options={"preset": "veryfast", "crf": "23"},
    )
    tmp.rename(path)
    return path


def timed(cmd: list[str], env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    return time.perf_counter() - started


def median_of(cmd: list[str], runs: int, env: dict[str, str] | None = None) -> float:
    return statistics.median(timed(cmd, env) for _ in range(runs))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-long", action="store_true", help="skip the 170 s reel")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    env = {**os.environ, "DATA_DIR": str(OUT / "data")}
    cli = [str(Path(sys.executable).parent / "reels-scripter"), "analyze", "-q", "-o", os.devnull]
    ffmpeg = [ffmpeg_exe(), "-v", "error", "-threads", "2", "-i"]

    short = make(OUT / "reel_30s_1080x1920.mp4", 30.0)
    size_mb = short.stat().st_size / 1e6
    subprocess.run([*cli, str(short)], check=True, env=env)  # warm the page cache and model
    decode = median_of([*ffmpeg, str(short), "-f", "null", "-"], args.runs)
    analyze = median_of([*cli, str(short)], args.runs, env)
    print(f"30 s 1080x1920 H.264 reel ({size_mb:.1f} MB), median of {args.runs}:")
    print(f"  ffmpeg -threads 2 decode : {decode:6.2f} s")
    print(f"  reels-scripter analyze   : {analyze:6.2f} s")
    print(f"  ratio analyze / decode   : {analyze / decode:6.2f}x   (target <= 3.0, goal 1.5)")

    if not args.skip_long:
        long = make(OUT / "reel_170s_1080x1920.mp4", 170.0)
        decode_long = median_of([*ffmpeg, str(long), "-f", "null", "-"], 1)
        analyze_long = median_of([*cli, str(long)], 1, env)
        print("170 s 1080x1920 H.264 reel, one run:")
        print(f"  ffmpeg -threads 2 decode : {decode_long:6.2f} s")
        print(f"  reels-scripter analyze   : {analyze_long:6.2f} s")
        print(f"  ratio analyze / decode   : {analyze_long / decode_long:6.2f}x")
        print(f"  real-time factor         : {analyze_long / 170.0:6.3f}    (target <= 0.15)")


if __name__ == "__main__":
    main()
