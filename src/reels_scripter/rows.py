"""Script rows planned from measured facts: the times of the script, decided before any model.

Rows follow the measured scenes: very short shots are merged into a neighbour (nobody can
shoot a 0.4 s scene from a script), and a span longer than `MAX_ROW_SEC` is split until no
row is, at the best measured boundary it has:
1. the widest pause between words (a sentence end counts extra);
2. in a stretch without speech, the strongest visual change (from the per-frame motion
   series), or the end of the phrase before the silence;
3. failing those, a word boundary near the middle, and for a span with neither words nor a
   visual change that stands out, even parts.
Every row therefore starts on a cut, a pause, a visual change or (rarely) an even split of a
still, silent shot. No model ever chooses a time.

Words are then given to rows by when they start, except that a sentence that crosses a row
boundary by less than `SENTENCE_SPILL_SEC` is kept whole in the row that holds most of it:
a voice-over line must not stop mid-phrase because the picture cut a moment early. A longer
sentence, over three rows, has its head or tail of under a second joined to the row beside it.
The crossing is measured in speech: a recogniser stretches a phrase's last word over the
silence after it, so a word counts for at most `MAX_WORD_SEC`.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from reels_scripter.analysis.models import (
    SENTENCE_END,
    Measurements,
    SpeechSegment,
    Word,
    join_words,
    shown_in,
)
from reels_scripter.providers.base import RowPlan

MIN_ROW_SEC = 1.5
MAX_ROW_SEC = 8.0
MIN_PAUSE_SEC = 0.25
SENTENCE_SPILL_SEC = 1.0
MAX_WORD_SEC = 0.8
# A silence this long between words is a stretch where the picture may carry a row.
SILENT_STRETCH_SEC = 1.0
# A visual change "stands out" when it is this many times the span's median change.
CHANGE_STANDOUT = 2.0


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


@dataclass(frozen=True)
class _Change:
    """The visual change series: the strongest frame-to-frame change per `step` seconds."""

    values: list[float]
    step: float

    def strongest(self, start: float, end: float) -> float | None:
        """Time of the strongest change in [start, end] that stands out from the rest of
        the stretch, or None."""
        lo, hi = math.ceil(start / self.step), math.floor(end / self.step)
        window = self.values[lo:hi]
        if len(window) < 2:
            return None
        ordered = sorted(window)
        median = ordered[len(ordered) // 2]
        best = max(range(len(window)), key=window.__getitem__)
        if window[best] <= 0 or window[best] < CHANGE_STANDOUT * median:
            return None
        return round((lo + best) * self.step, 2)


def _ends_sentence(word: Word) -> bool:
    return bool(SENTENCE_END.search(word.text.strip()))


def _best_cut(span: _Span, words: list[Word], change: _Change, min_len: float) -> float | None:
    """The best measured boundary inside `span` that leaves both sides at least min_len."""
    start, end = span.start, span.end
    inside = [w for w in words if start <= w.start < end]
    candidates: list[tuple[float, float]] = []  # (score, time)

    def add(t: float, score: float) -> None:
        if t - start < min_len or end - t < min_len:
            return
        centrality = 1.0 - abs((t - start) / (end - start) - 0.5)
        candidates.append((score + 0.2 * centrality, t))

    for prev, nxt in itertools.pairwise(inside):
        gap = nxt.start - prev.end
        if gap >= MIN_PAUSE_SEC:
            add(nxt.start, min(gap, 2.0) + (0.5 if _ends_sentence(prev) else 0.0))
    # Stretches without speech: before the first word, between distant words, after the last.
    edges = [start, *[t for w in inside for t in (w.start, w.end)], end]
    for silent_start, silent_end in zip(edges[::2], edges[1::2], strict=False):
        if silent_end - silent_start < SILENT_STRETCH_SEC:
            continue
        at = change.strongest(silent_start, silent_end)
        if at is not None:
            add(at, 1.5)
        if silent_start > start:  # the end of the phrase before the silence
            add(round(silent_start + MIN_PAUSE_SEC, 2), 1.0)
    if candidates:
        return max(candidates)[1]
    # Continuous speech with no pause: the word boundary nearest the middle, sentence ends first.
    middle = (start + end) / 2
    boundaries = [
        (0 if _ends_sentence(prev) else 1, abs(nxt.start - middle), nxt.start)
        for prev, nxt in itertools.pairwise(inside)
        if nxt.start - start >= min_len and end - nxt.start >= min_len
    ]
    return min(boundaries)[2] if boundaries else None


def _split_long(
    span: _Span, words: list[Word], change: _Change, max_len: float, min_len: float
) -> list[_Span]:
    length = span.end - span.start
    if length <= max_len:
        return [span]
    cut = _best_cut(span, words, change, min_len)
    if cut is None:
        # A still, silent stretch: even parts, the fewest that fit.
        parts = math.ceil(length / max_len)
        bounds = [round(span.start + length * i / parts, 2) for i in range(parts)] + [span.end]
        return [
            _Span(a, b, span.scenes if i == 0 else [span.scenes[-1]])
            for i, (a, b) in enumerate(itertools.pairwise(bounds))
        ]
    left = _Span(span.start, cut, span.scenes)
    right = _Span(cut, span.end, [span.scenes[-1]])
    return _split_long(left, words, change, max_len, min_len) + _split_long(
        right, words, change, max_len, min_len
    )


def _scene_at(m: Measurements, t: float) -> int:
    for scene in m.scenes:
        if scene.start - 1e-6 <= t < scene.end:
            return scene.index
    return m.scenes[-1].index if m.scenes else 0


def _sentences(words: list[Word]) -> list[list[int]]:
    """Indexes of `words` grouped into sentences (a sentence ends at . ! ? …)."""
    out: list[list[int]] = [[]]
    for i, word in enumerate(words):
        out[-1].append(i)
        if _ends_sentence(word):
            out.append([])
    return [s for s in out if s]


def assign_words(words: list[Word], bounds: list[float]) -> list[int]:
    """The row of each word: where it starts, except that a sentence crossing a row boundary
    by less than SENTENCE_SPILL_SEC goes whole to the row holding most of it."""

    def row_of(t: float) -> int:
        for i in range(len(bounds) - 2, -1, -1):
            if t >= bounds[i] - 1e-6:
                return i
        return 0

    rows = [row_of(w.start) for w in words]
    for sentence in _sentences(words):
        first, last = rows[sentence[0]], rows[sentence[-1]]
        if first == last:
            continue
        begin = words[sentence[0]].start
        finish = max(min(words[i].end, words[i].start + MAX_WORD_SEC) for i in sentence)
        head = bounds[first + 1] - begin  # how long it runs in its first row
        tail = finish - bounds[last]  # ...and in its last
        if last == first + 1:
            if min(head, tail) < SENTENCE_SPILL_SEC:
                target = first if tail <= head else last
                for i in sentence:
                    rows[i] = target
            continue
        # over three rows or more: only a fragment under a second joins the row beside it
        for i in sentence:
            if rows[i] == last and tail < SENTENCE_SPILL_SEC:
                rows[i] = last - 1
            elif rows[i] == first and head < SENTENCE_SPILL_SEC:
                rows[i] = first + 1
    return rows


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
    change = _Change(m.visual_change, m.visual_change_step)
    split: list[_Span] = []
    for span in spans:
        split.extend(_split_long(span, words, change, max_len, min_len))
    bounds = [s.start for s in split] + [split[-1].end]
    owners = assign_words(words, bounds)
    rows: list[RowPlan] = []
    for i, span in enumerate(split):
        spoken = join_words(w for w, owner in zip(words, owners, strict=True) if owner == i)
        start, end = round(span.start, 2), round(span.end, 2)
        rows.append(
            RowPlan(
                id=i,
                start=start,
                end=end,
                scene=_scene_at(m, span.start),
                scenes=sorted(set(span.scenes)),
                speech=spoken.strip(),
                captions=shown_in(m.onscreen_text, start, end),
            )
        )
    return rows
