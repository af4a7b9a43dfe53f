"""Speech in any language: voice activity on its own, language first, then the model.

Reels speak espeak-ng text with a known transcript (tests/support/reelgen.py), so the language, the
word error rate and the time covered by speech are all known truth.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from reels_scripter.analysis.audio import RATE, decode_audio
from reels_scripter.analysis.models import AnalysisOptions
from reels_scripter.analysis.probe import probe
from reels_scripter.analysis.speech import ModelChoice, load_model, resolve_model, transcribe
from reels_scripter.analysis.speech_policy import LanguageGuess, detect_language, plan_speech
from reels_scripter.analysis.speech_stage import SpeechModels, listen
from reels_scripter.analysis.speech_window import first_window, reusing, whisper_model
from reels_scripter.analysis.voice_activity import detect_speech, transcript_coverage
from reels_scripter.analysis.whisper_base import bundled_base, package_files
from support.reelgen import SPEECH_TEXTS, espeak, make_spoken_reel, wer

OFFSET = 1.0  # where make_spoken_reel starts the speech
needs_models = pytest.mark.skipif(
    package_files() is None, reason="offline-models extra not installed"
)


def _voiced_seconds(samples: np.ndarray, rate: int) -> float:
    """Truth for speech time: 20 ms frames of the clean espeak signal above -40 dB of its
    peak, with gaps under 0.3 s (between words) counted as speech, as a listener would."""
    hop = rate // 50
    frames = samples[: len(samples) // hop * hop].reshape(-1, hop)
    level = 20 * np.log10(np.maximum(np.sqrt((frames**2).mean(axis=1)), 1e-9))
    voiced = level > level.max() - 40
    idx = np.nonzero(voiced)[0]
    gaps = np.diff(idx)
    bridged = int(voiced.sum()) + int(
        gaps[(gaps > 1) & (gaps <= 15)].sum() - ((gaps > 1) & (gaps <= 15)).sum()
    )
    return bridged * hop / rate


def _samples(path: Path) -> np.ndarray:
    audio = decode_audio(path, probe(path), AnalysisOptions().max_pixels)
    assert audio is not None
    return audio.samples


def _spoken(path: Path, voice: str, text: str | None = None, *, duration: float) -> np.ndarray:
    """The decoded sound of a reel in which `voice` says `text` (its known sample by default)
    from OFFSET on."""
    return _samples(make_spoken_reel(path, voice, text, duration=duration))


# --- voice activity ------------------------------------------------------------------------


@pytest.mark.parametrize("voice", ["es", "ru", "de"])
def test_speech_share_from_voice_activity_matches_the_spoken_time(
    tmp_path: Path, voice: str
) -> None:
    duration = 26.0
    spoken = espeak(SPEECH_TEXTS[voice], voice, RATE)
    truth = _voiced_seconds(spoken, RATE)
    presence = detect_speech(_spoken(tmp_path / f"{voice}.mp4", voice, duration=duration), duration)
    assert presence.present
    assert presence.seconds == pytest.approx(truth, rel=0.12), (presence.spans, truth)
    assert presence.share == pytest.approx(presence.seconds / duration, abs=0.002)
    assert presence.spans[0][0] == pytest.approx(OFFSET, abs=0.15)
    assert presence.spans[-1][1] == pytest.approx(OFFSET + len(spoken) / RATE, abs=0.4)


@pytest.mark.parametrize("audio", ["clicks", "tone", "silence"])
def test_no_speech_in_music_tones_or_silence(reel: Callable[..., Path], audio: str) -> None:
    presence = detect_speech(_samples(reel("n.mp4", duration=8.0, audio=audio)), 8.0)
    assert not presence.present and presence.share == 0 and presence.spans == ()


def test_speech_under_a_beat_is_still_speech(reel: Callable[..., Path]) -> None:
    path = reel("sc.mp4", duration=22.0, cuts=(), audio="speech+clicks", speech_offset=OFFSET)
    presence = detect_speech(_samples(path), 22.0)
    assert 0.6 <= presence.share <= 0.9
    assert presence.spans[0][0] == pytest.approx(OFFSET, abs=0.2)


def test_transcript_coverage_tells_untranscribed_speech_apart() -> None:
    from reels_scripter.analysis.voice_activity import SpeechPresence

    presence = SpeechPresence(((1.0, 4.0), (5.0, 9.0), (12.0, 13.0)), 8.0, 0.4)
    full = transcript_coverage(presence, [(1.1, 3.9), (5.0, 9.1), (12.1, 12.8)])
    assert full.covered_share == pytest.approx(1.0) and not full.speech_not_transcribed
    assert full.untranscribed == ()
    none = transcript_coverage(presence, [])
    assert none.covered_share == 0 and none.speech_not_transcribed
    assert none.untranscribed == presence.spans
    # one short phrase recognised out of eight seconds of speech: still "not transcribed"
    little = transcript_coverage(presence, [(12.0, 13.0)])
    assert little.speech_not_transcribed and little.untranscribed == presence.spans[:2]
    # a single missed second is not worth a warning
    most = transcript_coverage(presence, [(1.0, 4.0), (5.0, 9.0)])
    assert not most.speech_not_transcribed
    silent = transcript_coverage(SpeechPresence((), 0.0, 0.0), [])
    assert not silent.speech_not_transcribed and silent.covered_share == 1.0


# --- the model policy (pure) ---------------------------------------------------------------

EN = ModelChoice("/m/tiny.en", "tiny.en")
BASE = ModelChoice("/m/base", "base")
SMALL = ModelChoice("small", "small")


@pytest.mark.parametrize(
    ("guess", "configured", "english", "multilingual", "model", "language"),
    [
        (LanguageGuess("en", 0.92, ()), None, EN, BASE, BASE, "en"),  # base beats tiny.en
        (LanguageGuess("en", 0.92, ()), None, EN, None, EN, "en"),
        (LanguageGuess("en", 0.35, ()), None, EN, BASE, BASE, None),  # unsure: base detects
        (LanguageGuess("es", 0.90, ()), None, EN, BASE, BASE, "es"),
        (LanguageGuess("ru", 0.42, ()), None, EN, BASE, BASE, None),
        (None, None, EN, BASE, BASE, None),
        (LanguageGuess("es", 0.90, ()), None, EN, None, EN, "en"),  # base not installed
        (LanguageGuess("es", 0.90, ()), SMALL, EN, BASE, SMALL, "es"),  # WHISPER_MODEL wins
        (LanguageGuess("en", 0.95, ()), SMALL, EN, BASE, SMALL, "en"),
    ],
)
def test_plan_speech(
    guess: LanguageGuess | None,
    configured: ModelChoice | None,
    english: ModelChoice | None,
    multilingual: ModelChoice | None,
    model: ModelChoice,
    language: str | None,
) -> None:
    plan = plan_speech(guess, configured=configured, english=english, multilingual=multilingual)
    assert plan is not None and plan.model == model and plan.language == language
    assert plan.reason
    # greedy for English on base (no loss there) and for tiny.en; a beam elsewhere
    greedy = configured is None and (plan.language == "en" or plan.model == EN)
    assert plan.beam == (1 if greedy else 5)


def test_plan_speech_without_any_model() -> None:
    assert plan_speech(None, configured=None, english=None, multilingual=None) is None


# --- the real models on espeak speech ------------------------------------------------------


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = bundled_base(tmp_path_factory.mktemp("models"))
    assert base is not None
    english = resolve_model(None)
    return {
        "base": (base, load_model(base, 1)),
        "tiny.en": (english, load_model(english, 1)),
    }


def _run_policy(samples: np.ndarray, models: dict[str, Any]) -> tuple[LanguageGuess | None, Any]:
    base_choice, base_model = models["base"]
    window = first_window(base_model, samples)
    guess, encoded = detect_language(base_model, window)
    plan = plan_speech(
        guess, configured=None, english=models["tiny.en"][0], multilingual=base_choice
    )
    assert plan is not None
    loaded = base_model if plan.model == base_choice else models["tiny.en"][1]
    with reusing(loaded, window, encoded):
        return guess, transcribe(
            samples, loaded, plan.model.label, language=plan.language, beam_size=plan.beam
        )


@needs_models
@pytest.mark.slow
@pytest.mark.parametrize(("voice", "max_wer"), [("es", 0.35), ("de", 0.35)])
def test_non_english_speech_is_identified_and_transcribed_by_base(
    tmp_path: Path, models: dict[str, Any], voice: str, max_wer: float
) -> None:
    guess, transcript = _run_policy(_spoken(tmp_path / "r.mp4", voice, duration=26.0), models)
    assert guess is not None and guess.language == voice and guess.probability >= 0.8, guess
    assert transcript.model == "base" and transcript.language == voice
    assert wer(SPEECH_TEXTS[voice], transcript.text) <= max_wer, transcript.text
    words = [w for s in transcript.segments for w in s.words or []]
    assert words and words[0].start == pytest.approx(OFFSET, abs=0.4)


@needs_models
@pytest.mark.slow
def test_english_speech_goes_to_base_decoded_greedily(
    tmp_path: Path, models: dict[str, Any]
) -> None:
    samples = _spoken(tmp_path / "r.mp4", "en-us", SPEECH_TEXTS["en"], duration=14.0)
    guess, transcript = _run_policy(samples, models)
    assert guess is not None and guess.language == "en" and guess.probability >= 0.8
    assert transcript.model == "base"
    assert wer(SPEECH_TEXTS["en"], transcript.text) <= 0.1, transcript.text


@needs_models
@pytest.mark.slow
def test_russian_is_identified_even_from_robotic_speech(
    tmp_path: Path, models: dict[str, Any]
) -> None:
    samples = _spoken(tmp_path / "r.mp4", "ru", duration=18.0)
    base = models["base"][1]
    guess, _ = detect_language(base, first_window(base, samples))
    # espeak's Russian is hard to understand: base names it, without much confidence
    assert guess is not None and guess.language == "ru"
    assert all(p < guess.probability for _, p in guess.alternatives)


@needs_models
@pytest.mark.slow
def test_english_only_model_on_spanish_is_speech_not_transcribed(tmp_path: Path) -> None:
    text = "Deja de deslizar. Hoy te enseño tres trucos sencillos para grabar mejores videos."
    samples = _spoken(tmp_path / "r.mp4", "es", text, duration=8.0)
    with ThreadPoolExecutor(2) as pool:
        # WHISPER_MODEL set to an English-only model: base still identifies the language
        models = SpeechModels(resolve_model(None).source, tmp_path / "models", 1, pool)
        outcome = listen(samples, 8.0, models)
    assert outcome.presence.share >= 0.5  # the speech is measured...
    assert outcome.guess is not None and outcome.guess.language == "es"
    # ...never passed off as English it was not (tiny.en invents fluent English over it)...
    assert outcome.transcript.segments == [] and outcome.transcript.language == "es"
    assert outcome.coverage is not None and outcome.coverage.speech_not_transcribed
    [notice] = outcome.notices  # ...and its loss is named
    assert notice.code == "speech_not_transcribed" and notice.params["language"] == "es"


@needs_models
@pytest.mark.slow
def test_a_line_said_three_times_stays_three_times(tmp_path: Path, models: dict[str, Any]) -> None:
    text = "Stop scrolling now. Stop scrolling now. Stop scrolling now. Here are three tricks."
    _, transcript = _run_policy(_spoken(tmp_path / "r.mp4", "en-us", text, duration=12.0), models)
    heard = " ".join(w for w in transcript.text.lower().split())
    assert heard.count("stop") == 3, transcript.text
    assert "tricks" in heard


class _CountingEncoder:
    """A CTranslate2 Whisper with its encoder calls recorded (mel frames per pass)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.frames: list[int] = []

    def encode(self, features: Any, *args: Any, **kwargs: Any) -> Any:
        self.frames.append(int(features.shape[2]))
        return self._inner.encode(features, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@needs_models
@pytest.mark.parametrize(("voice", "language"), [("en-us", "en"), ("de", "de")])
def test_the_language_is_read_from_the_encoding_the_transcription_reuses(
    models: dict[str, Any], voice: str, language: str
) -> None:
    """One encoder pass identifies the language and starts the transcription (espeak German
    included, which 8 s of speech once read as Latin); the transcript is the one an encoding
    of its own gives."""
    text = SPEECH_TEXTS["en" if language == "en" else language]
    samples = espeak(text, voice, RATE).astype(np.float32)
    base = whisper_model(models["base"][0].source, 1)  # its own instance: calls are counted
    counting = _CountingEncoder(base.model)
    base.model = counting
    window = first_window(base, samples)
    guess, encoded = detect_language(base, window)
    assert guess is not None and guess.language == language
    with reusing(base, window, encoded):
        reused = transcribe(samples, base, "base", language=language)
    assert counting.frames == [3000]  # the speech fits one window: one pass for both
    fresh = transcribe(samples, base, "base", language=language)
    assert counting.frames == [3000, 3000]  # nothing primed any more: encoded anew
    assert reused.text == fresh.text and reused.text
    assert wer(text, reused.text) < 0.35
