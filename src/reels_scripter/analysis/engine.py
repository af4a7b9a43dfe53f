"""How `analyze` runs: the order of the stages and the threads they run on.

Order of work, chosen for wall time on a small (2-core) machine:
1. `probe` validates the file in its sandboxed child (started by `analyze` before this
   module is even imported; skipped when the caller hands in a `ProbedVideo`) while the
   speech model loads in a thread (it reads no untrusted bytes);
2. then three things run at once: the video decode with every visual measurement (this
   thread), the audio decode followed by speech recognition (a thread; CTranslate2 releases
   the GIL), and the SHA-256 of the file (a thread; hashlib releases the GIL);
3. audio facts and hook facts, which need the transcript, take a few milliseconds at the end.
"""

from __future__ import annotations

import hashlib
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from reels_scripter.analysis.audio import DecodedAudio, audio_facts, decode_audio
from reels_scripter.analysis.hook import hook_facts
from reels_scripter.analysis.models import (
    AnalysisOptions,
    Measurements,
    ProbeInfo,
    Transcript,
)
from reels_scripter.analysis.progress import Progress, ProgressCallback
from reels_scripter.analysis.speech import ModelChoice, load_model, resolve_model, transcribe
from reels_scripter.analysis.video import measure_video

# Whisper gets one core and the video decode (slice-threaded, so in practice one thread for
# phone H.264) the other: on two cores that split beat frame-threaded decoding, and a tiny
# model gains little from a second thread.
DEFAULT_WHISPER_THREADS = 1


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


class _Timer:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._lock = threading.Lock()

    def add(self, name: str, started: float) -> None:
        with self._lock:
            self.timings[name] = round(time.perf_counter() - started, 3)


def _speech_job(
    path: Path,
    info: ProbeInfo,
    options: AnalysisOptions,
    model_future: Future[Any] | None,
    choice: ModelChoice | None,
    report: Progress,
    timer: _Timer,
    cancelled: threading.Event,
) -> tuple[DecodedAudio | None, Transcript]:
    started = time.perf_counter()
    audio = decode_audio(path, info, options.max_pixels)
    timer.add("audio_decode", started)
    if audio is None or model_future is None or choice is None:
        report("speech", 1.0)
        return audio, Transcript()
    model = model_future.result()
    started = time.perf_counter()
    transcript = transcribe(audio.samples, model, choice.label, report.stage("speech"), cancelled)
    timer.add("speech", started)
    return audio, transcript


def run(
    path: Path,
    options: AnalysisOptions,
    progress: ProgressCallback | None,
    probing: Future[tuple[ProbeInfo, float]],
    started: float,
    known_sha256: str | None = None,
) -> Measurements:
    """See `reels_scripter.analysis.analyze`; `probing` gives the probe's facts (already
    running in its child, or already known)."""
    report = Progress(progress, weights=None)
    timer = _Timer()
    choice = resolve_model(options.whisper_model) if options.transcribe else None
    threads = options.whisper_threads or DEFAULT_WHISPER_THREADS
    # Set when the video stage fails, so the speech thread stops instead of finishing work
    # nobody will read while the pool waits for it.
    cancelled = threading.Event()

    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="analyze") as pool:
        model_future = None
        if choice is not None:

            def load() -> Any:
                t0 = time.perf_counter()
                model = load_model(choice, threads)
                timer.add("speech_model", t0)
                return model

            model_future = pool.submit(load)

        info, probe_seconds = probing.result()
        timer.timings["probe"] = round(probe_seconds, 3)
        report("probe", 1.0)

        hash_future = None if known_sha256 else pool.submit(_sha256, path)
        if info.has_audio:
            speech_future = pool.submit(
                _speech_job, path, info, options, model_future, choice, report, timer, cancelled
            )
        else:
            report("speech", 1.0)

        t0 = time.perf_counter()
        report("video", 0.0)
        try:
            video = measure_video(path, info, options, report.stage("video"))
        except BaseException:
            cancelled.set()
            raise
        timer.add("video", t0)

        audio, transcript = speech_future.result() if info.has_audio else (None, Transcript())
        sha256 = hash_future.result() if hash_future else str(known_sha256)

    t0 = time.perf_counter()
    report("audio", 0.0)
    speech_spans = [(s.start, s.end) for s in transcript.segments]
    facts = audio_facts(audio, info.duration, speech_spans)
    hook = hook_facts(
        options.hook_window,
        transcript,
        video.cuts,
        video.frame_times,
        video.frame_motion,
        audio.samples if audio is not None else None,
    )
    timer.add("audio", t0)
    report("audio", 1.0)

    notices = list(video.notices)
    if audio is not None and audio.notice is not None:
        notices.append(audio.notice)
    timer.add("total", started)
    return Measurements(
        probe=info,
        scenes=video.scenes,
        transcript=transcript,
        audio=facts,
        hook=hook,
        sha256=sha256,
        timings=timer.timings,
        notices=notices,
    )
