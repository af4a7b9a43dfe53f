"""Gemini's settings, under the seed's environment names. Pydantic only: no SDK import."""

from __future__ import annotations

from typing import Literal

from pydantic import SecretStr

from reels_scripter.providers.options import ProviderOptions, option

# Current stable models (checked 2026-11): the cheapest Flash-Lite, named by Google as the
# replacement for the deprecated gemini-2.5-flash, and the quality Flash. Retired names answer
# 404 NOT_FOUND; the provider then names GEMINI_MODEL and suggests these.
DEFAULT_MODEL = "gemini-3.5-flash-lite"
QUALITY_MODEL = "gemini-3.8-flash"
CURRENT_MODELS = (DEFAULT_MODEL, QUALITY_MODEL)

ThinkingLevel = Literal["minimal", "low", "medium", "high", "default"]
MediaResolution = Literal["low", "medium", "high", "default"]


class GeminiOptions(ProviderOptions):
    google_ai_api_key: SecretStr | None = option(
        None, env=("GOOGLE_AI_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY")
    )
    gemini_model: str = option(DEFAULT_MODEL, env="GEMINI_MODEL", changes_result=True)
    # Free tier today: 5-10 requests per minute per project (and about 20 per day); a reel
    # takes one request, two when the answer needs a follow-up. Paid tiers: raise it.
    gemini_rpm: int = option(5, env="GEMINI_RPM", ge=1)
    # The whole reel at a low frame rate, plus the hook window as a second part of the same
    # video at a higher one (0 turns the hook part off).
    gemini_video_fps: float = option(1.0, env="GEMINI_VIDEO_FPS", changes_result=True, gt=0, le=24)
    gemini_hook_fps: float = option(5.0, env="GEMINI_HOOK_FPS", changes_result=True, ge=0, le=24)
    gemini_media_resolution: MediaResolution = option(
        "low", env="GEMINI_MEDIA_RESOLUTION", changes_result=True
    )
    # Gemini 3 advises its own default temperature: none is sent unless configured.
    gemini_temperature: float | None = option(
        None, env="GEMINI_TEMPERATURE", changes_result=True, ge=0, le=2
    )
    # "default" sends no thinking config (the model's own default; older models need this).
    gemini_thinking_level: ThinkingLevel = option(
        "low", env="GEMINI_THINKING_LEVEL", changes_result=True
    )
    # Thinking is billed as output and counts against this cap; a small cap truncates answers.
    gemini_max_output_tokens: int = option(
        32768, env="GEMINI_MAX_OUTPUT_TOKENS", changes_result=True, ge=1024
    )
    gemini_max_retries: int = option(5, env="GEMINI_MAX_RETRIES", ge=0)
    gemini_timeout_sec: float = option(300.0, env="GEMINI_TIMEOUT_SEC", gt=0)
    # The Gemini API refuses inline requests over 20 MB (base64 included); larger go via Files API.
    gemini_inline_max_mb: float = option(20.0, env="GEMINI_INLINE_MAX_MB", gt=0)
    gemini_file_poll_sec: float = option(2.0, env="GEMINI_FILE_POLL_SEC", gt=0)
    gemini_file_active_timeout_sec: float = option(
        300.0, env="GEMINI_FILE_ACTIVE_TIMEOUT_SEC", gt=0
    )
    # Vertex AI mode: project (GOOGLE_CLOUD_PROJECT_ID) + location, ADC credentials; gs:// URIs
    # are passed through.
    gemini_use_vertexai: bool = option(
        False, env=("GEMINI_USE_VERTEXAI", "GOOGLE_GENAI_USE_VERTEXAI")
    )
    google_cloud_location: str = option("us-central1", env="GOOGLE_CLOUD_LOCATION")
    # USD per million tokens (input, output) for meta.usage.cost_usd; unset: the built-in table.
    gemini_price_input_per_mtok: float | None = option(
        None, env="GEMINI_PRICE_INPUT_PER_MTOK", ge=0
    )
    gemini_price_output_per_mtok: float | None = option(
        None, env="GEMINI_PRICE_OUTPUT_PER_MTOK", ge=0
    )
