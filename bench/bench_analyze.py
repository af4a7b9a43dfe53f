"""Benchmark: `reels-scripter analyze` against an ffmpeg decode of the same file, side by side.

Run it with `make bench` (or `PYTHONPATH=tests python bench/bench_analyze.py`). Everything is
on, as a user gets it offline: language identification and transcription with Whisper base,
voice activity, R 128 loudness, on-screen text, shot visuals. Prints medians of runs that
alternate with the reference decode (the machine is shared and noisy: only ratios measured
side by side are compared with the targets):
- 30 s 1080x1920 reel (English speech over a beat, a caption in the hook and one later,
  single-slice H.264 as phones write it): analyze process / `ffmpeg -threads 2 -f null`
  decode, cold (a new CLI process) and warm (one more job in a worker process that has already
  analysed once: imports, models and the OCR engine loaded; like a worker's job it starts from
  the facts the upload's probe found, and the probe's own time is printed), each pair back to
  back: targets
  <= 1.6x cold, <= 1.1x warm, peak RSS <= 500 MB (issue 18). Also the CPU seconds of each stage
  (from the result's `meta.timings`, `cpu_*`) and the process CPU;
- 170 s 1080x1920 reel: analyze / video duration (real-time factor). Target <= 0.10;
- WER: Spanish espeak speech (language must be `es`, WER <= 0.35) and the committed English
  sample (0.042); the per-model table is bench/bench_wer.py;
- loudness: `timeline.audio.loudness_lufs` against `ffmpeg -af ebur128` (within 0.5 LU).
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
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


class WarmWorker:
    """A worker-like process (imports, models and the OCR engine loaded by one first analysis,
    as in a Celery worker) that analyses the reel again each time it is asked."""

    def __init__(self, video: Path, env: dict[str, str]) -> None:
        me = [sys.executable, str(Path(__file__).resolve()), "--warm-child", str(video)]
        self.child = subprocess.Popen(
            me, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self._read()  # the first analysis: cold, not counted

    def _read(self) -> dict[str, float]:
        assert self.child.stdout is not None
        line = self.child.stdout.readline()
        if not line:
            raise RuntimeError("the warm worker died")
        data: dict[str, float] = json.loads(line)
        return data

    def job(self) -> dict[str, float]:
        """(seconds, CPU seconds) of one more analysis."""
        assert self.child.stdin is not None
        self.child.stdin.write("go\n")
        self.child.stdin.flush()
        return self._read()

    def close(self) -> int:
        """Ends the process; its peak RSS in MB."""
        assert self.child.stdin is not None
        self.child.stdin.close()
        _, _, usage = os.wait4(self.child.pid, 0)
        return usage.ru_maxrss // 1024


def short_reel(args: argparse.Namespace, env: dict[str, str]) -> dict[str, Any]:
    """Pairs of (decode, cold CLI, warm worker job), each pair back to back, so both ratios
    share the decode they are divided by."""
    video = make(OUT / "reel_30s_en_1080x1920.mp4", 30.0)
    result_path = OUT / "reel_30s.json"
    decode = [ffmpeg_exe(), "-v", "error", "-threads", "2", "-i", str(video), "-f", "null", "-"]
    run_child(analyze_cmd(video, result_path), env)  # warm the page cache and model cache
    warm = WarmWorker(video, env)
    decodes, decode_cpus, analyses, cpus, rss, ratios = [], [], [], [], [], []
    jobs, job_cpus, warm_ratios, probes = [], [], [], []
    stage_cpu: dict[str, list[float]] = {}
    print(f"30 s 1080x1920 H.264 reel, English speech + beat + captions, {args.runs} pairs:")
    print("  pair  decode s   cold s  ratio   warm s  ratio")
    for i in range(args.runs):
        d, d_cpu, _ = run_child(decode)
        a, cpu, peak = run_child(analyze_cmd(video, result_path), env)
        job = warm.job()
        decodes.append(d)
        decode_cpus.append(d_cpu)
        analyses.append(a)
        cpus.append(cpu)
        rss.append(peak)
        ratios.append(a / d)
        jobs.append(job["seconds"])
        job_cpus.append(job["cpu"])
        warm_ratios.append(job["seconds"] / d)
        print(
            f"  {i + 1:4d}  {d:8.2f} {a:8.2f} {a / d:6.2f}x {job['seconds']:8.2f} "
            f"{job['seconds'] / d:6.2f}x"
        )
        timings = json.loads(result_path.read_text())["meta"]["timings"]
        probes.append(timings["probe"])
        for name, value in timings.items():
            if name.startswith("cpu_"):
                stage_cpu.setdefault(name[4:], []).append(value)
    warm_rss = warm.close()
    result: dict[str, Any] = json.loads(result_path.read_text())
    med = statistics.median
    print(f"  median of {args.runs} pairs (the machine may be shared: compare ratios, not seconds)")
    print(
        f"  ffmpeg -threads 2 decode       : {med(decodes):6.2f} s  ({med(decode_cpus):.2f} CPU-s)"
    )
    print(
        f"  ratio to decode, cold | warm   : {med(ratios):6.2f}x | {med(warm_ratios):.2f}x   "
        "(targets <= 1.6 | <= 1.1)"
    )
    print(
        f"  CPU ratio, cold | warm         : {med(cpus) / med(decode_cpus):6.2f}x | "
        f"{med(job_cpus) / med(decode_cpus):.2f}x"
    )
    print(f"  reels-scripter analyze (cold)  : {med(analyses):6.2f} s  ({med(cpus):.2f} CPU-s)")
    print(f"  warm worker job                : {med(jobs):6.2f} s  ({med(job_cpus):.2f} CPU-s)")
    print(f"  probe (at upload, in the API)  : {med(probes):6.2f} s  (inside the cold figure)")
    print(f"  peak RSS, cold | warm worker   : {med(rss):6d} | {warm_rss} MB   (target <= 500)")
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
    """The `WarmWorker` process: analyse once, then once per line read from stdin, printing
    each analysis's seconds and CPU seconds as one JSON line.

    Each job is what a worker's job is (`jobs.runner`): the upload already validated the file
    in the API process (the probe's facts and the SHA-256 travel with the job), so the worker
    starts from a `ProbedVideo`. The probe is timed on its own line of the report."""
    from reels_scripter.analysis.models import ProbedVideo
    from reels_scripter.analysis.probe import probe
    from reels_scripter.config import Settings, analysis_options
    from reels_scripter.pipeline import analyze_reel

    settings = Settings(_env_file=None)  # DATA_DIR from the environment
    digest = hashlib.sha256(video.read_bytes()).hexdigest()
    probed = ProbedVideo(path=video, info=probe(video, analysis_options(settings)), sha256=digest)
    for _ in itertools.chain([None], sys.stdin):  # once at once, then once per line
        started, cpu = time.perf_counter(), time.process_time()
        analyze_reel(probed, settings)
        seconds = time.perf_counter() - started
        print(json.dumps({"seconds": seconds, "cpu": time.process_time() - cpu}), flush=True)


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
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-long", action="store_true", help="skip the 170 s reel")
    parser.add_argument("--warm-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.warm_child:
        warm_child(args.warm_child)
        return
    OUT.mkdir(exist_ok=True)
    env = {**os.environ, "DATA_DIR": str(OUT / "data")}
    result = short_reel(args, env)
    lufs_check(OUT / "reel_30s_en_1080x1920.mp4", result)
    spanish_wer(env)
    english_wer(env)
    if not args.skip_long:
        long_reel(env)


if __name__ == "__main__":
    main()
