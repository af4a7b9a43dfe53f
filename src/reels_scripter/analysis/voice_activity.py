"""Where someone speaks, measured by voice activity alone: independent of speech recognition.

Silero VAD (the ONNX model faster-whisper ships, run through its `get_speech_timestamps`)
marks the speech in the 16 kHz mono track. That gives `speech_share` even when no word was
recognised (a language the model does not know, a model that failed, speech under loud music
that Whisper's own confidence filters dropped), and lets the engine tell "no speech" apart
from "speech present but not transcribed".

Spans here are tighter than the ones faster-whisper uses to cut audio for recognition: its
defaults pad every chunk by 0.4 s and bridge 2 s silences, which is right for decoding and
wrong for a share of time. A 30 s track costs ~0.1 CPU-s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from reels_scripter.analysis.audio import RATE, covered

Span = tuple[float, float]

# Silero's own recommended values for measuring (not cutting) speech.
THRESHOLD = 0.5
MIN_SPEECH_MS = 250
MIN_SILENCE_MS = 300
SPEECH_PAD_MS = 30
# Speech counts as "not transcribed" when at least this much of it has no words over it...
UNTRANSCRIBED_MIN_SEC = 1.5
# ...and the words cover less than this share of the speech VAD found.
UNTRANSCRIBED_MAX_COVERED = 0.5


@dataclass(frozen=True)
class SpeechPresence:
    spans: tuple[Span, ...]  # seconds, sorted, not overlapping
    seconds: float  # total speech
    share: float  # of `duration` (0 when the duration is 0)

    @property
    def present(self) -> bool:
        return self.seconds > 0


def detect_speech(
    samples: npt.NDArray[np.float32], duration: float | None = None
) -> SpeechPresence:
    """Speech spans of 16 kHz mono samples; `duration` (default: the track's) is the
    denominator of `share`, so a track a few ms longer than the video does not matter."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    total = duration if duration is not None else len(samples) / RATE
    if len(samples) < RATE // 10:
        return SpeechPresence((), 0.0, 0.0)
    chunks = get_speech_timestamps(
        np.ascontiguousarray(samples, dtype=np.float32),
        VadOptions(
            threshold=THRESHOLD,
            min_speech_duration_ms=MIN_SPEECH_MS,
            min_silence_duration_ms=MIN_SILENCE_MS,
            speech_pad_ms=SPEECH_PAD_MS,
        ),
        sampling_rate=RATE,
    )
    spans = tuple(
        (round(c["start"] / RATE, 3), round(min(c["end"] / RATE, total), 3))
        for c in chunks
        if c["start"] / RATE < total
    )
    seconds = covered(spans)
    share = min(1.0, seconds / total) if total > 0 else 0.0
    return SpeechPresence(spans, round(seconds, 3), round(share, 3))


def overlap(a: Sequence[Span], b: Sequence[Span]) -> float:
    """Seconds covered by both span lists."""
    total = 0.0
    for s1, e1 in a:
        for s2, e2 in b:
            total += max(0.0, min(e1, e2) - max(s1, s2))
    return total


@dataclass(frozen=True)
class TranscriptCoverage:
    speech_seconds: float  # VAD speech
    transcribed_seconds: float  # VAD speech under a transcript segment
    untranscribed: tuple[Span, ...]  # VAD spans no segment touches

    @property
    def covered_share(self) -> float:
        return self.transcribed_seconds / self.speech_seconds if self.speech_seconds else 1.0

    @property
    def speech_not_transcribed(self) -> bool:
        """Speech was heard but (mostly) not turned into words: say so, never "no speech"."""
        missing = self.speech_seconds - self.transcribed_seconds
        return missing >= UNTRANSCRIBED_MIN_SEC and self.covered_share < UNTRANSCRIBED_MAX_COVERED


def transcript_coverage(
    presence: SpeechPresence, segments: Sequence[Span], slack: float = 0.3
) -> TranscriptCoverage:
    """How much of the speech VAD found lies under the transcript's segments (each widened
    by `slack` seconds: word timestamps and VAD edges disagree by a syllable or so)."""
    merged = _merge([(max(0.0, s - slack), e + slack) for s, e in segments])
    untranscribed = tuple(s for s in presence.spans if overlap([s], merged) == 0.0)
    return TranscriptCoverage(
        speech_seconds=presence.seconds,
        transcribed_seconds=round(min(presence.seconds, overlap(presence.spans, merged)), 3),
        untranscribed=untranscribed,
    )


def _merge(spans: Sequence[Span]) -> list[Span]:
    out: list[Span] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out
