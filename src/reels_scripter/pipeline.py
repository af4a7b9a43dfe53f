"""The product's one pipeline: measure the reel, plan rows, let a provider write, compose.

Used the same way by the CLI and by the worker, so a job and `reels-scripter analyze` give
the same result for the same file and settings.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from threading import Lock

from reels_scripter.analysis.models import AnalysisOptions, Measurements, ProgressCallback
from reels_scripter.compose import compose_result
from reels_scripter.config import Settings
from reels_scripter.contract import AnalysisResult
from reels_scripter.providers.base import (
    Creative,
    Notice,
    Provider,
    ProviderError,
    RowPlan,
    WriteRequest,
)
from reels_scripter.providers.registry import get_provider
from reels_scripter.rows import plan_rows

log = logging.getLogger(__name__)

# Share of the overall progress bar each stage gets; measurement stages run concurrently,
# so the overall figure is a weighted sum of each stage's own (monotonic) fraction.
STAGE_WEIGHTS: dict[str, float] = {
    "probe": 0.03,
    "video": 0.42,
    "speech": 0.25,
    "audio": 0.05,
    "ai": 0.25,
}


class OverallProgress:
    """Turns per-stage fractions into one monotonic 0..1 figure with the latest stage name."""

    def __init__(self, callback: ProgressCallback | None) -> None:
        self._callback = callback
        self._done: dict[str, float] = {}
        self._last = 0.0
        self._lock = Lock()

    def __call__(self, stage: str, fraction: float) -> None:
        if self._callback is None:
            return
        with self._lock:
            fraction = min(max(fraction, 0.0), 1.0)
            self._done[stage] = max(self._done.get(stage, 0.0), fraction)
            total = sum(STAGE_WEIGHTS.get(s, 0.0) * f for s, f in self._done.items())
            self._last = max(self._last, min(total, 1.0))
            value = self._last
        self._callback(stage, value)


def analysis_options(settings: Settings) -> AnalysisOptions:
    return AnalysisOptions(
        max_duration=settings.max_video_duration_sec,
        max_pixels=settings.max_pixels,
        max_size_bytes=settings.max_file_size_bytes,
        probe_timeout=settings.probe_timeout_sec,
        probe_memory_mb=settings.probe_memory_mb,
        whisper_model=settings.whisper_model,
        whisper_threads=settings.whisper_threads,
    )


def write_keyframes(m: Measurements, directory: Path) -> dict[int, str]:
    directory.mkdir(parents=True, exist_ok=True)
    written: dict[int, str] = {}
    for scene in m.scenes:
        if scene.keyframe_jpeg:
            path = directory / f"scene_{scene.index:03d}.jpg"
            path.write_bytes(scene.keyframe_jpeg)
            written[scene.index] = str(path)
    return written


def _write_creative(
    m: Measurements,
    rows: list[RowPlan],
    path: Path,
    settings: Settings,
    provider: Provider,
    video_uri: str | None,
) -> tuple[Creative, str, list[str]]:
    """The provider's words; with AI_FALLBACK, a failed provider's part is written by another.

    A partial answer does not get here as a failure: the provider keeps what is valid and fills
    the rest itself (`Creative.filled_by_local`). Only "no usable answer" falls back.
    """
    request = WriteRequest(
        measurements=m,
        rows=rows,
        video_path=path,
        target_language=settings.target_language,
        video_uri=video_uri,
    )
    provider_name = provider.name
    try:
        return provider.write(request), provider_name, []
    except ProviderError as exc:
        fallback = settings.ai_fallback
        if not fallback or fallback == provider_name:
            raise
        log.warning(
            "AI provider %s failed (%s: %s); falling back to %s",
            provider_name,
            exc.code,
            exc.message,
            fallback,
        )
        creative = get_provider(fallback, settings).write(request)
        notice = Notice(
            code="ai_fallback",
            params={"provider": provider_name, "fallback": fallback, "reason": exc.code},
        )
        return creative.model_copy(update={"notices": [notice, *creative.notices]}), fallback, []


def analyze_reel(
    path: Path,
    settings: Settings,
    *,
    provider: str | None = None,
    progress: ProgressCallback | None = None,
    keyframes_dir: Path | None = None,
    keyframes_by_sha: bool = False,
    video_uri: str | None = None,
    sha256: str | None = None,
) -> AnalysisResult:
    """Measure `path` and return the full contract written by `provider` (default: settings)."""
    from reels_scripter.analysis import analyze  # heavy imports only when analysing

    # resolve the provider first: a misnamed one should fail before minutes of measuring
    chosen = get_provider(provider or settings.ai_provider, settings)
    overall = OverallProgress(progress)
    options = analysis_options(settings).model_copy(update={"known_sha256": sha256})
    m = analyze(path, options, progress=overall)
    rows = plan_rows(m)
    overall("ai", 0.0)
    started = time.perf_counter()
    creative, used, warnings = _write_creative(m, rows, Path(path), settings, chosen, video_uri)
    ai_seconds = time.perf_counter() - started
    overall("ai", 1.0)
    keyframes = None
    if keyframes_dir is not None:
        target = keyframes_dir / m.sha256[:16] if keyframes_by_sha else keyframes_dir
        keyframes = write_keyframes(m, target)
    return compose_result(
        m,
        rows,
        creative,
        provider=used,
        target_language=settings.target_language,
        keyframes=keyframes,
        warnings=warnings,
        timings={"ai": round(ai_seconds, 3)},
    )
