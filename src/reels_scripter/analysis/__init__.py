"""The measurement engine: `analyze(path)` turns a reel into typed `Measurements`.

Framework-free: nothing here imports the web, queue or database layers. Importing this
package (or `analysis.models`, which the API and worker do) stays cheap: PyAV, OpenCV and
faster-whisper are imported only when `analyze` is first called.
"""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from reels_scripter.analysis.malloc_arenas import cap_arenas
from reels_scripter.analysis.models import (
    AnalysisOptions,
    Measurements,
    ProbedVideo,
    ProbeInfo,
)
from reels_scripter.analysis.probe import probe
from reels_scripter.analysis.progress import ProgressCallback

if TYPE_CHECKING:
    from reels_scripter.analysis.speech_stage import SpeechModels

__all__ = ["AnalysisOptions", "HeadStart", "Measurements", "ProbedVideo", "analyze", "begin"]


@dataclass
class HeadStart:
    """Work `begin` started before the caller's own heavy imports: the probe (in its child
    process) and the speech models' loading (in a thread). Hand it to `analyze`."""

    path: Path
    options: AnalysisOptions
    started: float
    probing: Future[tuple[ProbeInfo, float]]
    models: Future[SpeechModels] | None
    pool: ThreadPoolExecutor


def _load_models(options: AnalysisOptions, pool: ThreadPoolExecutor) -> SpeechModels:
    from reels_scripter.analysis.engine import DEFAULT_WHISPER_THREADS
    from reels_scripter.analysis.speech_stage import SpeechModels

    threads = options.whisper_threads or DEFAULT_WHISPER_THREADS
    return SpeechModels(options.whisper_model, options.model_cache_dir, threads, pool)


def begin(video: str | Path, options: AnalysisOptions | None = None) -> HeadStart:
    """Start probing `video` and loading the speech models now, so that they run while the
    caller imports the rest of the program (the CLI does this first thing): `analyze(head)`
    then continues from there. Nothing reads the file's contents before the probe returns."""
    options = options or AnalysisOptions()
    path = Path(video)
    started = time.perf_counter()
    cap_arenas()  # before the first thread
    # Three workers: the probe, the models' construction, and their loading.
    pool = ThreadPoolExecutor(max_workers=3, thread_name_prefix="head-start")

    def timed_probe() -> tuple[ProbeInfo, float]:
        return probe(path, options), time.perf_counter() - started

    probing = pool.submit(timed_probe)
    models = pool.submit(_load_models, options, pool) if options.transcribe else None
    return HeadStart(path, options, started, probing, models, pool)


def analyze(
    video: str | Path | ProbedVideo | HeadStart,
    options: AnalysisOptions | None = None,
    progress: ProgressCallback | None = None,
) -> Measurements:
    """Validate and measure one reel: probe, then shots, speech, audio and hook facts.

    `video` is a path, or a `ProbedVideo` whose facts (and SHA-256) are already known, as
    faster-whisper's `transcribe` takes audio or a path: then nothing is probed or hashed
    again; or the `HeadStart` that `begin` returned (its options are used). `progress(stage,
    fraction)` is called from several threads with the stages "probe", "video", "speech" and
    "audio"; each stage's fraction only grows and ends at 1.0.
    Raises an `InputError` subclass for bad input, and `SpeechModelError` when transcription
    is on but no speech model can be found.
    """
    if isinstance(video, HeadStart):
        from reels_scripter.analysis.engine import run

        if progress is not None:
            progress("probe", 0.0)
        try:
            return run(
                video.path,
                video.options,
                progress,
                video.probing,
                video.started,
                models=video.models,
            )
        finally:
            video.pool.shutdown(wait=False)
    options = options or AnalysisOptions()
    if progress is not None:
        progress("probe", 0.0)
    started = time.perf_counter()
    cap_arenas()  # before the first thread
    if isinstance(video, ProbedVideo):
        known: Future[tuple[ProbeInfo, float]] = Future()
        known.set_result((video.info, 0.0))
        from reels_scripter.analysis.engine import run

        return run(video.path, options, progress, known, started, video.sha256)
    path = Path(video)
    # The probe works in a child process; the first call's heavy imports (~0.5 s) happen
    # meanwhile instead of after it. Nothing reads the file's contents before it returns.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="probe") as pool:

        def timed_probe() -> tuple[ProbeInfo, float]:
            return probe(path, options), time.perf_counter() - started

        probing = pool.submit(timed_probe)
        from reels_scripter.analysis.engine import run

        return run(path, options, progress, probing, started)
