"""The result contract composed from measured rows and a provider's words.

`compose_result` takes every time from the planned rows and the measurements, and only words
from the provider, so no model ever decides when something happens.
"""

from __future__ import annotations

from reels_scripter.analysis.models import Measurements, Notice
from reels_scripter.captions import row_caption
from reels_scripter.contract import (
    AnalysisResult,
    Meta,
    Original,
    ScriptRow,
    Timeline,
    TimelineColour,
    TimelineScene,
    TimelineSpeech,
    VideoInfo,
)
from reels_scripter.fit import ROWS_TOO_LONG, fit_row, measure_pace
from reels_scripter.providers.base import Creative, ProviderError, RowPlan
from reels_scripter.texts import colour_label, interval_unit, notice_text, russian_prose


def format_seconds(value: float) -> str:
    rounded = round(value, 1)
    return str(int(rounded)) if rounded == int(rounded) else f"{rounded:.1f}"


def format_interval(start: float, end: float, language: str = "ru") -> str:
    return f"{format_seconds(start)}-{format_seconds(end)} {interval_unit(language)}"


def render_notices(notices: list[Notice], language: str) -> list[str]:
    """Notices as a person reads them; the English detail where the catalog has no text."""
    return [notice_text(n.code, language, n.params) or n.detail or n.code for n in notices]


def _as_russian_prose(creative: Creative) -> Creative:
    """Every provider's Russian with a decimal comma and non-breaking spaces (the local provider
    writes it so; an AI may not). A line kept in another language is left as it was said."""
    keys = [
        k.model_copy(
            update={
                "title": russian_prose(k.title),
                "description": russian_prose(k.description),
                "evidence": [russian_prose(e) for e in k.evidence],
            }
        )
        for k in creative.keys
    ]
    rows = [
        r.model_copy(
            update={
                "visual": russian_prose(r.visual),
                "note": russian_prose(r.note),
                "text": r.text if r.text_language else russian_prose(r.text),
            }
        )
        for r in creative.rows
    ]
    recommendations = [
        r.model_copy(update={"text": russian_prose(r.text)}) for r in creative.recommendations
    ]
    hook = creative.hook_type
    if hook is not None:
        hook = hook.model_copy(update={"evidence": russian_prose(hook.evidence)})
    return creative.model_copy(
        update={
            "keys": keys,
            "rows": rows,
            "recommendations": recommendations,
            "hook_type": hook,
            "translation": russian_prose(creative.translation),
        }
    )


def _fit_notices(script: list[ScriptRow]) -> list[Notice]:
    """A warning naming the rows whose line cannot be said in the row's time. An original line
    kept untranslated (`text_language`) is not what the creator will say: its fit is shown, but
    it is not warned about."""
    long = [
        r
        for r in script
        if r.fit is not None and r.fit.status == "too_long" and r.text_language is None
    ]
    if not long:
        return []
    return [
        Notice.of(
            ROWS_TOO_LONG,
            f"{len(long)} script row(s) too long to say at the reel's pace",
            rows=[script.index(r) for r in long],
            spans=[[r.start, r.end] for r in long],
        )
    ]


def compose_result(
    m: Measurements,
    rows: list[RowPlan],
    creative: Creative,
    *,
    provider: str,
    target_language: str,
    keyframes: dict[int, str] | None = None,
    notices: list[Notice] | None = None,
    timings: dict[str, float] | None = None,
) -> AnalysisResult:
    """The contract: times from `rows` (measured), words from `creative` (the provider)."""
    if target_language.lower().startswith("ru"):
        creative = _as_russian_prose(creative)
    by_id = {c.id: c for c in creative.rows}
    missing = [r.id for r in rows if r.id not in by_id]
    if missing:
        raise ProviderError(f"The AI answer has no text for script rows {missing}")
    pace = measure_pace(m.transcript)
    script = [
        ScriptRow(
            time=format_interval(r.start, r.end, target_language),
            start=r.start,
            end=r.end,
            scene=r.scene,
            visual=by_id[r.id].visual,
            text=by_id[r.id].text,
            note=by_id[r.id].note,
            text_language=by_id[r.id].text_language,
            fit=fit_row(
                by_id[r.id].text,
                by_id[r.id].text_language or target_language,
                r.end - r.start,
                pace,
            ),
            onscreen=row_caption(
                r.captions,
                by_id[r.id].onscreen,
                target_language=target_language,
                spoken_language=m.transcript.language,
            ),
        )
        for r in rows
    ]
    keyframes = keyframes or {}
    all_notices = [*m.notices, *creative.notices, *(notices or []), *_fit_notices(script)]
    p = m.probe
    timeline = Timeline(
        duration=round(m.duration, 3),
        scenes=[
            TimelineScene(
                index=s.index,
                start=round(s.start, 3),
                end=round(s.end, 3),
                keyframe=keyframes.get(s.index),
                shot_scale=s.shot_scale,
                brightness=round(s.brightness, 3),
                motion=round(s.motion, 4),
                faces=s.faces,
                camera=s.camera,
                colours=[
                    TimelineColour.model_validate(
                        {**c.model_dump(), "name_ru": colour_label(c.name, "ru")}
                    )
                    for c in s.colours
                ],
                contrast=s.contrast,
                onscreen_text=s.onscreen_text,
            )
            for s in m.scenes
        ],
        speech=[
            TimelineSpeech(start=s.start, end=s.end, text=s.text.strip(), words=s.words)
            for s in m.transcript.segments
        ],
        audio=m.audio,
        hook=m.hook,
        onscreen_text=m.onscreen_text,
    )
    meta = Meta(
        provider=provider,
        model=creative.model,
        source_language=m.transcript.language,
        source_language_probability=m.transcript.language_probability,
        speech_model=m.transcript.model,
        target_language=target_language,
        warnings=[
            *render_notices(all_notices, target_language),
            *creative.warnings,
        ],
        notices=all_notices,
        timings={**m.timings, **(timings or {})},
        usage=creative.usage,
        filled_by_local=creative.filled_by_local,
        sha256=m.sha256,
        video=VideoInfo.model_validate({**p.model_dump(), "fps": round(p.fps, 3)}),
        pace=pace,
    )
    original = Original(
        transcription=creative.transcription
        if creative.transcription is not None
        else m.transcript.text,
        translation=creative.translation,
        language=m.transcript.language,
    )
    return AnalysisResult(
        original=original,
        keys=creative.keys,
        script=script,
        recommendations=creative.recommendations,
        timeline=timeline,
        meta=meta,
        hook_type=creative.hook_type,
    )
