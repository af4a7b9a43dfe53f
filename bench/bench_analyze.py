"""Benchmark: `reels-scripter analyze` against an ffmpeg decode of the same file, side by side.

Run it with `make bench` (or `PYTHONPATH=tests python bench/bench_analyze.py`). Everything is
on, as a user gets it offline: language identification and transcription with Whisper base,
voice activity, R 128 loudness, on-screen text, shot visuals. Prints medians of runs that
alternate with the reference decode (the machine is shared and noisy: only ratios measured
side by side are compared with the targets):
- 30 s 1080x1920 reel (English speech over a beat, a caption in the hook and one later,
  single-slice H.264 as phones write it): analyze process / `ffmpeg -threads 2 -f null`
  decode. Target <= 1.8x, goal 1.5x. Also the CPU seconds of each stage (from the result's
  `meta.timings`, `cpu_*`), the process CPU and its peak RSS; and the same reel analysed a
  second time in one process, as a worker does (imports, models and the OCR engine loaded);
- 170 s 1080x1920 reel: analyze / video duration (real-time factor). Target <= 0.10;
- WER: Spanish espeak speech (language must be `es`, WER <= 0.35) and the committed English
  sample (0.042); the per-model table is bench/bench_wer.py;
- loudness: `timeline.audio.loudness_lufs` against `ffmpeg -af ebur128` (within 0.5 LU).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from support.reelgen import SPEECH_TEXT, SPEECH_TEXTS, make_reel, wer

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench-out"
CAPTIONS = ((0.0, 3.0, "3 TRICKS"), (12.0, 15.0, "WAIT FOR IT"))


def ffmpeg_exe() -> str:
    found = shutil.which("ffmpeg")
    if found:
        return found
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def make(path: Path, duration: float) -> Path:
    """A 1080x1920 reel with speech over a beat and captions, re-encoded by the ffmpeg CLI
    (frame-threaded x264: one slice per frame, as phones write H.264)."""
    if path.exists():
        return path
    cuts = tuple(float(t) for t in range(3, int(duration), 4))
    with tempfile.TemporaryDirectory() as tmp:
        raw = make_reel(
            Path(tmp) / "raw.mp4",
            duration=duration,
            cuts=cuts,
            width=1080,
            height=1920,
            fps=30,
            audio="speech+clicks",
            texture=True,
            captions=CAPTIONS,
            extra_options={"preset": "ultrafast", "crf": "18"},
        )
        part = path.with_suffix(".tmp.mp4")
        subprocess.run(
            [
                *(ffmpeg_exe(), "-v", "error", "-y", "-i", str(raw), "-c:v", "libx264"),
                *("-preset", "veryfast", "-crf", "23", "-c:a", "copy", str(part)),
            ],
            check=True,
        )
        part.rename(path)
    return path


def run_child(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, peak RSS in MB) of one child process and its children."""
    started = time.perf_counter()
    child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    stderr = child.stderr.read().decode() if child.stderr else ""
    if status != 0:
        raise RuntimeError(f"{cmd[0]} failed ({status}): {stderr[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024


def analyze_cmd(video: Path, output: Path) -> list[str]:
    cli = str(Path(sys.executable).parent / "reels-scripter")
    return [cli, "analyze", "-q", "-o", str(output), str(video)]


def short_reel(args: argparse.Namespace, env: dict[str, str]) -> dict[str, Any]:
    video = make(OUT / "reel_30s_en_1080x1920.mp4", 30.0)
    result_path = OUT / "reel_30s.json"
    decode = [ffmpeg_exe(), "-v", "error", "-threads", "2", "-i", str(video), "-f", "null", "-"]
    run_child(analyze_cmd(video, result_path), env)  # warm the page cache and model cache
    decodes, decode_cpus, analyses, cpus, rss, ratios = [], [], [], [], [], []
    stage_cpu: dict[str, list[float]] = {}
    for _ in range(args.runs):
        d, d_cpu, _ = run_child(decode)
        a, cpu, peak = run_child(analyze_cmd(video, result_path), env)
        decodes.append(d)
        decode_cpus.append(d_cpu)
        analyses.append(a)
        cpus.append(cpu)
        rss.append(peak)
        ratios.append(a / d)
        timings = json.loads(result_path.read_text())["meta"]["timings"]
        for name, value in timings.items():
            if name.startswith("cpu_"):
                stage_cpu.setdefault(name[4:], []).append(value)
    result: dict[str, Any] = json.loads(result_path.read_text())
    med = statistics.median
    print(f"30 s 1080x1920 H.264 reel, English speech + beat + captions, median of {args.runs}:")
    print(
        f"  ffmpeg -threads 2 decode       : {med(decodes):6.2f} s  ({med(decode_cpus):.2f} CPU-s)"
    )
    print(f"  reels-scripter analyze         : {med(analyses):6.2f} s  ({med(cpus):.2f} CPU-s)")
    print(f"  ratio analyze / decode         : {med(ratios):6.2f}x   (target <= 1.8, goal 1.5)")
    print(f"  CPU ratio analyze / decode     : {med(cpus) / med(decode_cpus):6.2f}x")
    print(f"  peak RSS of analyze            : {med(rss):6d} MB")
    print("  CPU seconds per stage (median; stages overlap on 2 cores):")
    for name, values in sorted(stage_cpu.items(), key=lambda kv: -med(kv[1])):
        print(f"    {name:34s} {med(values):6.2f}")
    onscreen = [t["text"] for t in result["timeline"]["onscreen_text"]]
    print(f"  on-screen text found           : {onscreen}")
    score = wer(SPEECH_TEXT, result["original"]["transcription"])
    print(f"  English WER (over a beat)      : {score:.3f}")
    rows = [r["end"] - r["start"] for r in result["script"]]
    print(f"  longest script row             : {max(rows):.2f} s")
    return result


def warm_child(video: Path) -> None:
    """One worker-like process: analyse twice (models, OCR engine and imports then cached, as
    in a Celery worker), print the second run's seconds."""
    from reels_scripter.config import Settings
    from reels_scripter.pipeline import analyze_reel

    settings = Settings(_env_file=None)  # DATA_DIR from the environment
    analyze_reel(video, settings)
    started = time.perf_counter()
    analyze_reel(video, settings)
    print(json.dumps({"seconds": time.perf_counter() - started}))


def warm_worker(args: argparse.Namespace, env: dict[str, str]) -> None:
    video = OUT / "reel_30s_en_1080x1920.mp4"
    decode = [ffmpeg_exe(), "-v", "error", "-threads", "2", "-i", str(video), "-f", "null", "-"]
    me = [sys.executable, str(Path(__file__).resolve()), "--warm-child", str(video)]
    ratios = []
    for _ in range(args.runs):
        d, _, _ = run_child(decode)
        out = subprocess.run(me, env=env, capture_output=True, text=True, check=True).stdout
        ratios.append(json.loads(out.strip().splitlines()[-1])["seconds"] / d)
    print(
        f"Same reel in a warm worker process (models loaded): analyze / decode "
        f"{statistics.median(ratios):.2f}x (median of {args.runs})"
    )


def lufs_check(video: Path, result: dict[str, Any]) -> None:
    out = subprocess.run(
        [ffmpeg_exe(), "-nostats", "-i", str(video), "-af", "ebur128=peak=true", "-f", "null", "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    summary = out[out.rfind("Summary:") :]
    found = re.search(r"I:\s+(-?[\d.]+) LUFS", summary)
    assert found is not None, f"no integrated loudness in ffmpeg's summary: {summary!r}"
    reference = float(found.group(1))
    ours = result["timeline"]["audio"]["loudness_lufs"]
    print(
        f"Loudness: ours {ours} LUFS, ffmpeg ebur128 {reference} LUFS, "
        f"difference {abs(ours - reference):.2f} LU (target <= 0.5)"
    )


def long_reel(env: dict[str, str]) -> None:
    video = make(OUT / "reel_170s_en_1080x1920.mp4", 170.0)
    decode = [ffmpeg_exe(), "-v", "error", "-threads", "2", "-i", str(video), "-f", "null", "-"]
    d, d_cpu, _ = run_child(decode)
    a, cpu, peak = run_child(analyze_cmd(video, OUT / "reel_170s.json"), env)
    print("170 s 1080x1920 H.264 reel, one run:")
    print(f"  ffmpeg -threads 2 decode       : {d:6.2f} s  ({d_cpu:.2f} CPU-s)")
    print(f"  reels-scripter analyze         : {a:6.2f} s  ({cpu:.2f} CPU-s, peak RSS {peak} MB)")
    print(f"  ratio analyze / decode         : {a / d:6.2f}x")
    print(f"  real-time factor               : {a / 170.0:6.3f}    (target <= 0.10)")


def spanish_wer(env: dict[str, str]) -> None:
    video = OUT / "reel_es_26s.mp4"
    if not video.exists():
        make_reel(
            video,
            duration=26.0,
            cuts=(8.0, 16.0),
            width=540,
            height=960,
            audio="espeak",
            speech_voice="es",
            speech_offset=1.0,
        )
    out = OUT / "reel_es.json"
    run_child(analyze_cmd(video, out), env)
    result = json.loads(out.read_text())
    meta = result["meta"]
    score = wer(SPEECH_TEXTS["es"], result["original"]["transcription"])
    print(
        f"Spanish espeak reel: language {meta['source_language']} "
        f"(p={meta['source_language_probability']}), model {meta['speech_model']}, "
        f"WER {score:.3f} (target <= 0.35)"
    )


def english_wer(env: dict[str, str]) -> None:
    video = OUT / "reel_en_22s.mp4"
    if not video.exists():
        make_reel(video, duration=22.0, cuts=(2.0, 9.0, 15.0), audio="speech", speech_offset=0.8)
    out = OUT / "reel_en.json"
    run_child(analyze_cmd(video, out), env)
    result = json.loads(out.read_text())
    score = wer(SPEECH_TEXT, result["original"]["transcription"])
    print(
        f"English committed sample: model {result['meta']['speech_model']}, "
        f"WER {score:.3f} (0.042 with tiny.en)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-long", action="store_true", help="skip the 170 s reel")
    parser.add_argument("--warm-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.warm_child:
        warm_child(args.warm_child)
        return
    OUT.mkdir(exist_ok=True)
    env = {**os.environ, "DATA_DIR": str(OUT / "data")}
    result = short_reel(args, env)
    warm_worker(args, env)
    lufs_check(OUT / "reel_30s_en_1080x1920.mp4", result)
    spanish_wer(env)
    english_wer(env)
    if not args.skip_long:
        long_reel(env)


if __name__ == "__main__":
    main()
