"""Facts about the first seconds of a reel, where a viewer decides to keep watching."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from reels_scripter.analysis.audio import RATE, SILENCE_DB, covered
from reels_scripter.analysis.models import HookFacts, OnscreenText, Transcript, join_words


def hook_facts(
    window: float,
    transcript: Transcript,
    cuts: Sequence[float],
    frame_times: npt.NDArray[np.float64],
    frame_motion: npt.NDArray[np.float64],
    samples: npt.NDArray[np.float32] | None,
    voice_spans: Sequence[tuple[float, float]] = (),
    onscreen: Sequence[OnscreenText] = (),
) -> HookFacts:
    """`first_words` are the words that start inside the window (empty when the reel opens
    without speech); `words_per_minute` is measured over the time covered by speech, not the
    whole reel, so a reel with a silent intro is not called slow-spoken. `speech_at` is where
    voice activity first hears speech, recognised or not; `onscreen_text` the captions shown
    in the window."""
    words = [w for s in transcript.segments for w in (s.words or [])]
    first_word_at = round(words[0].start, 3) if words else None
    first_words = join_words(w for w in words if w.start < window)
    in_window = frame_times < window
    motion = float(frame_motion[in_window].mean()) if in_window.any() else 0.0
    loudness = None
    if samples is not None and len(samples):
        head = samples[: int(window * RATE)].astype(np.float64)
        power = float(np.mean(head * head))
        loudness = round(10 * math.log10(power), 2) if power > 1e-12 else SILENCE_DB
    spoken = covered([(s.start, s.end) for s in transcript.segments])
    wpm = round(len(words) / spoken * 60.0, 1) if words and spoken > 0 else None
    return HookFacts(
        window=window,
        first_word_at=first_word_at,
        first_words=first_words,
        cuts=sum(1 for c in cuts if 0 < c < window),
        motion=round(motion, 4),
        loudness_db=loudness,
        words_per_minute=wpm,
        speech_at=round(voice_spans[0][0], 3) if voice_spans else first_word_at,
        onscreen_text=[t for t in onscreen if t.start < window],
    )
