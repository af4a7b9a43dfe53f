"""The result contract: the seed's JSON shape, kept exactly, plus additive fields.

Front ends written for the seed read `original.transcription`, `original.translation`,
`keys[].title/description`, `script[].time/visual/text/note` and
`recommendations[].category/text`; every other field here is an addition they can ignore.
"""

from __future__ import annotations

import json
from typing import Any, Literal, get_args

from pydantic import BaseModel, Field

from reels_scripter.analysis.models import (
    AudioFacts,
    CameraFacts,
    HookFacts,
    Notice,
    OnscreenText,
    SceneColour,
    ShotScale,
    Word,
)
from reels_scripter.texts import interval_unit

KeyCategory = Literal["hook", "structure", "delivery", "visual", "audio"]
RecommendationKind = Literal["voice", "music", "avatar", "editing", "other"]

KEY_CATEGORIES: tuple[KeyCategory, ...] = ("hook", "structure", "delivery", "visual", "audio")
REQUIRED_RECOMMENDATION_KINDS: tuple[RecommendationKind, ...] = (
    "voice",
    "music",
    "avatar",
    "editing",
)

# The 14 hook types of published short-video hook research (ViralTracker's "Hook Intelligence"
# taxonomy), plus `unknown` when neither the AI nor the measurements can tell.
HookTypeName = Literal[
    "result_first",
    "shock_violation",
    "reveal_transform",
    "relatable_slice",
    "humor_gag",
    "tension_wait",
    "direct_callout",
    "challenge_stakes",
    "authority_flex",
    "social_proof",
    "open_question",
    "demo_novelty",
    "confession_secret",
    "contradiction_mythbust",
    "unknown",
]
HOOK_TYPES: tuple[HookTypeName, ...] = get_args(HookTypeName)


class Original(BaseModel):
    transcription: str = Field(description="Full transcript in the spoken language.")
    translation: str = Field(
        description="The transcript in the target language; empty when no translator was "
        "available (never the untranslated text)."
    )
    language: str | None = Field(None, description="ISO 639-1 code of the spoken language.")


class Key(BaseModel):
    title: str
    description: str
    category: KeyCategory
    evidence: list[str] = Field(
        default_factory=list, description="Measured facts this key rests on, in words."
    )


FitStatus = Literal["ok", "tight", "too_long"]


class RowFit(BaseModel):
    """Whether the row's voice-over can be said in the row's time at the reel's pace."""

    syllables: int = Field(ge=0, description="Syllables of the spoken part of `text`.")
    seconds_needed: float = Field(ge=0, description="`syllables` at the reel's pace.")
    seconds_available: float = Field(ge=0, description="The row's measured duration.")
    status: FitStatus = Field(
        description='"ok": at most 90% of the time; "tight": up to 110%; "too_long": more.'
    )


class OnscreenCaption(BaseModel):
    """The caption to put on screen in this row, where the original showed one."""

    text: str = Field(description="The caption to show (offline: the original text).")
    start: float = Field(ge=0, description="When it was shown, clipped to the row's shots.")
    end: float = Field(ge=0)
    original: str = Field(description="The caption as read on the original's screen.")
    language: str | None = Field(
        None,
        description="ISO 639-1 code of `text` when it is not in the target language (it still "
        'needs translating; "und" when the language is unknown); null when it is.',
    )


class Pace(BaseModel):
    """How fast the voice-over is said: the original speaker's pace, or a calm default."""

    syllables_per_sec: float = Field(gt=0)
    source: Literal["measured", "default"]


class ScriptRow(BaseModel):
    time: str = Field(description=f'Human interval, e.g. "0-3 {interval_unit("ru")}".')
    start: float = Field(ge=0, description="Seconds from the start of the reel.")
    end: float = Field(gt=0)
    scene: int = Field(ge=0, description="Index of the measured scene this row starts on.")
    visual: str
    text: str = Field(description="Voice-over text in the target language.")
    note: str
    text_language: str | None = Field(
        None,
        description="ISO 639-1 code of `text` when it is not in the target language: an "
        "original line kept because no translator was available.",
    )
    fit: RowFit | None = Field(
        None, description="Whether `text` can be said in the row's time at `meta.pace`."
    )
    onscreen: OnscreenCaption | None = Field(
        None, description="The caption to show in this row, where the original had one."
    )
    edited: bool = Field(
        False,
        description="The creator changed this row: it differs from the AI's version 1 "
        "(`GET /api/jobs/{id}/script?version=1`).",
    )


class Recommendation(BaseModel):
    category: str = Field(description="Human label in the target language, as in the seed.")
    text: str
    kind: RecommendationKind = "other"


