"""What is asked of Gemini and how its reply is read (no network here).

- The video goes twice, as two parts of the same data: the whole reel at a low frame rate
  (`GEMINI_VIDEO_FPS`, default 1) and the hook window (0-3 s) at a higher one
  (`GEMINI_HOOK_FPS`, default 5), so the first seconds are seen in detail at little cost.
- The schema goes as `response_json_schema`: `response_schema` (the OpenAPI subset) rejects
  parts of JSON Schema the per-request schema may use, and the structure is what makes a
  schema-valid answer complete (`schema.py`).
- No temperature unless configured (Gemini 3 advises its default); a thinking level (low by
  default) and a generous output cap, since thinking tokens count against it.
"""

from __future__ import annotations

from typing import Any

from google.genai import types

from reels_scripter.providers.base import ProviderBlockedError
from reels_scripter.providers.flow import Reply
from reels_scripter.providers.gemini.options import GeminiOptions
from reels_scripter.providers.prompt import Prompt
from reels_scripter.providers.usage import UsageMeter

MEDIA_RESOLUTION = {
    "low": types.MediaResolution.MEDIA_RESOLUTION_LOW,
    "medium": types.MediaResolution.MEDIA_RESOLUTION_MEDIUM,
    "high": types.MediaResolution.MEDIA_RESOLUTION_HIGH,
}
THINKING_LEVEL = {
    "minimal": types.ThinkingLevel.MINIMAL,
    "low": types.ThinkingLevel.LOW,
    "medium": types.ThinkingLevel.MEDIUM,
    "high": types.ThinkingLevel.HIGH,
}
SAFETY_FINISH = {
    types.FinishReason.SAFETY,
    types.FinishReason.RECITATION,
    types.FinishReason.BLOCKLIST,
    types.FinishReason.PROHIBITED_CONTENT,
    types.FinishReason.SPII,
    types.FinishReason.IMAGE_SAFETY,
}


def _seconds(value: float) -> str:
    """A protobuf Duration string: "3s", "2.5s"."""
    return f"{round(value, 3):g}s"


def hook_end(options: GeminiOptions, duration: float, window: float) -> float | None:
    """End of the hook part, or None when it adds nothing (off, or the reel is that short)."""
    s = options
    end = min(window, duration)
    if s.gemini_hook_fps <= s.gemini_video_fps or end <= 0 or end >= duration:
        return None
    return end


def video_parts(
    media: dict[str, Any], options: GeminiOptions, duration: float, window: float
) -> list[types.Part]:
    """The whole reel, then its hook window at a higher frame rate, from the same data.

    `media` is the Part's data: `{"inline_data": Blob}` or `{"file_data": FileData}`.
    """
    parts = [types.Part(**media, video_metadata=types.VideoMetadata(fps=options.gemini_video_fps))]
    end = hook_end(options, duration, window)
    if end is not None:
        parts.append(
            types.Part(
                **media,
                video_metadata=types.VideoMetadata(
                    fps=options.gemini_hook_fps, start_offset="0s", end_offset=_seconds(end)
                ),
            )
        )
    return parts


def media_note(options: GeminiOptions, duration: float, window: float) -> str:
    note = f": the whole reel at {options.gemini_video_fps:g} frame(s) per second"
    end = hook_end(options, duration, window)
    if end is not None:
        note += (
            f", then its first {end:g} seconds (the hook) again at "
            f"{options.gemini_hook_fps:g} frames per second"
        )
    return note


def generation_config(
    options: GeminiOptions, prompt: Prompt, schema: dict[str, Any]
) -> types.GenerateContentConfig:
    s = options
    thinking = THINKING_LEVEL.get(s.gemini_thinking_level)
    return types.GenerateContentConfig(
        system_instruction=prompt.system,
        response_mime_type="application/json",
        response_json_schema=schema,
        media_resolution=MEDIA_RESOLUTION.get(s.gemini_media_resolution),
        temperature=s.gemini_temperature,
        thinking_config=types.ThinkingConfig(thinking_level=thinking) if thinking else None,
        max_output_tokens=s.gemini_max_output_tokens,
    )


def contents(video: list[types.Part], prompt: Prompt, follow_up: str | None) -> list[types.Content]:
    """One user turn: the video first (implicit caching keys on the prefix), then the words."""
    parts = [*video, types.Part(text=prompt.user)]
    if follow_up is not None:
        parts.append(types.Part(text=follow_up))
    return [types.Content(role="user", parts=parts)]


def read_response(response: types.GenerateContentResponse, meter: UsageMeter) -> Reply:
    """The answer text; blocks raise, an empty or missing answer is a Reply without text."""
    meta = response.usage_metadata
    if meta is not None:
        output = (meta.candidates_token_count or 0) + (meta.thoughts_token_count or 0)
        meter.add(meta.prompt_token_count, output, meta.total_token_count)
    else:
        meter.add(None, None, None)
    feedback = response.prompt_feedback
    if feedback is not None and feedback.block_reason:
        detail = f": {feedback.block_reason_message}" if feedback.block_reason_message else ""
        raise ProviderBlockedError(
            f"Gemini refused the request (block_reason={feedback.block_reason.value}){detail}"
        )
    candidate = response.candidates[0] if response.candidates else None
    if candidate is None:
        return Reply(None, problem="no candidates in the response")
    reason = candidate.finish_reason
    if reason in SAFETY_FINISH:
        raise ProviderBlockedError(
            f"Gemini stopped the answer for safety reasons (finish_reason={reason.value})"
        )
    truncated = reason == types.FinishReason.MAX_TOKENS
    parts = candidate.content.parts if candidate.content and candidate.content.parts else []
    # Thought summaries are not the answer; the visible text may come in several parts.
    text = "".join(p.text for p in parts if p.text and not p.thought)
    if not text.strip():
        if truncated:  # thinking used the whole output cap before any answer was written
            problem = (
                "empty answer: the output limit was reached first (finish_reason=MAX_TOKENS; "
                "raise GEMINI_MAX_OUTPUT_TOKENS or lower GEMINI_THINKING_LEVEL)"
            )
        else:
            problem = f"empty answer (finish_reason={reason.value if reason else 'none'})"
        return Reply(None, truncated=truncated, problem=problem)
    return Reply(text, truncated=truncated)
