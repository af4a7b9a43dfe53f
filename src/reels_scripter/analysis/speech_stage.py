"""The speech stage of `analyze`: where someone speaks, in which language, and what they say.

1. Voice activity (`voice_activity.detect_speech`) marks the speech on its own, so the speech
   share is measured even when no word is recognised; no speech, no model runs at all.
2. The language is identified on the speech itself (`speech_policy.detect_language`, with
   Whisper base or a multilingual `WHISPER_MODEL`), from the encoding of the first window
   that the transcription then reuses (`speech_window`).
3. `speech_policy.plan_speech` picks the model and its beam: base for every language (tiny.en
   only where base is not installed), `WHISPER_MODEL` whenever it is set.
4. What the transcript covers is compared with what voice activity found: speech that was
   heard but not turned into words is reported (`speech_not_transcribed`), never passed off
   as silence.

`SpeechModels` starts loading the models the policy may need as soon as `analyze` starts (in
a thread, while the probe runs): they read no untrusted bytes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from reels_scripter.analysis.errors import SpeechModelError
from reels_scripter.analysis.models import Notice, Transcript
from reels_scripter.analysis.speech import ModelChoice, load_model, resolve_model, transcribe
from reels_scripter.analysis.speech_policy import (
    FORCE_MIN_PROBABILITY,
    LanguageGuess,
    detect_language,
    plan_speech,
)
from reels_scripter.analysis.speech_window import SpeechWindow, first_window, reusing
from reels_scripter.analysis.thread_cpu import cpu_seconds, new_native_threads, thread_ids
from reels_scripter.analysis.voice_activity import (
    SpeechPresence,
    TranscriptCoverage,
    detect_speech,
    transcript_coverage,
)

log = logging.getLogger(__name__)

SPEECH_NOT_TRANSCRIBED = "speech_not_transcribed"


class SpeechModels:
    """The models the policy may use, each loading in the background from construction on.

    With `WHISPER_MODEL` set only that model is loaded. Otherwise Whisper base (the language
    detector and the transcriber), or tiny.en where base is not installed. Raises
    SpeechModelError at once when no model at all is available, or when the bundled base
    does not match its pinned hash.
    """

    def __init__(
        self,
        configured: str | None,
        cache_dir: Path,
        threads: int,
        pool: Executor,
        timer: Callable[[str, float], None] | None = None,
    ) -> None:
        self.threads = threads
        self.cache_dir = cache_dir
        self._fallback_detector: ModelChoice | None = None
        self.configured: ModelChoice | None = None
        self.english: ModelChoice | None = None
        self.multilingual: ModelChoice | None = None
        if configured:
            self.configured = resolve_model(configured)
        else:
            from reels_scripter.analysis.tiny_en import bundled_tiny_en
            from reels_scripter.analysis.whisper_base import bundled_base

            self.multilingual = bundled_base(cache_dir)
            # tiny.en only stands in for a missing base: loading it beside base cost
            # ~0.2 CPU-s and ~100 MB in every process for a model no plan picks.
            self.english = bundled_tiny_en(cache_dir) if self.multilingual is None else None
            if self.multilingual is None and self.english is None:
                resolve_model(None)  # raises the "no speech model" error with its advice
        order = [self.configured, self.multilingual, self.english]
        self.workers: dict[ModelChoice, set[int]] = {}
        self._loaded: dict[ModelChoice, Future[Any]] = {c: Future() for c in order if c is not None}
        pool.submit(self._load_all, timer)

    def _load_all(self, timer: Callable[[str, float], None] | None) -> None:
        # One after another, in the order they are needed (a configured English-only
        # model before the base that then detects the language for it).
        for choice, future in self._loaded.items():
            started = time.perf_counter()
            before = thread_ids()
            try:
                model = load_model(choice, self.threads)
                # a model cached from an earlier reel keeps the workers found then
                self.workers[choice] = self._known_workers.setdefault(
                    id(model), new_native_threads(before)
                )
                future.set_result(model)
            except BaseException as exc:
                future.set_exception(exc)
            if timer is not None:
                timer(f"speech_model_{choice.label}", started)

    # Worker threads per loaded model object, kept for the life of the process (models are
    # cached per process by `speech.load_model`).
    _known_workers: ClassVar[dict[int, set[int]]] = {}

    def cpu(self, choice: ModelChoice) -> float | None:
        """CPU seconds the model's worker threads have used so far (None: unknown)."""
        workers = self.workers.get(choice)
        return cpu_seconds(workers) if workers else None

    def get(self, choice: ModelChoice) -> Any:
        """The loaded model (waits for its load; re-raises its SpeechModelError)."""
        return self._loaded[choice].result()

    def detector(self) -> ModelChoice | None:
        """The model that identifies the language: the configured one when it is
        multilingual, else the bundled base (loaded now, on this rare path: an English-only
        WHISPER_MODEL would otherwise write invented English over foreign speech)."""
        if self.configured is None:
            return self.multilingual
        if bool(self.get(self.configured).model.is_multilingual):
            return self.configured
        if self._fallback_detector is None:
            from reels_scripter.analysis.whisper_base import bundled_base

            choice = bundled_base(self.cache_dir)
            if choice is None:
                return None
            future: Future[Any] = Future()
            before = thread_ids()
            future.set_result(load_model(choice, self.threads))
            self.workers[choice] = new_native_threads(before)
            self._loaded[choice] = future
            self._fallback_detector = choice
        return self._fallback_detector


