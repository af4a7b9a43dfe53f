"""The audio track, decoded once to 16 kHz mono float32, and the facts measured from it.

The same array feeds the speech recogniser (Whisper works at 16 kHz) and everything here:
the loudness curve, music presence and tempo. 16 kHz keeps everything up to 8 kHz, which is
plenty for levels and rhythm. The EBU R 128 figures (integrated loudness, range, true peak)
need the original samples, so the same decode loop feeds each original frame to a
`LoudnessMeter` before resampling it.

Music is recognised by its beat: the onset strength (spectral flux) of a band repeats at a
steady period. Speech has onsets too, but at irregular syllable intervals, so its onset
autocorrelation stays low; silence and steady tones have no onsets at all. Each of three bands
is checked on its own because a kick drum under a voice is obvious in the bass band even when
the voice dominates the full-band flux. Beatless ambient music is not recognised: a known limit.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np
import numpy.typing as npt

from reels_scripter.analysis.container import open_container
from reels_scripter.analysis.loudness import Loudness, LoudnessMeter
from reels_scripter.analysis.models import AudioFacts, Notice, ProbeInfo

log = logging.getLogger(__name__)

RATE = 16_000
CURVE_STEP = 0.5
SILENCE_DB = -90.0
N_FFT = 512
HOP = 160  # 10 ms: tempo lags are resolved to 1 % at 120 BPM before interpolation
BANDS_HZ = ((25.0, 80.0), (80.0, 2000.0), (2000.0, 8000.0))
# Onset periods considered a beat: 0.3 s (200 BPM) to 1.5 s (40 BPM).
MIN_LAG_S, MAX_LAG_S = 0.3, 1.5
# Beat strength of a music bed: clicks reach 0.8-1.0, a kick at -16 dB under a voice ~0.4,
# speech alone stays near 0.1 in every band.
MUSIC_THRESHOLD = 0.3
# A band quieter than this (mean power, dBFS) has no beat worth reporting.
BAND_FLOOR_DB = -60.0

Samples = npt.NDArray[np.float32]


@dataclass
class DecodedAudio:
    samples: Samples  # 16 kHz mono float32
    notice: Notice | None = None  # the track could not be decoded to its end
    loudness: Loudness | None = None  # EBU R 128 of the original stream; None: not measured


def _mono(frame: av.AudioFrame) -> Samples:
    return np.asarray(frame.to_ndarray(), dtype=np.float32).reshape(-1)


class _Meter:
    """A `LoudnessMeter` that gives up quietly: an odd stream (a layout or rate the filter
    refuses, a frame whose format changes mid-stream) costs the R 128 figures, not the
    analysis."""

    def __init__(self, stream: Any) -> None:
        self._meter: LoudnessMeter | None
        try:
            self._meter = LoudnessMeter(stream)
        except (av.FFmpegError, ValueError, TypeError) as exc:
            log.warning("loudness meter unavailable for this stream: %s", exc)
            self._meter = None

    def push(self, frame: av.AudioFrame) -> None:
        if self._meter is None:
            return
        try:
            self._meter.push(frame)
        except (av.FFmpegError, ValueError) as exc:
            log.warning("loudness measurement stopped: %s", exc)
            self._meter = None

    def result(self) -> Loudness | None:
        if self._meter is None:
            return None
        try:
            return self._meter.result()
        except (av.FFmpegError, ValueError) as exc:
            log.warning("loudness measurement failed: %s", exc)
            return None


def decode_audio(path: str | Path, info: ProbeInfo, max_pixels: int) -> DecodedAudio | None:
    """The first audio stream as 16 kHz mono float32 and its R 128 loudness; None when the
    file has no audio."""
    chunks: list[Samples] = []
    notice = None
    with open_container(path, info.family, max_pixels=max_pixels) as container:
        if not container.streams.audio:
            return None
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
        meter = _Meter(stream)
        try:
            for frame in container.decode(stream):
                meter.push(frame)
                chunks.extend(_mono(out) for out in resampler.resample(frame))
        except av.FFmpegError as exc:
            got = sum(len(c) for c in chunks) / RATE
            notice = Notice.of(
                "audio_decode_stopped", f"Audio decoding stopped at {got:.1f} s: {exc}", at=got
            )
        chunks.extend(_mono(out) for out in resampler.resample(None))
    samples = np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)
    return DecodedAudio(samples=samples, notice=notice, loudness=meter.result())


def _db(power: float) -> float:
    return 10.0 * math.log10(power) if power > 1e-12 else SILENCE_DB


def loudness_curve(
    samples: Samples, duration: float | None = None, step: float = CURVE_STEP
) -> list[float]:
    """RMS level in dBFS per `step` seconds (a full-scale square wave is 0 dBFS), one value
    per step of `duration` when given (the track can be a few ms longer than the reel)."""
    n = max(1, int(step * RATE))
    end = len(samples)
    if duration is not None:
        end = min(end, math.ceil(duration / step - 1e-6) * n)
    out = []
    for i in range(0, end, n):
        block = samples[i : i + n].astype(np.float64)
        out.append(round(max(SILENCE_DB, _db(float(np.mean(block * block)))), 2))
    return out


def integrated_loudness(samples: Samples) -> float | None:
    """Gated loudness of the 16 kHz copy *without* K-weighting (400 ms blocks every 100 ms,
    gates at -70 and 10 dB under the mean): only a fallback for when the R 128 meter could not
    measure the original stream. None for silence."""
    block, hop = int(0.4 * RATE), int(0.1 * RATE)
    if len(samples) < block:
        block = hop = len(samples)
    if block == 0:
        return None
    x = samples.astype(np.float64) ** 2
    cumsum = np.concatenate(([0.0], np.cumsum(x)))
    starts = np.arange(0, len(samples) - block + 1, hop)
    power = (cumsum[starts + block] - cumsum[starts]) / block
    lufs = -0.691 + 10 * np.log10(np.maximum(power, 1e-20))
    gated = power[lufs > -70.0]
    if gated.size == 0:
        return None
    relative = -0.691 + 10 * math.log10(float(gated.mean())) - 10.0
    gated = power[(lufs > -70.0) & (lufs > relative)]
    return round(-0.691 + 10 * math.log10(float(gated.mean())), 2)


def _spectrogram(samples: Samples) -> npt.NDArray[np.float32]:
    if len(samples) < N_FFT:
        samples = np.pad(samples, (0, N_FFT - len(samples)))
    frames = np.lib.stride_tricks.sliding_window_view(samples, N_FFT)[::HOP]
    window = np.hanning(N_FFT).astype(np.float32)
    # Chunked so that a three-minute reel never holds more than ~10 MB of spectrum at once.
    out = []
    for i in range(0, len(frames), 4096):
        out.append(np.abs(np.fft.rfft(frames[i : i + 4096] * window, axis=1)).astype(np.float32))
    return np.concatenate(out)


@dataclass
class Rhythm:
    strength: float  # 0..1, autocorrelation of the onset envelope at the beat period
    bpm: float | None


def _band_rhythm(envelope: npt.NDArray[np.float64], frame_rate: float) -> Rhythm:
    lo, hi = int(MIN_LAG_S * frame_rate), int(MAX_LAG_S * frame_rate)
    n = len(envelope)
    if n < 2 * hi:  # fewer than two periods of the slowest beat: cannot tell
        return Rhythm(0.0, None)
    x = envelope - envelope.mean()
    spectrum = np.fft.rfft(x, 2 * n)
    acf = np.fft.irfft(spectrum * np.conj(spectrum))[:n]
    if acf[0] <= 1e-12:
        return Rhythm(0.0, None)
    # Unbiased: a long lag overlaps fewer frames; without this, short lags always win.
    acf = acf / acf[0] * n / (n - np.arange(n))
    window = acf[lo : hi + 1]
    best = float(window.max())
    if best <= 0:
        return Rhythm(0.0, None)
    # The beat is the shortest lag that is (nearly) as periodic as the best: a 120 BPM kick
    # repeats at 0.5 s and also at 1.0 s and 1.5 s.
    peaks = [
        i
        for i in range(1, len(window) - 1)
        if window[i] >= window[i - 1] and window[i] >= window[i + 1] and window[i] >= 0.8 * best
    ]
    i = peaks[0] if peaks else int(window.argmax())
    lag = float(lo + i)
    if 0 < i < len(window) - 1:  # parabolic interpolation between lag frames
        a, b, c = window[i - 1], window[i], window[i + 1]
        denom = a - 2 * b + c
        if denom < 0:
            lag += 0.5 * (a - c) / denom
    return Rhythm(min(1.0, best), round(60.0 * frame_rate / lag, 1))


def rhythm(samples: Samples) -> Rhythm:
    """The strongest steady beat over the three bands."""
    if len(samples) < int(2 * MAX_LAG_S * RATE):
        return Rhythm(0.0, None)
    mag = _spectrogram(samples)
    freqs = np.fft.rfftfreq(N_FFT, 1 / RATE)
    frame_rate = RATE / HOP
    # Log compression makes the flux follow relative changes (a new note), not loudness.
    logmag = np.log1p(1000.0 * mag)
    best = Rhythm(0.0, None)
    for lo, hi in BANDS_HZ:
        band = (freqs >= lo) & (freqs < hi)
        power = float(np.mean(mag[:, band] ** 2)) / (N_FFT / 4) ** 2
        if _db(power) < BAND_FLOOR_DB:
            continue
        flux = np.maximum(np.diff(logmag[:, band], axis=0), 0.0).sum(axis=1).astype(np.float64)
        # Keep only what rises above the last 0.1 s: sharp onsets (beats) stay, the slower
        # swell of syllables and codec pumping mostly go.
        local = np.convolve(flux, np.full(10, 0.1), mode="same")
        flux = np.maximum(flux - local, 0.0)
        found = _band_rhythm(flux, frame_rate)
        if found.strength > best.strength:
            best = found
    return best


def covered(spans: Sequence[tuple[float, float]]) -> float:
    """Total length of the union of (start, end) spans."""
    total, reach = 0.0, -math.inf
    for start, end in sorted(spans):
        if end <= reach:
            continue
        total += end - max(start, reach)
        reach = end
    return total


def audio_facts(
    audio: DecodedAudio | None,
    duration: float,
    speech: Sequence[tuple[float, float]] = (),
    untranscribed: float = 0.0,
) -> AudioFacts:
    """Loudness, music and speech share of a decoded track (None: the file has no audio).
    `speech` is where someone speaks (voice activity), `untranscribed` the seconds of it that
    no transcript segment covers."""
    if audio is None:
        return AudioFacts(has_audio=False, curve_step=CURVE_STEP)
    samples = audio.samples
    beat = rhythm(samples)
    music = beat.strength >= MUSIC_THRESHOLD
    spoken = covered(speech)
    share = spoken / duration if duration > 0 else 0.0
    r128 = audio.loudness
    if r128 is not None:
        lufs, lra, peak = r128.integrated_lufs, r128.range_lu, r128.true_peak_dbtp
    else:
        lufs, lra, peak = integrated_loudness(samples), None, None
    return AudioFacts(
        has_audio=True,
        loudness_lufs=lufs,
        loudness_range_lu=lra,
        true_peak_dbtp=peak,
        loudness_curve=loudness_curve(samples, duration),
        curve_step=CURVE_STEP,
        speech_share=round(min(1.0, share), 3),
        speech_seconds=round(spoken, 2),
        untranscribed_speech_sec=round(untranscribed, 2),
        music=music,
        music_confidence=round(beat.strength, 3),
        tempo_bpm=beat.bpm if music else None,
    )
