"""Tell a line really said again from Whisper repeating itself (a decoding loop).

A creator who says "this one trick saves you an hour every day" three times gives a transcript
that compresses well, and Whisper's usual guard (gzip compression ratio above 2.4) reads that as
a loop: faster-whisper then re-decodes with temperature sampling (random words, now and then
none at all). The transcription is decoded greedily or by beam search at temperature 0 only,
so the same audio always gives the same words; this module then checks each repeated run of
words against the sound itself. An occurrence after the first is real when:
- voice activity finds speech under at least half of its span;
- it lasts about as long as the first (within a factor of two: people speed up, not that much);
- its sound matches the first: the mean cosine distance of their cepstral frames along the best
  time alignment (dynamic time warping) is at most `MAX_DISTANCE`. Measured on espeak-ng: the
  same line 0.02 slower, 0.08 in another accent, 0.35 in another voice, 0.36 under noise at
  -20 dB; another line 0.42 in the same voice, 0.54 in another. The check is loose on
  purpose (dropping a line that was said is the failure being fixed); the loops Whisper
  makes are caught first by the two checks above: text that runs on over music or
  silence, or words squeezed into a fraction of the time.
An occurrence that fails is a decoding loop and is removed; the first one stays.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from reels_scripter.analysis.models import SpeechSegment, Word, join_words
from reels_scripter.analysis.voice_activity import Span, overlap

RATE = 16_000
# Only runs this long are checked: "very, very" is ordinary speech.
MIN_RUN_WORDS = 6
MAX_UNIT_WORDS = 40
MIN_VOICED_SHARE = 0.5
MAX_DURATION_RATIO = 2.0
MAX_DISTANCE = 0.45
# log-mel frames are 10 ms; pairs are averaged (20 ms) to keep the alignment cheap
# (~0.03 CPU-s for two 3 s occurrences)
FRAME_POOL = 2

Features = Callable[[npt.NDArray[np.float32]], npt.NDArray[np.float32]]


@dataclass(frozen=True)
class Run:
    start: int  # index of the run's first word
    unit: int  # words in one occurrence
    count: int  # occurrences, >= 2

    def occurrence(self, k: int) -> range:
        first = self.start + k * self.unit
        return range(first, first + self.unit)


def _token(text: str) -> str:
    return re.sub(r"[^\w']+", "", text.lower())


def repeated_runs(tokens: Sequence[str], min_words: int = MIN_RUN_WORDS) -> list[Run]:
    """Runs of one unit of words said two or more times back to back, covering at least
    `min_words` words, left to right, longest coverage first at each position."""
    runs: list[Run] = []
    n = len(tokens)
    i = 0
    while i < n:
        best: Run | None = None
        for unit in range(1, min(MAX_UNIT_WORDS, (n - i) // 2) + 1):
            pattern = tokens[i : i + unit]
            count = 1
            while tokens[i + count * unit : i + (count + 1) * unit] == pattern:
                count += 1
            if count >= 2 and (best is None or count * unit > best.count * best.unit):
                best = Run(i, unit, count)
        if best is not None and best.count * best.unit >= min_words:
            runs.append(best)
            i += best.count * best.unit
        else:
            i += 1
    return runs


def _cepstra(features: Features, samples: npt.NDArray[np.float32], span: Span) -> np.ndarray:
    """Unit-length cepstral frames (MFCC 1-13 of Whisper's log-mel, 20 ms, mean removed)."""
    clip = samples[int(span[0] * RATE) : int(span[1] * RATE)]
    mel = np.asarray(features(clip), dtype=np.float64)  # (bins, frames)
    bins = mel.shape[0]
    dct = np.cos(np.pi / bins * (np.arange(bins)[None, :] + 0.5) * np.arange(1, 14)[:, None])
    cep = (dct @ mel).T
    usable = len(cep) // FRAME_POOL * FRAME_POOL
    if usable == 0:
        return np.asarray(cep[:0])
    cep = cep[:usable].reshape(-1, FRAME_POOL, cep.shape[1]).mean(axis=1)
    cep -= cep.mean(axis=0)  # the channel and the voice's colour, not the words
    return np.asarray(cep / np.maximum(np.linalg.norm(cep, axis=1, keepdims=True), 1e-9))


def alignment_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean cosine distance along the cheapest monotonic alignment of two frame sequences."""
    if len(a) == 0 or len(b) == 0:
        return 1.0
    cost = (1.0 - a @ b.T).tolist()
    inf = float("inf")
    # row by row: (accumulated cost, steps) of the best path to each cell
    prev = [(0.0, 0)] + [(inf, 0)] * len(b)
    for row in cost:
        cur = [(inf, 0)]
        for j, c in enumerate(row, 1):
            best = min(prev[j - 1], prev[j], cur[j - 1])
            cur.append((best[0] + c, best[1] + 1))
        prev = cur
    total, steps = prev[-1]
    return total / steps


@dataclass(frozen=True)
class Verdict:
    run: Run
    kept: tuple[int, ...]  # occurrences judged real (0 always, when any)


def judge(
    words: Sequence[Word],
    run: Run,
    samples: npt.NDArray[np.float32],
    speech: Sequence[Span],
    features: Features,
) -> Verdict:
    """Which occurrences of `run` are in the sound (see the module doc)."""

    def span(k: int) -> Span:
        occ = run.occurrence(k)
        return (words[occ[0]].start, words[occ[-1]].end)

    def voiced(s: Span) -> bool:
        length = s[1] - s[0]
        return length > 0 and overlap([s], speech) >= MIN_VOICED_SHARE * length

    first = span(0)
    if not voiced(first):
        return Verdict(run, ())
    reference = _cepstra(features, samples, first)
    length = first[1] - first[0]
    kept = [0]
    for k in range(1, run.count):
        s = span(k)
        other = s[1] - s[0]
        if not voiced(s) or not (
            length / MAX_DURATION_RATIO <= other <= length * MAX_DURATION_RATIO
        ):
            continue
        if alignment_distance(reference, _cepstra(features, samples, s)) <= MAX_DISTANCE:
            kept.append(k)
    return Verdict(run, tuple(kept))


def remove_loops(
    segments: Sequence[SpeechSegment],
    samples: npt.NDArray[np.float32],
    speech: Sequence[Span],
    features: Features,
) -> list[SpeechSegment]:
    """`segments` without the repeated words that are not in the sound. A segment that loses
    words gets its text rebuilt from the words it keeps; one that loses all of them goes."""
    words = [(i, w) for i, s in enumerate(segments) for w in s.words or []]
    if not words:
        return list(segments)
    flat = [w for _, w in words]
    drop: set[int] = set()
    for run in repeated_runs([_token(w.text) for w in flat]):
        verdict = judge(flat, run, samples, speech, features)
        for k in range(run.count):
            if k not in verdict.kept:
                drop.update(run.occurrence(k))
    if not drop:
        return list(segments)
    kept: dict[int, list[Word]] = {}
    for n, (i, w) in enumerate(words):
        if n not in drop:
            kept.setdefault(i, []).append(w)
    out: list[SpeechSegment] = []
    for i, segment in enumerate(segments):
        if not segment.words:
            out.append(segment)
            continue
        left = kept.get(i, [])
        if len(left) == len(segment.words):
            out.append(segment)
        elif left:
            left[0] = left[0].model_copy(update={"joined": False})
            out.append(
                segment.model_copy(
                    update={
                        "start": left[0].start,
                        "end": left[-1].end,
                        "text": join_words(left),
                        "words": left,
                    }
                )
            )
    return out
