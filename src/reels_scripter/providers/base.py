"""What every AI provider implements, and the data it gets and gives back.

A provider never decides timings. It receives the measured reel and a fixed list of script
rows (`RowPlan`, each with an id, a measured start/end and the speech inside it) and returns
words for each row id. `compose_result` then builds the final contract from the measured
times and the provider's words.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Self

from pydantic import BaseModel, Field

from reels_scripter.analysis.models import Measurements, Notice, OnscreenText

__all__ = [
    "Creative",
    "Notice",
    "Provider",
    "ProviderConfigError",
    "ProviderContext",
    "ProviderError",
    "RowContent",
    "RowPlan",
    "WriteRequest",
]
from reels_scripter.config import Settings
from reels_scripter.contract import HookType, Key, Recommendation, Source, Usage
from reels_scripter.errors import AppError
from reels_scripter.providers.options import NoOptions, ProviderOptions


class RowPlan(BaseModel):
    """One script row whose interval was measured; the provider only fills its words."""

    id: int
    start: float
    end: float
    scene: int  # index of the measured scene the row starts on
    scenes: list[int]  # every measured scene the row covers
    speech: str = ""  # transcript text spoken inside the row, in the source language
    # captions read on screen in the row's shots, each clipped to the row
    captions: list[OnscreenText] = Field(default_factory=list)


class RowContent(BaseModel):
    id: int
    visual: str
    text: str
    note: str
    text_language: str | None = None  # set when `text` is an untranslated original line
    onscreen: str | None = None  # the row's caption adapted to the target language (AI only)


class Creative(BaseModel):
    """The provider's half of the result: words only."""

    transcription: str | None = None  # None -> use the measured transcript
    translation: str
    keys: list[Key]
    rows: list[RowContent]
    recommendations: list[Recommendation]
    hook_type: HookType | None = None
    model: str | None = None
    usage: Usage | None = None
    # Parts the AI did not deliver and the local provider wrote ("keys.audio", "script.3").
    filled_by_local: list[str] = Field(default_factory=list)
    notices: list[Notice] = Field(default_factory=list)
    # Free text for providers without notice codes (third-party); built-ins use `notices`.
    warnings: list[str] = Field(default_factory=list)


class WriteRequest(BaseModel):
    measurements: Measurements
    rows: list[RowPlan]
    video_path: Path
    target_language: str = "ru"
    # Sniffed from the content at upload (or by the probe): never guessed from a file name.
    video_mime: str = "video/mp4"
    video_uri: str | None = None  # e.g. gs:// URI when storage already holds the file
    # Where an imported reel came from: figures are evidence, the author's words are data.
    source: Source | None = None


class ProviderError(AppError, code="ai_failed", http_status=502):
    """The provider failed after its own retries (`message` is English, for logs and CLI)."""


class ProviderConfigError(ProviderError, code="ai_misconfigured", http_status=500):
    """Misconfiguration (missing key, unknown model): retrying will not help."""


class ModelNotFoundError(ProviderConfigError, code="ai_model_not_found"):
    """The configured model does not exist (any more) for this key: a setting must change.

    `params`: `model`, `setting` (the environment name to change) and `suggested`.
    """


class ProviderBlockedError(ProviderError, code="ai_blocked", http_status=422):
    """The AI refused this reel (safety block, refusal): asking again will not help."""


@dataclass(frozen=True)
class ProviderContext:
    """What a provider needs from the service besides its own options: where to keep its
    rate-limit count, the shared retry timings, the Google Cloud project (Vertex AI)."""

    data_dir: Path
    redis_url: str | None = None
    google_cloud_project_id: str | None = None
    retry_base_delay: float = 1.0
    retry_max_delay: float = 60.0
    retry_total: float = 600.0
    # With a fallback (AI_FALLBACK) a provider failing repeatedly is cut off by a circuit
    # breaker (providers/circuit.py), so jobs fall back in seconds; without one there is
    # nothing to fall back to, and the job's own retries decide.
    circuit_breaker: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> ProviderContext:
        return cls(
            circuit_breaker=bool(settings.ai_fallback),
            data_dir=settings.data_dir,
            redis_url=settings.redis_url,
            google_cloud_project_id=settings.google_cloud_project_id,
            retry_base_delay=settings.ai_retry_base_delay_sec,
            retry_max_delay=settings.ai_retry_max_delay_sec,
            retry_total=settings.ai_retry_total_sec,
        )


class Provider(ABC):
    name: ClassVar[str]
    # The provider's settings; the fields marked `changes_result` enter the dedupe fingerprint.
    Options: ClassVar[type[ProviderOptions]] = NoOptions

    def __init__(self, options: ProviderOptions, context: ProviderContext) -> None:
        self.options = options
        self.context = context

    @classmethod
    def from_settings(cls, settings: Settings, overrides: Mapping[str, Any] | None = None) -> Self:
        """This provider with its options read for `settings` (`overrides` by field name)."""
        return cls(
            cls.Options.from_settings(settings, overrides), ProviderContext.from_settings(settings)
        )

    @property
    def model(self) -> str | None:
        return None

    def result_options(self) -> dict[str, Any]:
        """The options that change what this provider writes for the same reel (dedupe)."""
        return self.options.result_values()

    def check(self) -> None:  # noqa: B027 - optional hook, most providers need nothing
        """Fail fast at start-up (e.g. the configured model does not exist)."""

    @abstractmethod
    def write(self, request: WriteRequest) -> Creative:
        """Write the creative half of the result for the measured reel."""
