"""Speech with a known transcript for word-error-rate checks: espeak-ng voices and the committed
sample, each as 16 kHz mono float32. Shared by the accuracy tests and `bench/bench_wer.py`.

"Over a beat" is the sound of the 30 s reel of `make bench` (speech, a kick drum and a chord).
The repeated line is the one a held-out reel lost ("this one trick saves you an hour every
day", said three times): a model that drops or mangles it fails the English target.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from support.reelgen import SPEECH_TEXT, SPEECH_TEXTS, ReelSpec, audio_track, espeak, load_speech

RATE = 16_000
LINE = "This one trick saves you an hour every day."
# Texts the models were not tuned on (beside SPEECH_TEXTS, which the tests have used for long).
MORNING_EN = (
    "Most people waste the first hour of the morning. Plan your day the night before, leave "
    "your phone in another room, and start with the hardest task while your mind is fresh."
)
COFFEE_ES = (
    "Deja de desplazarte. Así preparo el mejor café de la mañana. Primero, muele los granos "
    "justo antes de usarlos. Después, calienta el agua sin llegar al punto de ebullición. "
    "Por último, sirve despacio y disfruta cada sorbo."
)


@dataclass(frozen=True)
class Sample:
    name: str
    language: str
    text: str
    samples: np.ndarray


def _silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * RATE), dtype=np.float32)


def repeated_line(times: int = 3, voice: str = "en-us") -> np.ndarray:
    """`LINE` said `times` times with 0.4 s between, 0.5 s of silence around."""
    once = espeak(LINE, voice, RATE)
    pieces = [_silence(0.5)]
    for k in range(times):
        pieces += [once, _silence(0.4 if k < times - 1 else 0.5)]
    return np.concatenate(pieces)


def samples() -> list[Sample]:
    return [
        Sample("en committed sample", "en", SPEECH_TEXT, load_speech(RATE)),
        Sample(
            "en sample over a beat",
            "en",
            SPEECH_TEXT,
            audio_track(ReelSpec(duration=22.0, audio="speech+clicks", speech_offset=0.8), RATE),
        ),
        Sample("en line said 3 times", "en", " ".join([LINE] * 3), repeated_line()),
        Sample("en-gb morning", "en", MORNING_EN, espeak(MORNING_EN, "en-gb", RATE)),
        Sample("es tips", "es", SPEECH_TEXTS["es"], espeak(SPEECH_TEXTS["es"], "es", RATE)),
        Sample("es coffee", "es", COFFEE_ES, espeak(COFFEE_ES, "es", RATE)),
    ]
