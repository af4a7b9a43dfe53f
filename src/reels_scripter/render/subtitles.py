"""Subtitles (SRT, WebVTT) from a result: pure functions, no I/O.

Two tracks:

* `original`: cues built from the measured word timings of the speech, so every cue appears
  when its words are said.
* `translation`: only when the speech was translated (foreign speech and a non-empty
  `original.translation`); without a translation there is no such track. There are no word
  timings for a translation, so each script row's voice-over `text` is shown while the row's
  speech is said: the row's spoken runs (words, or segments without word timings, split at
  pauses) share its pieces by length, and a row with no speech in it shows nothing. Rows
  whose text is only a bracketed direction, such as "(без текста — говорит картинка)", and
  rows kept untranslated (`text_language`) are not translations and are left out.

Rules for every cue: at most two lines of at most 42 characters, at least one second on
screen, no overlaps, breaks at sentence ends first and at clause marks or pauses next.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from reels_scripter.analysis.models import SENTENCE_BREAK, SENTENCE_END, Word
from reels_scripter.contract import AnalysisResult
from reels_scripter.errors import AppError

Track = Literal["original", "translation"]
TRACKS: tuple[Track, ...] = ("original", "translation")

MAX_LINE_CHARS = 42
MAX_LINES = 2
MIN_CUE_SEC = 1.0
MAX_CUE_SEC = 7.0
# A silence this long between two words ends a cue even mid-sentence.
PAUSE_BREAK_SEC = 0.8

_CLAUSE_END = re.compile(r"[,;:—–]$")
# Pieces joined to the previous one without a space. `Word.joined` says so for every piece the
# recogniser wrote without a leading space; this pattern covers results stored before it existed
# (Whisper splits "ill-disposed" as "ill" "-disposed") and bare punctuation.
_ATTACHED = re.compile(r"^(?:[,.!?;:%…)»\]]|-\w|'\w|’\w|n't\b)")
_CLAUSE_SPLIT = re.compile(r"(?<=[,;:])\s+|\s+(?=[—–]\s)")
_DIRECTION = re.compile(r"^\s*[(\[][^()\[\]]*[)\]]\s*$")


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


class NoSubtitlesError(AppError, code="no_subtitles", http_status=409):
    """The requested track has no text to make subtitles from."""


class NoTranslationError(AppError, code="no_translation", http_status=409):
    """The translation track was asked for, but the speech was not translated."""


def join_words(tokens: Sequence[str | Word]) -> str:
    """Words as spoken: `Word.joined` pieces and punctuation take no space before them."""
    text = ""
    for raw in tokens:
        joined = isinstance(raw, Word) and raw.joined
        token = (raw.text if isinstance(raw, Word) else raw).strip()
        if not token:
            continue
        if text and not joined and not _ATTACHED.match(token):
            text += " "
        text += token
    return text


def fits(text: str) -> bool:
    """Whether `text` can be laid out in at most two lines of at most 42 characters."""
    return wrap(text) is not None


def wrap(text: str) -> tuple[str, ...] | None:
    """Lay `text` out in <= 2 lines of <= 42 characters, as balanced as possible; None if it
    cannot be done without breaking a word."""
    words = text.split()
    if not words:
        return None
    one = " ".join(words)
    if len(one) <= MAX_LINE_CHARS:
        return (one,)
    best: tuple[float, tuple[str, str]] | None = None
    for i in range(1, len(words)):
        first, second = " ".join(words[:i]), " ".join(words[i:])
        if len(first) > MAX_LINE_CHARS or len(second) > MAX_LINE_CHARS:
            continue
        # balanced lines read best; a break after punctuation reads better still
        score = abs(len(first) - len(second))
        if _CLAUSE_END.search(first) or SENTENCE_END.search(first):
            score -= 8
        if best is None or score < best[0]:
            best = (score, (first, second))
    return best[1] if best else None


def _pack(parts: list[str]) -> list[str]:
    """Join neighbouring parts while the result still fits one cue."""
    packed: list[str] = []
    for part in parts:
        if packed and fits(f"{packed[-1]} {part}"):
            packed[-1] = f"{packed[-1]} {part}"
        else:
            packed.append(part)
    return packed


def _balanced(text: str) -> list[str]:
    """The fewest pieces of about equal length that each fit a cue, cut between words."""
    words = [w for part in text.split() for w in _split_long_word(part)]
    pieces = max(1, math.ceil(len(text) / (MAX_LINE_CHARS * MAX_LINES)))
    while True:
        target = len(text) / pieces
        groups: list[list[str]] = [[]]
        for word in words:
            if groups[-1] and len(" ".join([*groups[-1], word])) > target and len(groups) < pieces:
                groups.append([])
            groups[-1].append(word)
        texts = [" ".join(g) for g in groups if g]
        if all(fits(t) for t in texts):
            return texts
        pieces += 1


def _chunks(text: str) -> list[str]:
    """Split a text into cue-sized pieces: whole sentences where they fit, then clauses,
    then balanced runs of words."""
    pieces: list[str] = []
    for sentence in _pack(SENTENCE_BREAK.split(text.strip())):
        if fits(sentence):
            pieces.append(sentence)
            continue
        for clause in _pack(_CLAUSE_SPLIT.split(sentence)):
            pieces.extend([clause] if fits(clause) else _balanced(clause))
    return [p for p in pieces if p]


def _split_long_word(word: str) -> list[str]:
    # a "word" longer than a line (a URL, a run of emoji) is cut so that layout never fails
    return [word[i : i + MAX_LINE_CHARS] for i in range(0, len(word), MAX_LINE_CHARS)] or [word]


@dataclass
class _Draft:
    start: float
    end: float
    text: str


def _word_drafts(words: list[Word]) -> list[_Draft]:
    drafts: list[_Draft] = []
    tokens: list[Word] = []
    start = end = 0.0

    def close() -> None:
        nonlocal tokens
        text = join_words(tokens)
        if text:
            drafts.append(_Draft(start, end, text))
        tokens = []

    for i, word in enumerate(words):
        piece = word.text.strip()
        if not piece:
            continue
        if tokens:
            candidate = join_words([*tokens, word])
            too_long = word.end - start > MAX_CUE_SEC
            paused = word.start - end >= PAUSE_BREAK_SEC
            if not fits(candidate) or too_long or paused:
                close()
        if not tokens:
            start = word.start
        tokens.append(word)
        end = max(end, word.end) if len(tokens) > 1 else word.end
        text = join_words(tokens)
        sentence_done = bool(SENTENCE_END.search(piece))
        clause_done = bool(_CLAUSE_END.search(piece)) and len(text) >= MAX_LINE_CHARS
        # A sentence ends the cue, unless the cue could not get a second on screen (from
        # the previous cue's end to the next word) and would push everything after it.
        next_start = words[i + 1].start if i + 1 < len(words) else float("inf")
        room = next_start - (drafts[-1].end if drafts else 0.0)
        if (sentence_done and (end - start >= MIN_CUE_SEC or room >= MIN_CUE_SEC)) or clause_done:
            close()
    close()
    return drafts


def _segment_drafts(start: float, end: float, text: str) -> list[_Draft]:
    """Cues for a text said between start and end with no word timings: the time is shared
    among the pieces by their length, and a piece that would get under a second is joined
    to a neighbour when the two still fit one cue."""
    pieces = _chunks(text)
    length = end - start
    joined = True
    while joined and len(pieces) > 1:
        joined = False
        total = sum(len(p) for p in pieces)
        for i, piece in enumerate(pieces):
            if length * len(piece) / total >= MIN_CUE_SEC:
                continue
            neighbours = [j for j in (i - 1, i + 1) if 0 <= j < len(pieces)]
            for j in sorted(neighbours, key=lambda j: len(pieces[j])):
                a, b = min(i, j), max(i, j)
                both = f"{pieces[a]} {pieces[b]}"
                if fits(both):
                    pieces[a : b + 1] = [both]
                    joined = True
                    break
            if joined:
                break
    total = sum(len(p) for p in pieces) or 1
    drafts: list[_Draft] = []
    t = start
    for piece in pieces:
        share = length * len(piece) / total
        drafts.append(_Draft(t, t + share, piece))
        t += share
    return drafts


def _timed(drafts: list[_Draft]) -> list[Cue]:
    """Enforce the timing rules: in order, no overlaps, each at least MIN_CUE_SEC long.

    Works in whole milliseconds (what SRT and WebVTT can say), so a rule that holds here
    holds in the file too.
    """
    ordered = sorted(drafts, key=lambda d: d.start)
    min_ms = round(MIN_CUE_SEC * 1000)
    cues: list[Cue] = []
    previous_end = 0
    for i, d in enumerate(ordered):
        lines = wrap(d.text)
        if lines is None:  # cannot happen for drafts built here; never emit a broken cue
            continue
        start = max(round(d.start * 1000), previous_end)
        end = max(round(d.end * 1000), start)
        if end - start < min_ms:
            # show it a little longer (up to the next cue), then a little earlier (back to
            # the previous one), and only then push it later
            following = round(ordered[i + 1].start * 1000) if i + 1 < len(ordered) else end
            end = max(end, min(start + min_ms, following))
            start = max(previous_end, min(start, end - min_ms))
            end = max(end, start + min_ms)
        cues.append(Cue(start / 1000, end / 1000, lines))
        previous_end = end
    return cues


def original_cues(result: AnalysisResult) -> list[Cue]:
    drafts: list[_Draft] = []
    for segment in result.timeline.speech:
        if segment.words:
            drafts.extend(_word_drafts(segment.words))
        elif segment.text.strip():
            drafts.extend(_segment_drafts(segment.start, segment.end, segment.text))
    return _timed(drafts)


def has_translation(result: AnalysisResult) -> bool:
    """Whether the speech was translated: there is a translation track only then. Lines the
    creator wrote into the script (edited rows in the target language) count: they are the
    voice-over, whether or not an AI translated the rest."""
    if any(row.edited and row.text.strip() and not row.text_language for row in result.script):
        return True
    original = result.original
    source = original.language or result.meta.source_language
    target = result.meta.target_language
    translation = original.translation.strip()
    if not translation or not original.transcription.strip():
        return False
    if source and target and source.split("-")[0] == target.split("-")[0]:
        return False  # spoken in the target language: nothing was translated
    return translation != original.transcription.strip()


def spoken_runs(result: AnalysisResult) -> list[tuple[float, float]]:
    """When something is said: runs of words without a pause of PAUSE_BREAK_SEC or more
    (segments without word timings count whole)."""
    spans: list[tuple[float, float]] = []
    for segment in result.timeline.speech:
        if segment.words:
            spans += [(w.start, w.end) for w in segment.words if w.text.strip()]
        elif segment.text.strip():
            spans.append((segment.start, segment.end))
    runs: list[tuple[float, float]] = []
    for start, end in sorted(spans):
        if runs and start - runs[-1][1] < PAUSE_BREAK_SEC:
            runs[-1] = (runs[-1][0], max(runs[-1][1], end))
        else:
            runs.append((start, end))
    return runs


def _row_drafts(text: str, runs: list[tuple[float, float]]) -> list[_Draft]:
    """A row's text over the row's spoken runs: laid end to end, the runs share the text's
    pieces by length; each piece goes to the run that holds its middle."""
    pieces = _chunks(text)
    spoken = sum(end - start for start, end in runs)
    total = sum(len(p) for p in pieces)
    if not pieces or spoken <= 0 or total <= 0:
        return []
    groups: list[list[str]] = [[] for _ in runs]
    done = 0
    for piece in pieces:
        middle = (done + len(piece) / 2) / total * spoken
        done += len(piece)
        elapsed = 0.0
        for i, (start, end) in enumerate(runs):
            elapsed += end - start
            if middle <= elapsed or i == len(runs) - 1:
                groups[i].append(piece)
                break
    drafts: list[_Draft] = []
    for (start, end), group in zip(runs, groups, strict=True):
        if group:
            drafts.extend(_segment_drafts(start, end, " ".join(group)))
    return drafts


def translation_cues(result: AnalysisResult) -> list[Cue]:
    if not has_translation(result):
        raise NoTranslationError("the speech was not translated")
    runs = spoken_runs(result)
    drafts: list[_Draft] = []
    for row in result.script:
        text = " ".join(row.text.split())
        if not text or _DIRECTION.match(text) or row.text_language:
            continue
        inside = [
            (max(start, row.start), min(end, row.end))
            for start, end in runs
            if min(end, row.end) - max(start, row.start) > 0.05
        ]
        drafts.extend(_row_drafts(text, inside))
    return _timed(drafts)


def cues_for(result: AnalysisResult, track: Track) -> list[Cue]:
    """The track's cues; raises NoSubtitlesError when there is nothing to show."""
    cues = original_cues(result) if track == "original" else translation_cues(result)
    if not cues:
        raise NoSubtitlesError(f"the {track} track has no text", params={"track": track})
    return cues


def _clock(seconds: float, separator: str) -> str:
    ms = max(0, round(seconds * 1000))
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    secs, ms = divmod(ms, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{ms:03d}"


def to_srt(cues: list[Cue]) -> str:
    blocks = [
        f"{i}\n{_clock(c.start, ',')} --> {_clock(c.end, ',')}\n{c.text}\n"
        for i, c in enumerate(cues, 1)
    ]
    return "\n".join(blocks)


def to_vtt(cues: list[Cue]) -> str:
    blocks = ["WEBVTT\n"]
    blocks += [f"{_clock(c.start, '.')} --> {_clock(c.end, '.')}\n{c.text}\n" for c in cues]
    return "\n".join(blocks)


def render_srt(result: AnalysisResult, track: Track = "original") -> str:
    return to_srt(cues_for(result, track))


def render_vtt(result: AnalysisResult, track: Track = "original") -> str:
    return to_vtt(cues_for(result, track))
