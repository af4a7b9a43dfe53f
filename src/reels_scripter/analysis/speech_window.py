"""The first 30 s window of speech as Whisper reads it, encoded once for two uses.

Whisper identifies the language from the encoding of a window, and transcription starts by
encoding its first window. Both windows are the same when they are cut the same way, so the
encoding (~1 CPU-s for base on one core, a third of its work on a 30 s reel) is done once:
`first_window` cuts the speech as `WhisperModel.transcribe(vad_filter=True)` does (its own
Silero VAD chunks with default options, joined, log-mel features, the first window padded to
3000 frames), `speech_policy.detect_language` encodes it, and `reusing` hands that encoding to
the transcription's first `encode` call. `speech.transcribe` is given the cut audio itself,
so the VAD does not run twice either.

The reuse is checked, not assumed: `ReusingWhisperModel.encode` compares the features it is
given with the window that was encoded, value for value, and encodes anew when they differ (a
later window, another model, a faster-whisper that cuts differently). At worst the saving is
lost, never the transcript.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from reels_scripter.analysis.malloc_arenas import release_free_memory

Features = npt.NDArray[np.float32]


@dataclass(frozen=True)
class SpeechWindow:
    chunks: list[dict[str, int]]  # faster-whisper's VAD chunks, in samples of the track
    audio: npt.NDArray[np.float32]  # the chunks joined: what the model transcribes
    features: Features  # (mel bins, 3000): the first window, padded as the decoder reads it
    seconds: float  # of speech in the window (the rest is padding)


def first_window(model: Any, samples: npt.NDArray[np.float32]) -> SpeechWindow | None:
    """The first window of the speech in `samples` (16 kHz mono) exactly as `model.transcribe`
    with `vad_filter=True` will cut it; None when its VAD keeps nothing."""
    from faster_whisper.transcribe import pad_or_trim
    from faster_whisper.vad import VadOptions, collect_chunks, get_speech_timestamps

    chunks = get_speech_timestamps(samples, VadOptions())
    if not chunks:
        return None
    pieces, _ = collect_chunks(samples, chunks)
    audio = np.concatenate(pieces, axis=0)
    extractor = model.feature_extractor
    features = extractor(audio)
    # `generate_segments` reads min(window, content) frames, content being all but the last
    content = features.shape[-1] - 1
    frames = min(int(extractor.nb_max_frames), content)
    if frames <= 0:
        return None
    window = pad_or_trim(features[:, :frames])
    return SpeechWindow(chunks, audio, window, frames * float(extractor.time_per_frame))


_primed = threading.local()  # (model, window features, encoder output) of this thread


@contextmanager
def reusing(model: Any, window: SpeechWindow | None, encoded: Any) -> Iterator[None]:
    """While inside, `model`'s first `encode` of `window` returns `encoded` (this thread only;
    nothing is kept afterwards)."""
    if window is None or encoded is None:
        yield
        return
    _primed.value = (model, window.features, encoded)
    try:
        yield
    finally:
        _primed.value = None


@functools.cache
def _whisper_model_class() -> type[Any]:
    from faster_whisper import WhisperModel

    class ReusingWhisperModel(WhisperModel):  # type: ignore[misc]
        """faster-whisper's model, whose `encode` returns a primed encoding (see `reusing`)."""

        def encode(self, features: Features) -> Any:
            primed = getattr(_primed, "value", None)
            if primed is not None and primed[0] is self:
                window = primed[1]
                if window.shape == features.shape and np.array_equal(window, features):
                    _primed.value = None  # once: a later window is new audio
                    return primed[2]
            # An encoder pass is the analysis's memory peak (see `malloc_arenas`): ~30 MB
            # lower on the bench reel when the arenas' freed memory goes back first.
            release_free_memory()
            return super().encode(features)

    return ReusingWhisperModel


def whisper_model(source: str, threads: int) -> Any:
    """A faster-whisper model on the CPU (int8) that can reuse a primed encoding."""
    return _whisper_model_class()(source, device="cpu", compute_type="int8", cpu_threads=threads)
