"""Any OpenAI-compatible chat API (OpenAI, Ollama, vLLM, LM Studio) via the `openai` SDK.

These servers take images, not video, so the reel is sent as one measured keyframe per scene
next to the transcript and the measured facts. The structure asked for is Gemini's, in the
strict dialect (`json_schema` with `strict: true`: every property required, no extra ones);
a server that refuses `json_schema` gets `json_object` with the schema in the prompt. The write
flow (follow-up, local fill) is the shared one.
"""

from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

import openai
from openai import OpenAI

from reels_scripter.analysis.models import SceneFacts
from reels_scripter.providers.base import (
    ModelNotFoundError,
    ProviderBlockedError,
    ProviderConfigError,
    ProviderContext,
    WriteRequest,
)
from reels_scripter.providers.circuit import circuit_for
from reels_scripter.providers.flow import Ask, Reply, Send, StructuredProvider
from reels_scripter.providers.openai_compat.options import OpenAIOptions
from reels_scripter.providers.prompt import Prompt
from reels_scripter.providers.ratelimit import RateLimiter, limiter_for
from reels_scripter.providers.retry import (
    RETRYABLE_STATUS,
    Fault,
    RetryPolicy,
    call_with_retries,
    retry_after_header,
)
from reels_scripter.providers.schema import Dialect
from reels_scripter.providers.usage import UsageMeter

log = logging.getLogger(__name__)

# Local servers (Ollama, LM Studio) accept any key; the SDK insists on a non-empty one.
PLACEHOLDER_KEY = "not-needed"
_MODEL_MISSING = re.compile(r"model.*(not found|does not exist|not exist)", re.IGNORECASE)


class _SchemaFormatUnsupported(Exception):
    """The server rejected `response_format: json_schema`; retry with `json_object`."""


def classify(exc: Exception) -> Fault | None:
    if isinstance(exc, openai.APIStatusError):
        code = exc.status_code
        text = f"HTTP {code}: {' '.join(str(exc.message).split())[:300]}"
        if code == 404 or (code == 400 and _MODEL_MISSING.search(str(exc.message))):
            return Fault(retryable=False, message=text, missing_model=True)
        if code in RETRYABLE_STATUS:
            delay = retry_after_header(dict(exc.response.headers))
            return Fault(retryable=True, message=text, server_delay=delay, quota=code == 429)
        return Fault(retryable=False, message=text, config=code in (401, 403))
    if isinstance(exc, openai.APIConnectionError):  # includes APITimeoutError
        return Fault(retryable=True, message=f"network error ({type(exc).__name__})")
    if isinstance(exc, openai.APIResponseValidationError | json.JSONDecodeError):
        return Fault(retryable=True, message="unreadable response")
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


