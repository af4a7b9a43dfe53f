"""Any OpenAI-compatible chat API (OpenAI, Ollama, vLLM, LM Studio) via the `openai` SDK.

These servers take images, not video, so the reel is sent as one measured keyframe per scene
next to the transcript and the measured facts. The answer, its validation and the retry rules
are the ones the Gemini provider uses.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import openai
from openai import OpenAI

from reels_scripter.analysis.models import SceneFacts
from reels_scripter.config import Settings
from reels_scripter.providers.answer import (
    Correction,
    UsageMeter,
    answer_json_schema,
    answer_with_correction,
    to_creative,
)
from reels_scripter.providers.base import (
    Creative,
    Provider,
    ProviderConfigError,
    ProviderError,
    WriteRequest,
)
from reels_scripter.providers.prompt import Prompt, build_prompt
from reels_scripter.providers.ratelimit import RateLimiter, limiter_for
from reels_scripter.providers.retry import (
    RETRYABLE_STATUS,
    Fault,
    RetryPolicy,
    call_with_retries,
    retry_after_header,
)

log = logging.getLogger(__name__)

# Local servers (Ollama, LM Studio) accept any key; the SDK insists on a non-empty one.
PLACEHOLDER_KEY = "not-needed"


class _SchemaFormatUnsupported(Exception):
    """The server rejected `response_format: json_schema`; retry with `json_object`."""


def classify(exc: Exception) -> Fault | None:
    if isinstance(exc, openai.APIStatusError):
        code = exc.status_code
        text = f"HTTP {code}: {str(exc.message)[:300]}"
        if code in RETRYABLE_STATUS:
            delay = retry_after_header(dict(exc.response.headers))
            return Fault(retryable=True, message=text, server_delay=delay)
        return Fault(retryable=False, message=text, config=code in (401, 403, 404))
    if isinstance(exc, openai.APIConnectionError):  # includes APITimeoutError
        return Fault(retryable=True, message=f"network error ({type(exc).__name__})")
    return None


def pick_keyframes(scenes: list[SceneFacts], limit: int) -> list[SceneFacts]:
    """At most `limit` scenes with a keyframe, spread evenly over the reel."""
    with_frames = [s for s in scenes if s.keyframe_jpeg]
    if limit <= 0:
        return []
    if len(with_frames) <= limit:
        return with_frames
    step = len(with_frames) / limit
    return [with_frames[int(i * step)] for i in range(limit)]


def _data_url(jpeg: bytes) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")


class OpenAIProvider(Provider):
    name = "openai"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._client: OpenAI | None = None
        self._limiter: RateLimiter | None = None
        self._json_schema_ok = True  # flips to False once a server refuses json_schema

    @property
    def model(self) -> str | None:
        return self.settings.openai_model

    def client(self) -> OpenAI:
        if self._client is None:
            s = self.settings
            key = s.openai_api_key.get_secret_value() if s.openai_api_key else ""
            if not key and not s.openai_base_url:
                raise ProviderConfigError(
                    "The openai provider needs OPENAI_API_KEY, or OPENAI_BASE_URL for a local "
                    "server (Ollama, vLLM, LM Studio)"
                )
            self._client = OpenAI(
                api_key=key or PLACEHOLDER_KEY,
                base_url=s.openai_base_url,
                timeout=s.openai_timeout_sec,
                max_retries=0,  # ours honour the shared limiter and time budget
            )
        return self._client

    def limiter(self) -> RateLimiter:
        if self._limiter is None:
            key = f"openai-{self.settings.openai_model}".replace("/", "_").replace(":", "_")
            self._limiter = limiter_for(self.settings, key, self.settings.openai_rpm)
        return self._limiter

    def policy(self) -> RetryPolicy:
        return RetryPolicy.from_settings(self.settings, self.settings.openai_max_retries)

    def check(self) -> None:
        client = self.client()
        model = self.settings.openai_model
        try:
            call_with_retries(
                lambda: client.models.retrieve(model), classify, self.policy(), label="OpenAI"
            )
        except ProviderConfigError as exc:
            raise ProviderConfigError(
                f"Model {model!r} is not available at the OpenAI-compatible server "
                f"(OPENAI_MODEL): {exc.message}"
            ) from exc

    def _user_content(self, request: WriteRequest, prompt: Prompt, images: bool) -> list[Any]:
        content: list[Any] = [{"type": "text", "text": prompt.user}]
        if not self._json_schema_ok:
            # json_object mode does not enforce the schema, so the model must read it.
            schema = json.dumps(answer_json_schema(), ensure_ascii=False)
            content.append({"type": "text", "text": f"Response JSON schema: {schema}"})
        if images:
            for scene in pick_keyframes(
                request.measurements.scenes, self.settings.openai_max_images
            ):
                assert scene.keyframe_jpeg is not None  # pick_keyframes keeps only these
                label = f"Keyframe of scene {scene.index} ({scene.start:.1f}-{scene.end:.1f} s):"
                content.append({"type": "text", "text": label})
                content.append(
                    {
                        "type": "image_url",
                        "image_url": {"url": _data_url(scene.keyframe_jpeg), "detail": "low"},
                    }
                )
        return content

    def _response_format(self) -> dict[str, Any]:
        if self._json_schema_ok:
            return {
                "type": "json_schema",
                # Not strict: strict mode needs every property required, and local servers differ.
                "json_schema": {"name": "reel_answer", "schema": answer_json_schema()},
            }
        return {"type": "json_object"}

    def _complete(
        self, build: Callable[[], list[dict[str, Any]]], usage: UsageMeter, deadline: float
    ) -> str | None:
        """`build` makes the messages; it runs again if the server forces the json_object mode."""
        client = self.client()
        model = self.settings.openai_model

        def attempt() -> Any:
            response_format = self._response_format()
            try:
                return client.chat.completions.create(  # type: ignore[call-overload]
                    model=model,
                    messages=build(),
                    response_format=response_format,
                    temperature=0.7,
                )
            except openai.BadRequestError as exc:
                mentions = str(exc.message).lower()
                if response_format["type"] == "json_schema" and (
                    "response_format" in mentions or "json_schema" in mentions
                ):
                    raise _SchemaFormatUnsupported from exc
                raise

        while True:
            try:
                response = call_with_retries(
                    attempt,
                    classify,
                    self.policy(),
                    label="OpenAI",
                    limiter=self.limiter(),
                    deadline=deadline,
                )
                break
            except _SchemaFormatUnsupported:
                log.info("Server refused json_schema output; falling back to json_object")
                self._json_schema_ok = False
        if response.usage is not None:
            u = response.usage
            usage.add(u.prompt_tokens, u.completion_tokens, u.total_tokens)
        else:
            usage.add(None, None, None)
        if not response.choices:
            raise ProviderError("The model returned no answer (no choices)", transient=True)
        choice = response.choices[0]
        if choice.finish_reason == "content_filter":
            raise ProviderError("The model stopped the answer for safety reasons (content_filter)")
        refusal = getattr(choice.message, "refusal", None)
        if refusal:
            raise ProviderError(f"The model refused: {str(refusal)[:300]}")
        text: str | None = choice.message.content
        if not text or not text.strip():
            raise ProviderError(
                f"The model returned an empty answer (finish_reason={choice.finish_reason})",
                transient=True,
            )
        return text

    def write(self, request: WriteRequest) -> Creative:
        self.client()  # configuration errors before any work
        deadline = time.monotonic() + self.settings.ai_retry_total_sec
        prompt = build_prompt(
            request.measurements,
            request.rows,
            request.target_language,
            media_note=": one keyframe per measured scene, in order, after the data",
        )
        usage = UsageMeter()

        system = {"role": "system", "content": prompt.system}

        def first() -> list[dict[str, Any]]:
            return [system, {"role": "user", "content": self._user_content(request, prompt, True)}]

        def ask(correction: Correction | None) -> str | None:
            if correction is None:
                return self._complete(first, usage, deadline)

            # The fix is about the JSON; the images are most of the prompt, so leave them out.
            def corrective() -> list[dict[str, Any]]:
                return [
                    system,
                    {"role": "user", "content": self._user_content(request, prompt, False)},
                    {"role": "assistant", "content": correction.previous},
                    {"role": "user", "content": correction.message()},
                ]

            return self._complete(corrective, usage, deadline)

        answer = answer_with_correction(ask, request.rows, request.target_language, "OpenAI")
        return to_creative(answer, model=self.settings.openai_model, usage=usage.as_dict())
