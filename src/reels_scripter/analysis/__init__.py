"""The measurement engine: `analyze(path)` turns a reel into typed `Measurements`.

Framework-free: nothing here imports the web, queue or database layers. Importing this
package (or `analysis.models`, which the API and worker do) stays cheap: PyAV, OpenCV and
faster-whisper are imported only when `analyze` is first called.
"""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from reels_scripter.analysis.models import (
    AnalysisOptions,
    Measurements,
    ProbedVideo,
    ProbeInfo,
)
from reels_scripter.analysis.probe import probe
from reels_scripter.analysis.progress import ProgressCallback

__all__ = ["AnalysisOptions", "Measurements", "ProbedVideo", "analyze"]


def analyze(
    video: str | Path | ProbedVideo,
    options: AnalysisOptions | None = None,
    progress: ProgressCallback | None = None,
) -> Measurements:
    """Validate and measure one reel: probe, then shots, speech, audio and hook facts.

    `video` is a path, or a `ProbedVideo` whose facts (and SHA-256) are already known, as
    faster-whisper's `transcribe` takes audio or a path: then nothing is probed or hashed
    again. `progress(stage, fraction)` is called from several threads with the stages
    "probe", "video", "speech" and "audio"; each stage's fraction only grows and ends at 1.0.
    Raises an `InputError` subclass for bad input, and `SpeechModelError` when transcription
    is on but no speech model can be found.
    """
    options = options or AnalysisOptions()
    if progress is not None:
        progress("probe", 0.0)
    started = time.perf_counter()
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
