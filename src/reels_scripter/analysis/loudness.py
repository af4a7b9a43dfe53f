"""EBU R 128 loudness of the original audio: integrated (LUFS), range (LU), true peak (dBTP).

FFmpeg's `ebur128` filter does the measuring, through a PyAV filter graph: the same code as
`ffmpeg -af ebur128`, so the figures agree with what editors and platforms report, and no new
dependency is needed. The filter must see the *original* stream: R 128 sums the K-weighted
power of each channel and designs its K-weighting for the real sample rate, and the true peak
needs the original samples. The 16 kHz mono copy made for speech is a -3 dB-per-channel
downmix (swresample's default) low-passed at 8 kHz: it keeps the power of identical channels
but loses 3 dB of uncorrelated ones (wide stereo music), and it moves peaks. Measured on a
stereo 44.1 kHz reel whose right channel is the left at half level: original -25.63 LUFS /
-6.11 dBTP, the 16 kHz mono copy -26.03 LUFS / -5.58 dBTP (`ffmpeg -af ebur128`: -25.6 / -6.1).

`LoudnessMeter` takes decoded frames one by one, so the audio decode that feeds the speech
resampler can feed it too (one decode, ~0.07 CPU-s for 20 s of audio); `measure_loudness`
decodes a file on its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av

from reels_scripter.analysis.container import open_container
from reels_scripter.analysis.models import AnalysisOptions
from reels_scripter.analysis.sniff import HEAD_SIZE, sniff

# ebur128 reports -70 LUFS (its absolute gate) when nothing passes the gate: silence.
SILENCE_LUFS = -70.0
TRUE_PEAK_PREFIX = "lavfi.r128.true_peaks_ch"
# The filter reports figures per 100 ms of input, and its true-peak oversampler lags a few
# samples: without padding, the last partial block (often an encoder's end transient) is never
# reported. 100 ms of silence completes it; the extra gating block changes I by ~0.01 LU.
PAD_SECONDS = 0.1


@dataclass(frozen=True)
class Loudness:
    integrated_lufs: float | None  # None: silence (nothing above the -70 LUFS gate)
    range_lu: float | None
    true_peak_dbtp: float | None  # None: digital silence


class LoudnessMeter:
    """Feed `push(frame)` with every decoded frame of one audio stream, then `result()`.

    `LoudnessMeter(stream)` takes the format from a PyAV audio stream; frames of another
    format can be described instead: `LoudnessMeter(sample_rate=16000, layout="mono",
    format="flt")`."""

    def __init__(
        self,
        stream: Any = None,
        *,
        sample_rate: int | None = None,
        layout: str | None = None,
        format: str | None = None,  # PyAV's name for it
    ) -> None:
        self._graph = av.filter.Graph()
        if stream is not None:
            source = self._graph.add_abuffer(template=stream)
        else:
            source = self._graph.add_abuffer(
                sample_rate=sample_rate, layout=layout, format=format, time_base=None
            )
        # metadata=1: each output frame carries the running figures (I, LRA, per-channel
        # true peaks of that frame), which is how they get out of the filter into Python.
        meter = self._graph.add("ebur128", "peak=true:metadata=1")
        sink = self._graph.add("abuffersink")
        source.link_to(meter)
        meter.link_to(sink)
        self._graph.configure()
        self._integrated: float | None = None
        self._range: float | None = None
        self._peak = 0.0
        self._done = False
        self._last: av.AudioFrame | None = None

    def push(self, frame: av.AudioFrame) -> None:
        self._last = frame
        self._graph.push(frame)
        self._drain()

    def result(self) -> Loudness:
        if not self._done:
            if self._last is not None:
                self._graph.push(_silence_after(self._last, PAD_SECONDS))
                self._drain()
            self._graph.push(None)
            self._drain()
            self._done = True
        integrated = self._integrated
        if integrated is not None and integrated <= SILENCE_LUFS:
            integrated = None
        return Loudness(
            integrated_lufs=round(integrated, 2) if integrated is not None else None,
            range_lu=round(self._range, 2)
            if integrated is not None and self._range is not None
            else None,
            true_peak_dbtp=round(20 * math.log10(self._peak), 2) if self._peak > 0 else None,
        )

    def _drain(self) -> None:
        while True:
            try:
                frame = self._graph.pull()
            except (av.BlockingIOError, av.EOFError):
                return
            metadata = frame.metadata
            if "lavfi.r128.I" in metadata:
                self._integrated = float(metadata["lavfi.r128.I"])
                self._range = float(metadata.get("lavfi.r128.LRA", "nan"))
                if math.isnan(self._range):
                    self._range = None
            for key, value in metadata.items():
                if key.startswith(TRUE_PEAK_PREFIX):
                    self._peak = max(self._peak, float(value))


def _silence_after(frame: av.AudioFrame, seconds: float) -> av.AudioFrame:
    """A silent frame in `frame`'s format that follows it in time."""
    samples = max(1, round(seconds * frame.sample_rate))
    silent = av.AudioFrame(format=frame.format.name, layout=frame.layout.name, samples=samples)
    for plane in silent.planes:
        plane.update(bytes(plane.buffer_size))
    silent.sample_rate = frame.sample_rate
    silent.time_base = frame.time_base
    if frame.pts is not None and frame.time_base is not None:
        silent.pts = frame.pts + round(frame.samples / frame.sample_rate / frame.time_base)
    return silent


def measure_loudness(path: str | Path) -> Loudness | None:
    """Loudness of the first audio stream of a file; None when it has none. Decoding stops
    quietly at the first broken packet: the figures then cover what was decoded."""
    with Path(path).open("rb") as f:
        family = sniff(f.read(HEAD_SIZE)) or "mp4"
    # the one way every decode opens a file (named demuxer, pixel cap)
    with open_container(path, family, max_pixels=AnalysisOptions().max_pixels) as container:
        if not container.streams.audio:
            return None
        stream = container.streams.audio[0]
        meter = LoudnessMeter(stream)
        try:
            for frame in container.decode(stream):
                meter.push(frame)
        except av.FFmpegError:
            pass
        return meter.result()
