"""The product's one pipeline: measure the reel, plan rows, let a provider write, compose.

Used the same way by the CLI and by the worker, so a job and `reels-scripter analyze` give
the same result for the same file and settings.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

from reels_scripter.analysis.models import Measurements, Notice, ProbedVideo

if TYPE_CHECKING:
    from reels_scripter.analysis import HeadStart
from reels_scripter.analysis.progress import Progress, ProgressCallback
from reels_scripter.compose import compose_result
from reels_scripter.config import Settings, analysis_options
from reels_scripter.contract import AnalysisResult, Source
from reels_scripter.imports.engagement import with_source
from reels_scripter.keyframes import KeyframeSink, publish
from reels_scripter.providers.base import (
    Creative,
    Provider,
    ProviderError,
    RowPlan,
    WriteRequest,
)
from reels_scripter.providers.registry import AIChoice, get_provider
from reels_scripter.rows import plan_rows

__all__ = ["analysis_options", "analyze_reel"]

log = logging.getLogger(__name__)


def _write_creative(
    m: Measurements,
    rows: list[RowPlan],
    path: Path,
    settings: Settings,
    provider: Provider,
    video_uri: str | None,
    source: Source | None = None,
) -> tuple[Creative, str]:
    """The provider's words and the provider that wrote them; with AI_FALLBACK, a failed
    provider's part is written by another.

    A partial answer does not get here as a failure: the provider keeps what is valid and fills
    the rest itself (`Creative.filled_by_local`). Only "no usable answer" falls back.
    """
    request = WriteRequest(
        measurements=m,
        rows=rows,
        video_path=path,
        target_language=settings.target_language,
        video_mime=m.probe.mime_type,
        video_uri=video_uri,
        source=source,
    )
    provider_name = provider.name
    fallback = settings.ai_fallback
    try:
        if fallback and fallback != provider_name:
            _pass_the_circuit(provider, settings)
        return provider.write(request), provider_name
    except ProviderError as exc:
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
        notice = Notice.of(
            "ai_fallback",
            f"AI provider {provider_name!r} failed ({exc.message}); text written by {fallback!r}.",
            provider=provider_name,
            fallback=fallback,
            reason=exc.code,
        )
        return creative.model_copy(update={"notices": [notice, *creative.notices]}), fallback


def _pass_the_circuit(provider: Provider, settings: Settings) -> None:
    """Raise ProviderError (transient) while the provider's circuit is open, so the job
    goes straight to the fallback; when its cooldown is over, this job runs the probe (the
    provider's cheap check) first, and uses the provider only if the probe passes."""
    from reels_scripter.providers.circuit import circuit_for

    circuit = circuit_for(settings, provider.name)
    probe = circuit.take_probe()
    if probe is None:
        return
    if not probe:
        raise ProviderError(
            f"{provider.name} is failing repeatedly (circuit open); not called", transient=True
        )
    try:
        provider.check()
    except ProviderError:
        circuit.trip()
        raise
    circuit.success()


def analyze_reel(
    video: Path | ProbedVideo | HeadStart,
    settings: Settings,
    *,
    provider: str | AIChoice | None = None,
    progress: ProgressCallback | None = None,
    keyframes: KeyframeSink | None = None,
    video_uri: str | None = None,
    source: Source | None = None,
    notices: list[Notice] | None = None,
) -> AnalysisResult:
    """Measure the reel and return the full contract written by `provider` (a name, or an
    `AIChoice` with the studio's stored options; default: AI_PROVIDER). `video` is a path, a
    `ProbedVideo` whose facts the upload already found, or the `HeadStart` of
    `analysis.begin` (the CLI starts the probe and model loads before its imports).
    `progress(stage, overall)` gets one overall figure that never goes back. `source` (a reel
    imported by its link) goes to the AI as data and into the result; `notices` are added to
    the result's warnings."""
    from reels_scripter import analysis  # heavy imports only when analysing

    # resolve the provider first: a misnamed one should fail before minutes of measuring
    if not isinstance(provider, AIChoice):
        provider = AIChoice(provider or settings.ai_provider)
    chosen = provider.provider(settings)
    overall = Progress(progress)
    m = analysis.analyze(video, analysis_options(settings), progress=overall)
    path = video.path if isinstance(video, analysis.HeadStart | ProbedVideo) else Path(video)
    rows = plan_rows(m)
    overall("ai", 0.0)
    started = time.perf_counter()
    creative, used = _write_creative(m, rows, path, settings, chosen, video_uri, source)
    ai_seconds = time.perf_counter() - started
    overall("ai", 1.0)
    result = compose_result(
        m,
        rows,
        creative,
        provider=used,
        target_language=settings.target_language,
        keyframes=publish(m, keyframes) if keyframes is not None else None,
        notices=notices,
        timings={"ai": round(ai_seconds, 3)},
    )
    return with_source(result, source, settings.target_language)