class HookType(BaseModel):
    """How the reel wins the first seconds, in one fixed taxonomy."""

    type: HookTypeName = "unknown"
    payoff_at: float | None = Field(
        None, ge=0, description="Second at which the hook's promise pays off, if known."
    )
    evidence: str = Field("", description="What in the reel shows this type, in words.")


class TimelineScene(BaseModel):
    index: int
    start: float
    end: float
    keyframe: str | None = Field(
        None,
        description="The scene's JPEG keyframe: a URL in the API, a file path from the CLI.",
    )
    shot_scale: ShotScale = "unknown"
    brightness: float | None = None
    motion: float | None = None
    faces: int = 0
    camera: CameraFacts | None = Field(None, description="How the camera moves in the shot.")
    colours: list[TimelineColour] = Field(default_factory=list, description="Largest share first.")
    contrast: float | None = None
    onscreen_text: list[str] = Field(default_factory=list, description="Text read on screen.")


class TimelineColour(SceneColour):
    name_ru: str = Field(description="The colour as a Russian reader names it.")


class TimelineSpeech(BaseModel):
    start: float
    end: float
    text: str
    words: list[Word] | None = None


class Timeline(BaseModel):
    duration: float
    scenes: list[TimelineScene]
    speech: list[TimelineSpeech]
    audio: AudioFacts
    hook: HookFacts
    onscreen_text: list[OnscreenText] = Field(
        default_factory=list, description="Text read on screen (captions) and when it was shown."
    )


class VideoInfo(BaseModel):
    width: int
    height: int
    fps: float
    variable_frame_rate: bool
    rotation: int
    container: str
    video_codec: str
    audio_codec: str | None
    size_bytes: int


class Usage(BaseModel):
    """Tokens the AI billed for this reel, summed over every request, and what they cost."""

    prompt_tokens: int = 0
    output_tokens: int = Field(0, description="Answer tokens, thinking tokens included.")
    total_tokens: int = 0
    requests: int = 0
    cost_usd: float | None = Field(
        None, description="Estimated from the price table; null when the model's price is unknown."
    )


class Meta(BaseModel):
    provider: str
    model: str | None = None
    source_language: str | None = None
    source_language_probability: float | None = Field(
        None, description="How sure the language identification was, 0..1."
    )
    speech_model: str | None = Field(None, description="The speech model that transcribed.")
    target_language: str = "ru"
    warnings: list[str] = Field(
        default_factory=list, description="Things a person should know, in the target language."
    )
    notices: list[Notice] = Field(
        default_factory=list, description="The same, machine-readable: stable code and figures."
    )
    timings: dict[str, float] = Field(default_factory=dict)
    usage: Usage | None = Field(None, description="Token usage reported by the AI.")
    filled_by_local: list[str] = Field(
        default_factory=list,
        description="Parts the AI did not deliver, written from the measurements instead "
        '("keys.audio", "script.3", "recommendations.editing", "translation", "hook_type").',
    )
    sha256: str | None = None
    video: VideoInfo | None = None
    pace: Pace | None = Field(None, description="The pace `script[].fit` is measured against.")


class Source(BaseModel):
    """Where an imported reel came from, as far as the site told (`POST /api/import`)."""

    url: str = Field(description="The link as given.")
    platform: str = Field(
        description='"instagram", "tiktok", "youtube", "vk" or "web" (a direct file or a page).'
    )
    id: str | None = Field(None, description="The platform's id of the video.")
    title: str | None = None
    uploader: str | None = Field(None, description="The author's name or handle.")
    description: str | None = None
    hashtags: list[str] = Field(default_factory=list, description="Without the #.")
    views: int | None = None
    likes: int | None = None
    comments: int | None = None
    published_at: str | None = Field(None, description="ISO 8601 date (or date-time) of posting.")
    fetched_at: str | None = Field(
        None, description="When the figures were read (ISO 8601, UTC): they change over time."
    )


class AnalysisResult(BaseModel):
    original: Original
    keys: list[Key]
    script: list[ScriptRow]
    recommendations: list[Recommendation]
    timeline: Timeline
    meta: Meta
    hook_type: HookType | None = None
    source: Source | None = Field(None, description="Set for a reel imported by its link.")
    script_version: int = Field(
        1,
        ge=1,
        description="Which version of the script this is: 1 is the AI's, each edit "
        "(`PATCH /api/jobs/{id}/script`) makes the next.",
    )
    edited: bool = Field(
        False, description="Some row differs from the AI's version 1 (see `script[].edited`)."
    )


def result_json_schema() -> dict[str, Any]:
    return AnalysisResult.model_json_schema()


def result_json_schema_text() -> str:
    return json.dumps(result_json_schema(), ensure_ascii=False, indent=2)
