"""Script rows planned from measured facts: the times of the script, decided before any model.

Rows follow the measured scenes: very short shots are merged into a neighbour (nobody can
shoot a 0.4 s scene from a script), long ones are split at the widest speech pause, so every
row starts on a measured boundary — a cut or a pause between words. No model ever chooses
a time.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from reels_scripter.analysis.models import Measurements, SpeechSegment, Word
from reels_scripter.providers.base import RowPlan

MIN_ROW_SEC = 1.5
MAX_ROW_SEC = 8.0
MIN_PAUSE_SEC = 0.25


@dataclass
class _Span:
    start: float
    end: float
    scenes: list[int]


def _words(segments: list[SpeechSegment]) -> list[Word]:
    words: list[Word] = []
    for seg in segments:
        if seg.words:
            words.extend(seg.words)
        elif seg.text.strip():
            # no word timings: treat the whole segment as one "word" so it still lands in a row
            words.append(Word(start=seg.start, end=seg.end, text=seg.text.strip()))
    return sorted(words, key=lambda w: w.start)


def _merge_short(spans: list[_Span], min_len: float) -> list[_Span]:
    merged: list[_Span] = []
    for span in spans:
        if merged and (
            span.end - span.start < min_len or merged[-1].end - merged[-1].start < min_len
        ):
            last = merged[-1]
            merged[-1] = _Span(last.start, span.end, last.scenes + span.scenes)
        else:
            merged.append(span)
    # A short last span was merged by the loop itself, so no row can end short unless the
    # whole reel is shorter than min_len.
    return merged


def _best_pause(words: list[Word], start: float, end: float, min_len: float) -> float | None:
    """The start of the word after the widest pause that leaves both halves at least min_len."""
    best: tuple[float, float] | None = None
    for prev, nxt in itertools.pairwise(words):
        gap = nxt.start - prev.end
        cut = nxt.start
        if gap < MIN_PAUSE_SEC or cut - start < min_len or end - cut < min_len:
            continue
        # prefer wide pauses, and among similar ones the most central
        centrality = 1.0 - abs((cut - start) / (end - start) - 0.5)
        score = gap + 0.2 * centrality
        if best is None or score > best[0]:
            best = (score, cut)
    return None if best is None else best[1]


def _split_long(span: _Span, words: list[Word], max_len: float, min_len: float) -> list[_Span]:
    if span.end - span.start <= max_len:
        return [span]
    inside = [w for w in words if span.start <= w.start < span.end]
    cut = _best_pause(inside, span.start, span.end, min_len)
    if cut is None:
        return [span]
    left = _Span(span.start, cut, span.scenes)
    right = _Span(cut, span.end, [span.scenes[-1]])
    return _split_long(left, words, max_len, min_len) + _split_long(right, words, max_len, min_len)


def _scene_at(m: Measurements, t: float) -> int:
    for scene in m.scenes:
        if scene.start - 1e-6 <= t < scene.end:
            return scene.index
    return m.scenes[-1].index if m.scenes else 0


def plan_rows(
    m: Measurements, *, min_len: float = MIN_ROW_SEC, max_len: float = MAX_ROW_SEC
) -> list[RowPlan]:
    """Script rows on measured boundaries, each with the speech spoken inside it."""
    duration = m.duration
    if m.scenes:
        spans = [_Span(s.start, s.end, [s.index]) for s in m.scenes]
    else:
        spans = [_Span(0.0, duration, [0])]
    spans = _merge_short(spans, min_len)
    words = _words(m.transcript.segments)
    split: list[_Span] = []
    for span in spans:
        split.extend(_split_long(span, words, max_len, min_len))
    rows: list[RowPlan] = []
    for i, span in enumerate(split):
        spoken = " ".join(w.text.strip() for w in words if span.start <= w.start < span.end)
        rows.append(
            RowPlan(
                id=i,
                start=round(span.start, 2),
                end=round(span.end, 2),
                scene=_scene_at(m, span.start),
                scenes=sorted(set(span.scenes)),
                speech=spoken.strip(),
            )
        )
    return rows
