"""The measurement engine: `analyze(path)` turns a reel into typed `Measurements`.

Framework-free: nothing here imports the web, queue or database layers. Importing this
package (or `analysis.models`, which the API and worker do) stays cheap: PyAV, OpenCV and
faster-whisper are imported only when `analyze` is first called.
"""

from __future__ import annotations

from pathlib import Path

from reels_scripter.analysis.models import AnalysisOptions, Measurements, ProgressCallback

__all__ = ["AnalysisOptions", "Measurements", "analyze"]


def analyze(
    path: str | Path,
    options: AnalysisOptions | None = None,
    progress: ProgressCallback | None = None,
) -> Measurements:
    """Validate and measure one reel: probe, then shots, speech, audio and hook facts.

    `progress(stage, fraction)` is called from several threads with the stages "probe",
    "video", "speech" and "audio"; each stage's fraction only grows and ends at 1.0.
    Raises an `InputError` subclass for bad input, and `SpeechModelError` when transcription
    is on but no speech model can be found.
    """
    from reels_scripter.analysis.engine import run

    return run(Path(path), options or AnalysisOptions(), progress)