@dataclass
class SpeechOutcome:
    transcript: Transcript
    presence: SpeechPresence
    coverage: TranscriptCoverage | None = None
    guess: LanguageGuess | None = None
    reason: str | None = None
    notices: list[Notice] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)  # thread CPU seconds per step


def _language(
    transcript: Transcript, guess: LanguageGuess | None, forced: str | None
) -> Transcript:
    """The detection's language and probability where it was used: when the language is
    forced, faster-whisper reports probability 1.0, which is not what was measured."""
    if guess is None:
        return transcript
    if forced is not None or transcript.language is None or transcript.language == guess.language:
        return transcript.model_copy(
            update={"language": guess.language, "language_probability": guess.probability}
        )
    return transcript


def _add_cpu(
    cpu: dict[str, float], name: str, thread0: float, model0: float | None, model1: float | None
) -> None:
    """This thread's CPU since `thread0` plus the model workers' (when known)."""
    seconds = time.thread_time() - thread0
    if model0 is not None and model1 is not None:
        seconds += max(0.0, model1 - model0)  # a worker that ended takes its CPU with it
    cpu[name] = round(seconds, 3)


def listen(
    samples: npt.NDArray[np.float32],
    duration: float,
    models: SpeechModels,
    progress: Callable[[float], None] | None = None,
    cancelled: threading.Event | None = None,
) -> SpeechOutcome:
    """Voice activity, language, the chosen model's transcript and what it left out."""
    cpu: dict[str, float] = {}
    t0 = time.thread_time()
    presence = detect_speech(samples, duration)
    cpu["voice_activity"] = round(time.thread_time() - t0, 3)
    if not presence.present:
        if progress is not None:
            progress(1.0)
        return SpeechOutcome(Transcript(), presence, cpu=cpu)

    guess: LanguageGuess | None = None
    window: SpeechWindow | None = None
    encoded: Any = None  # the window's encoding, reused by the transcription of `detector`
    detector = models.detector()
    if detector is not None:
        model = models.get(detector)
        t0, c0 = time.thread_time(), models.cpu(detector)
        window = first_window(model, samples)
        guess, encoded = detect_language(model, window)
        _add_cpu(cpu, "language_detection", t0, c0, models.cpu(detector))
    plan = plan_speech(
        guess,
        configured=models.configured,
        english=models.english,
        multilingual=models.multilingual,
    )
    if plan is None:  # unreachable: SpeechModels refuses to exist without a model
        raise SpeechModelError("No speech model is available.")
    log.info("speech: %s (%s)", plan.model.label, plan.reason)
    model = models.get(plan.model)
    english_only = not bool(model.model.is_multilingual)
    if (
        english_only
        and guess is not None
        and guess.language != "en"
        and guess.probability >= FORCE_MIN_PROBABILITY
    ):
        # An English-only model on other speech writes fluent English that was never said
        # ("You can't miss Lee Pao." three times over Spanish): transcribe nothing instead.
        log.info("speech is %s; %s reads English only: not transcribed", guess.language, plan.model)
        transcript = Transcript(model=f"{plan.model.label} (English-only)")
        if progress is not None:
            progress(1.0)
    else:
        t0, c0 = time.thread_time(), models.cpu(plan.model)
        with reusing(model, window, encoded):
            transcript = transcribe(
                samples,
                model,
                plan.model.label,
                progress,
                cancelled,
                plan.language,
                beam_size=plan.beam,
                speech=presence.spans,
                window=window,
            )
        _add_cpu(cpu, f"transcription_{plan.model.label}", t0, c0, models.cpu(plan.model))
    transcript = _language(transcript, guess, plan.language)
    coverage = transcript_coverage(presence, [(s.start, s.end) for s in transcript.segments])
    notices = []
    if coverage.speech_not_transcribed:
        missing = coverage.speech_seconds - coverage.transcribed_seconds
        language = guess.language if guess is not None else None
        notices.append(
            Notice.of(
                SPEECH_NOT_TRANSCRIBED,
                f"Voice activity found {coverage.speech_seconds:.1f} s of speech, "
                f"{missing:.1f} s of it not transcribed by {plan.model.label} "
                f"(language {language or 'unknown'}).",
                seconds=round(coverage.speech_seconds, 1),
                missing=round(missing, 1),
                language=language or "",
                model=plan.model.label,
            )
        )
    return SpeechOutcome(
        transcript,
        presence,
        coverage=coverage,
        guess=guess,
        reason=plan.reason,
        notices=notices,
        cpu=cpu,
    )