class OpenAIProvider(StructuredProvider):
    name = "openai"
    label = "OpenAI"
    dialect: ClassVar[Dialect] = "strict"
    Options = OpenAIOptions
    options: OpenAIOptions

    def __init__(self, options: OpenAIOptions, context: ProviderContext) -> None:
        super().__init__(options, context)
        self._client: OpenAI | None = None
        self._limiter: RateLimiter | None = None
        self._json_schema_ok = True  # flips to False once a server refuses json_schema

    @property
    def model(self) -> str | None:
        return self.options.openai_model

    def client(self) -> OpenAI:
        if self._client is None:
            s = self.options
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
            key = f"openai-{self.options.openai_model}".replace("/", "_").replace(":", "_")
            self._limiter = limiter_for(self.context, key, self.options.openai_rpm)
        return self._limiter

    def policy(self) -> RetryPolicy:
        return RetryPolicy.for_context(self.context, self.options.openai_max_retries)

    def _model_not_found(self, detail: str) -> ModelNotFoundError:
        model = self.options.openai_model
        return ModelNotFoundError(
            f"Model {model!r} is not available at the OpenAI-compatible server "
            f"({detail}); check OPENAI_MODEL (and OPENAI_BASE_URL)",
            params={"model": model, "setting": "OPENAI_MODEL"},
        )

    def check(self) -> None:
        """The key and the model in one call: `GET /models` (OpenAI, Ollama, llama.cpp, vLLM
        and LM Studio all list what they serve); a model not listed is not available."""
        client = self.client()
        model = self.options.openai_model
        listed: list[str] = call_with_retries(
            lambda: [m.id for m in client.models.list()],
            classify,
            self.policy(),
            label="OpenAI",
        )
        # Ollama lists `llama3.2-vision:latest` for what people call `llama3.2-vision`.
        if model not in listed and f"{model}:latest" not in listed:
            error = self._model_not_found(f"the server lists {len(listed)} other model(s)")
            error.params["suggested"] = ", ".join(sorted(listed)[:5])
            raise error

    def prepare(self) -> None:
        self.client()

    def price_overrides(self) -> tuple[float | None, float | None]:
        return self.options.openai_price_input_per_mtok, self.options.openai_price_output_per_mtok

    def media_note(self, request: WriteRequest) -> str:
        return ": one keyframe per measured scene, in order, after the data"

    # --- one request --------------------------------------------------------------------

    def _user_content(
        self, request: WriteRequest, prompt: Prompt, ask: Ask
    ) -> list[dict[str, Any]]:
        content: list[dict[str, Any]] = [{"type": "text", "text": prompt.user}]
        if not self._json_schema_ok:
            # json_object mode does not enforce the schema, so the model must read it.
            schema = json.dumps(ask.schema, ensure_ascii=False)
            content.append({"type": "text", "text": f"Response JSON schema: {schema}"})
        for scene in pick_keyframes(request.measurements.scenes, self.options.openai_max_images):
            assert scene.keyframe_jpeg is not None  # pick_keyframes keeps only these
            label = f"Keyframe of scene {scene.index} ({scene.start:.1f}-{scene.end:.1f} s):"
            content.append({"type": "text", "text": label})
            content.append(
                {
                    "type": "image_url",
                    "image_url": {"url": _data_url(scene.keyframe_jpeg), "detail": "low"},
                }
            )
        if ask.follow_up is not None:
            content.append({"type": "text", "text": ask.follow_up})
        return content

    def _response_format(self, schema: dict[str, Any]) -> dict[str, Any]:
        if self._json_schema_ok:
            return {
                "type": "json_schema",
                "json_schema": {"name": "reel_answer", "strict": True, "schema": schema},
            }
        return {"type": "json_object"}

    def _complete(self, request: WriteRequest, prompt: Prompt, ask: Ask, deadline: float) -> Any:
        client = self.client()
        s = self.options

        def attempt() -> Any:
            response_format = self._response_format(ask.schema)
            extra: dict[str, Any] = {}
            if s.openai_temperature is not None:
                extra["temperature"] = s.openai_temperature
            try:
                return client.chat.completions.create(  # type: ignore[call-overload]
                    model=s.openai_model,
                    messages=[
                        {"role": "system", "content": prompt.system},
                        {"role": "user", "content": self._user_content(request, prompt, ask)},
                    ],
                    response_format=response_format,
                    **extra,
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
                return call_with_retries(
                    attempt,
                    classify,
                    self.policy(),
                    label="OpenAI",
                    limiter=self.limiter(),
                    circuit=(
                        circuit_for(self.context, self.name)
                        if self.context.circuit_breaker
                        else None
                    ),
                    deadline=deadline,
                )
            except _SchemaFormatUnsupported:
                log.info("Server refused json_schema output; falling back to json_object")
                self._json_schema_ok = False
            except ModelNotFoundError as exc:
                raise self._model_not_found(exc.message.removeprefix("OpenAI: ")) from exc

    @contextmanager
    def conversation(
        self, request: WriteRequest, prompt: Prompt, meter: UsageMeter, deadline: float
    ) -> Iterator[Send]:
        def send(ask: Ask) -> Reply:
            return read_completion(self._complete(request, prompt, ask, deadline), meter)

        yield send


def read_completion(response: Any, meter: UsageMeter) -> Reply:
    """The answer text; refusals and filters raise, an empty answer is a Reply without text."""
    usage = getattr(response, "usage", None)
    if usage is not None:
        meter.add(usage.prompt_tokens, usage.completion_tokens, usage.total_tokens)
    else:
        meter.add(None, None, None)
    if not response.choices:
        return Reply(None, problem="no choices in the response")
    choice = response.choices[0]
    if choice.finish_reason == "content_filter":
        raise ProviderBlockedError(
            "The model stopped the answer for safety reasons (content_filter)"
        )
    refusal = getattr(choice.message, "refusal", None)
    if refusal:
        raise ProviderBlockedError(f"The model refused: {' '.join(str(refusal).split())[:300]}")
    text: str | None = choice.message.content
    truncated = choice.finish_reason == "length"
    if not text or not text.strip():
        return Reply(
            None,
            truncated=truncated,
            problem=f"empty answer (content null, finish_reason={choice.finish_reason})",
        )
    return Reply(text, truncated=truncated)
