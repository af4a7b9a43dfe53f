"""Typed measurements of one reel: what the analysis engine produces, with no opinions in it.

Everything here is a fact measured from the file. Providers turn these facts into words;
the script's time intervals are taken from here, never from a model.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

ShotScale = Literal["close-up", "medium", "wide", "unknown"]


class ProbeInfo(BaseModel):
    """Container facts read before any decoding (by `probe`, once per upload)."""

    container: str  # user-facing name: mp4, mov, webm, matroska
    family: str = "mp4"  # the demuxer family sniffed from the first bytes: mp4 or webm
    mime_type: str = "video/mp4"  # from the sniffed content, never from a file name
    duration: float
    size_bytes: int
    width: int  # display width, after rotation
    height: int  # display height, after rotation
    coded_width: int
    coded_height: int
    rotation: int = 0  # degrees, as in the display matrix, normalised to 0/90/180/270
    video_codec: str
    fps: float  # average frame rate
    variable_frame_rate: bool = False
    frame_count: int | None = None
    has_audio: bool = False
    audio_codec: str | None = None
    audio_sample_rate: int | None = None
    audio_channels: int | None = None


class Notice(BaseModel):
    """Something a person should know about the result (a stream that ended early, no
    translation offline...). `code` is stable; the text a person reads is rendered from it and
    `params` in their language (`reels_scripter.texts`); `detail` is English, for logs."""

    code: str
    detail: str = ""
    params: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def of(cls, code: str, detail: str = "", **params: Any) -> Notice:
        return cls(code=code, detail=detail, params=params)


class Word(BaseModel):
    start: float
    end: float
    text: str  # the piece as recognised, without surrounding spaces
    probability: float | None = None
    # True when the recogniser wrote no space before this piece: it continues the previous
    # word ("ill" + "-disposed", "don" + "'t"). `join_words` rebuilds the text exactly.
    joined: bool = False


# A piece that is only punctuation never takes a space before it.
_PUNCTUATION = re.compile(r"^[,.!?;:%…)»\]]+$")
# A word (or text) that ends a sentence: the mark may be followed by closing quotes/brackets.
SENTENCE_END = re.compile(r"[.!?…]+[»\"')\]]*$")
# Where one sentence ends and the next begins in running text.
SENTENCE_BREAK = re.compile(r"(?<=[.!?…])\s+")


def join_words(words: Iterable[Word]) -> str:
    """The words as they were spoken: a space before each new word, none before a piece that
    continues the previous one (`Word.joined`) or before bare punctuation."""
    text = ""
    for word in words:
        piece = word.text.strip()
        if not piece:
            continue
        if text and not word.joined and not _PUNCTUATION.match(piece):
            text += " "
        text += piece
    return text


class SpeechSegment(BaseModel):
    start: float
    end: float
    text: str
    words: list[Word] | None = None


class Transcript(BaseModel):
    language: str | None = None  # ISO 639-1, None when nothing was said
    language_probability: float | None = None
    segments: list[SpeechSegment] = Field(default_factory=list)
    model: str | None = None

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments if s.text.strip())


CameraMove = Literal["static", "pan", "tilt", "zoom", "handheld"]
CameraDirection = Literal["left", "right", "up", "down", "in", "out"]


class CameraFacts(BaseModel):
    """How the camera moves within a shot (global motion between frames 0.2 s apart)."""

    move: CameraMove
    direction: CameraDirection | None = None  # the camera's, for pan / tilt / zoom
    speed: float = 0.0  # frame sizes per second (zoom: log-scale per second)
    shake: float = 0.0  # back-and-forth part of the movement, frame sizes per second
    subject_motion: float = 0.0  # share of pixels moving on their own, 0..1
    changed: float = 0.0  # share of pixels that changed between samples, 0..1


class SceneColour(BaseModel):
    name: str  # basic colour term in English ("blue"); texts.colour_label words it
    share: float  # of the picture, 0..1
    rgb: str  # "#rrggbb"


class SceneFacts(BaseModel):
    """One measured shot, from cut to cut."""

    index: int
    start: float
    end: float
    brightness: float  # mean luma 0..1
    motion: float  # mean absolute frame difference 0..1 within the shot
    shot_scale: ShotScale = "unknown"
    faces: int = 0  # max faces seen in the shot's sampled frames
    camera: CameraFacts | None = None
    colours: list[SceneColour] = Field(default_factory=list)  # largest share first
    contrast: float | None = None  # standard deviation of luma, 0..1
    onscreen_text: list[str] = Field(default_factory=list)  # text read on screen in the shot
    keyframe_jpeg: bytes | None = Field(default=None, exclude=True, repr=False)


class OnscreenText(BaseModel):
    """Text read on screen (a caption, a title) and when it was shown."""

    start: float
    end: float
    text: str


# A caption belongs to a shot or row when they share at least this long (or the whole caption):
# a span ends at the first sample without it, up to one sampling step after it went.
MIN_SHARED_SEC = 0.3


def shown_in(spans: Iterable[OnscreenText], start: float, end: float) -> list[OnscreenText]:
    """The captions shown in [start, end), each clipped to it, in order of appearance."""
    out = []
    for span in spans:
        a, b = max(span.start, start), min(span.end, end)
        shared = b - a
        if shared > 0 and shared >= min(MIN_SHARED_SEC, span.end - span.start):
            out.append(OnscreenText(start=round(a, 3), end=round(b, 3), text=span.text))
    return out


class AudioFacts(BaseModel):
    has_audio: bool
    # EBU R 128 over the original stream, as `ffmpeg -af ebur128` reports it; None: silence
    loudness_lufs: float | None = None  # integrated loudness, LUFS
    loudness_range_lu: float | None = None  # LRA, LU
    true_peak_dbtp: float | None = None  # dBTP
    loudness_curve: list[float] = Field(default_factory=list)  # dBFS per `curve_step` seconds
    curve_step: float = 0.5
    # fraction of the duration covered by speech, from voice activity (not from recognised
    # words: speech in a language no model reads still counts)
    speech_share: float = 0.0
    speech_seconds: float = 0.0
    # speech that voice activity found but no transcript segment covers
    untranscribed_speech_sec: float = 0.0
    music: bool = False
    music_confidence: float = 0.0
    tempo_bpm: float | None = None


class HookFacts(BaseModel):
    """The first seconds, where a viewer decides to stay."""

    window: float = 3.0
    first_word_at: float | None = None
    first_words: str = ""
    speech_at: float | None = None  # first voice activity, recognised or not
    onscreen_text: list[OnscreenText] = Field(default_factory=list)  # shown in the window
    cuts: int = 0
    motion: float = 0.0
    loudness_db: float | None = None
    words_per_minute: float | None = None


class Measurements(BaseModel):
    probe: ProbeInfo
    scenes: list[SceneFacts]
    transcript: Transcript
    audio: AudioFacts
    hook: HookFacts
    sha256: str
    onscreen_text: list[OnscreenText] = Field(default_factory=list)
    # speech found by voice activity, seconds (start, end), recognised or not
    voice_spans: list[tuple[float, float]] = Field(default_factory=list)
    speech_model_reason: str | None = None  # why this speech model (logs, meta)
    # The strongest frame-to-frame change (0..1 per 1/30 s) in each `visual_change_step`
    # seconds, cuts included: where a long silent shot can be split for the script.
    visual_change: list[float] = Field(default_factory=list)
    visual_change_step: float = 0.5
    timings: dict[str, float] = Field(default_factory=dict)
    notices: list[Notice] = Field(default_factory=list)

    @property
    def duration(self) -> float:
        return self.probe.duration


class ProbedVideo(BaseModel):
    """A video file whose facts are already known (the API probed and hashed it at upload):
    `analyze` takes it instead of a path and neither probes nor hashes again."""

    path: Path
    info: ProbeInfo
    sha256: str | None = None


class AnalysisOptions(BaseModel):
    """Knobs of one analysis run; `Settings` maps onto these so the package stays framework-free."""

    max_duration: float = 180.0
    max_pixels: int = 4096 * 2304
    max_size_bytes: int | None = None
    probe_timeout: float = 20.0
    probe_memory_mb: int = 1024
    # name or path; None -> the offline policy (`speech_policy`): base detects the language
    # and transcribes (tiny.en only where base is not installed)
    whisper_model: str | None = None
    whisper_threads: int = 0  # 0 -> let the pipeline decide
    transcribe: bool = True
    model_cache_dir: Path = Path("data/models")  # where the bundled base is joined once
    read_onscreen_text: bool = True
    keyframe_width: int = 360
    hook_window: float = 3.0
