"""Talking to Gemini: the client, error classification and retries, the Files API.

Why it looks the way it does:
- The SDK honours GOOGLE_GEMINI_BASE_URL (and GOOGLE_VERTEX_BASE_URL); we never pass a
  base_url ourselves so a proxy, a regional endpoint or the test fake keeps working.
- The SDK's own retries are off (its default); ours (`retry.py`) honour RetryInfo and share a
  time budget and the cross-worker rate limiter.
- A model that does not exist (any more) answers 404 NOT_FOUND (a retired one sometimes 429):
  that is never retried and names GEMINI_MODEL with the current models to choose from.
- Inline data is limited by the whole request (base64 included) to 20 MB, so a reel whose
  copies would not fit goes through the Files API and is deleted afterwards, also on failure.
"""

from __future__ import annotations

import logging
import math
import re
import time
from functools import partial
from pathlib import Path
from typing import Literal

import httpx
from google import genai
from google.auth import exceptions as google_auth_errors
from google.genai import errors as genai_errors
from google.genai import types

from reels_scripter.providers.base import (
    ModelNotFoundError,
    ProviderConfigError,
    ProviderContext,
    ProviderError,
)
from reels_scripter.providers.circuit import CircuitBreaker, circuit_for
from reels_scripter.providers.gemini.options import (
    CURRENT_MODELS,
    DEFAULT_MODEL,
    QUALITY_MODEL,
    GeminiOptions,
)
from reels_scripter.providers.ratelimit import RateLimiter, limiter_for
from reels_scripter.providers.retry import (
    RETRYABLE_STATUS,
    Fault,
    RetryPolicy,
    call_with_retries,
    retry_after_header,
    retry_info_delay,
)

log = logging.getLogger(__name__)

MB = 1024 * 1024
# Room for the prompt, the measured data and the JSON envelope next to the base64 video.
PROMPT_MARGIN_BYTES = 512 * 1024
# How a retired model's 429 differs from a quota 429 (seen in the wild; Google documents 404).
_RETIRED = re.compile(
    r"(no longer (available|supported)|is not found|not supported for generatecontent|"
    r"deprecated|retired|shut ?down)",
    re.IGNORECASE,
)

VideoSource = Literal["inline", "files", "uri"]

# google-genai sends through httpx2 (a fork of httpx) when it is installed, else httpx: a timeout
# or a reset surfaces as either library's exception, and both must be retried.
_TIMEOUTS: tuple[type[Exception], ...] = (httpx.TimeoutException,)
_NETWORK: tuple[type[Exception], ...] = (httpx.TransportError,)
try:
    import httpx2

    _TIMEOUTS += (httpx2.TimeoutException,)
    _NETWORK += (httpx2.TransportError,)
except ImportError:  # pragma: no cover - depends on google-genai's optional extra
    pass


def base64_size(size: int) -> int:
    return 4 * math.ceil(size / 3)


def choose_video_source(
    size: int, *, inline_limit_mb: float, vertex: bool, uri: str | None, copies: int = 1
) -> VideoSource:
    """Inline when the whole request fits; a gs:// URI on Vertex; otherwise the Files API.

    `copies`: how many parts carry the video (the hook window is a second part of the same
    file); inline, each part carries the bytes again, a file or URI is only referenced.
    """
    if vertex and uri and uri.startswith("gs://"):
        return "uri"  # Vertex reads Cloud Storage itself: no bytes through this process
    if copies * base64_size(size) + PROMPT_MARGIN_BYTES <= inline_limit_mb * MB:
        return "inline"
    if vertex:
        raise ProviderConfigError(
            f"Vertex AI needs a gs:// URI for a reel of {size / MB:.1f} MB "
            "(inline requests are limited); store uploads in GCS (STORAGE_BACKEND=gcs)"
        )
    return "files"


def classify(exc: Exception, *, model_call: bool = True) -> Fault | None:
    """Map SDK / transport errors to retry decisions (None: not ours, let it propagate).

    `model_call`: the call names the model (generate, models.get), so a 404 means the model;
    on the Files API a 404 is a missing file.
    """
    if isinstance(exc, genai_errors.APIError):
        message = " ".join(str(exc.message or "").split())[:300]
        text = f"HTTP {exc.code} {exc.status or ''}".rstrip() + (f": {message}" if message else "")
        if model_call and (exc.code == 404 or (exc.code == 429 and _RETIRED.search(message))):
            return Fault(retryable=False, message=text, missing_model=True)
        if exc.code in RETRYABLE_STATUS:
            headers = getattr(getattr(exc, "response", None), "headers", None)
            delay = retry_info_delay(exc.details)
            if delay is None:
                delay = retry_after_header(dict(headers) if headers is not None else None)
            return Fault(retryable=True, message=text, server_delay=delay, quota=exc.code == 429)
        bad_key = exc.code in (401, 403) or "api key" in message.lower()
        return Fault(retryable=False, message=text, config=bad_key)
    if isinstance(exc, genai_errors.UnknownApiResponseError):
        # A 200 whose body is not JSON: a proxy's error page, a cut connection.
        return Fault(retryable=True, message="unreadable response (not JSON)")
    if isinstance(
        exc, google_auth_errors.DefaultCredentialsError | google_auth_errors.RefreshError
    ):
        # Vertex AI mode: no or bad Application Default Credentials.
        return Fault(retryable=False, message=f"Google credentials: {exc}"[:300], config=True)
    if isinstance(exc, google_auth_errors.TransportError):
        return Fault(retryable=True, message="network error fetching a Google access token")
    if isinstance(exc, _TIMEOUTS):
        return Fault(retryable=True, message=f"timeout ({type(exc).__name__})")
    if isinstance(exc, _NETWORK):
        return Fault(retryable=True, message=f"network error ({type(exc).__name__})")
    return None


def model_not_found(model: str, detail: str) -> ModelNotFoundError:
    """The clear, non-retried error for a model this key cannot use (typo, retired)."""
    return ModelNotFoundError(
        f"Gemini model {model!r} is not available ({detail}); set GEMINI_MODEL to a current "
        f"model, e.g. {DEFAULT_MODEL} (the default) or {QUALITY_MODEL} (quality)",
        params={"model": model, "setting": "GEMINI_MODEL", "suggested": ", ".join(CURRENT_MODELS)},
    )


class GeminiTransport:
    """One client per provider instance; every call goes through the shared retry policy."""

    def __init__(self, options: GeminiOptions, context: ProviderContext) -> None:
        self.options = options
        self.context = context
        self._client: genai.Client | None = None
        self._limiter: RateLimiter | None = None

    @property
    def model(self) -> str:
        return self.options.gemini_model

    def client(self) -> genai.Client:
        if self._client is not None:
            return self._client
        s = self.options
        project = self.context.google_cloud_project_id
        # HttpOptions.timeout is in milliseconds.
        http_options = types.HttpOptions(timeout=int(s.gemini_timeout_sec * 1000))
        try:
            if s.gemini_use_vertexai:
                if not project:
                    raise ProviderConfigError(
                        "Vertex AI mode needs GOOGLE_CLOUD_PROJECT_ID (and GOOGLE_CLOUD_LOCATION)"
                    )
                self._client = genai.Client(
                    vertexai=True,
                    project=project,
                    location=s.google_cloud_location,
                    http_options=http_options,
                )
            else:
                if s.google_ai_api_key is None or not s.google_ai_api_key.get_secret_value():
                    raise ProviderConfigError(
                        "Gemini needs an API key: set GOOGLE_AI_API_KEY (or GEMINI_API_KEY)"
                    )
                self._client = genai.Client(
                    api_key=s.google_ai_api_key.get_secret_value(), http_options=http_options
                )
        except ValueError as exc:  # the SDK's own configuration complaints
            raise ProviderConfigError(f"Gemini client cannot be configured: {exc}") from exc
        return self._client

    def limiter(self) -> RateLimiter:
        if self._limiter is None:
            # The quota is per project and model, so is the shared count.
            key = f"gemini-{self.model}".replace("/", "_")
            self._limiter = limiter_for(self.context, key, self.options.gemini_rpm)
        return self._limiter

    def policy(self) -> RetryPolicy:
        return RetryPolicy.for_context(self.context, self.options.gemini_max_retries)

    def circuit(self) -> CircuitBreaker | None:
        return circuit_for(self.context, "gemini") if self.context.circuit_breaker else None

    # --- the model --------------------------------------------------------------------------

    def check_model(self) -> None:
        client = self.client()
        try:
            call_with_retries(
                lambda: client.models.get(model=self.model),
                classify,
                self.policy(),
                label="Gemini",
                circuit=self.circuit(),
            )
        except ModelNotFoundError as exc:
            raise model_not_found(self.model, exc.message.removeprefix("Gemini: ")) from exc

    def generate(
        self,
        contents: list[types.Content],
        config: types.GenerateContentConfig,
        deadline: float,
    ) -> types.GenerateContentResponse:
        client = self.client()
        try:
            response: types.GenerateContentResponse = call_with_retries(
                lambda: client.models.generate_content(
                    model=self.model, contents=contents, config=config
                ),
                classify,
                self.policy(),
                label="Gemini",
                limiter=self.limiter(),
                deadline=deadline,
                circuit=self.circuit(),
            )
        except ModelNotFoundError as exc:
            raise model_not_found(self.model, exc.message.removeprefix("Gemini: ")) from exc
        return response

    # --- the Files API ----------------------------------------------------------------------

    def upload(self, path: Path, mime: str, display_name: str, deadline: float) -> types.File:
        client = self.client()
        config = types.UploadFileConfig(mime_type=mime, display_name=display_name)
        try:
            uploaded: types.File = call_with_retries(
                lambda: client.files.upload(file=path, config=config),
                partial(classify, model_call=False),
                self.policy(),
                label="Gemini upload",
                deadline=deadline,
            )
        except (KeyError, ValueError) as exc:
            # The SDK reports a broken resumable session (no upload URL, not finalised) this way.
            raise ProviderError(f"Gemini upload failed: {exc}", transient=True) from exc
        return uploaded

    def wait_active(self, file: types.File, deadline: float) -> types.File:
        s = self.options
        client = self.client()
        give_up = time.monotonic() + s.gemini_file_active_timeout_sec
        name = file.name or ""
        while file.state not in (types.FileState.ACTIVE, types.FileState.FAILED):
            if time.monotonic() >= give_up:
                raise ProviderError(
                    f"Gemini did not finish processing the uploaded video within "
                    f"{s.gemini_file_active_timeout_sec:.0f} s (GEMINI_FILE_ACTIVE_TIMEOUT_SEC)",
                    transient=True,
                )
            time.sleep(s.gemini_file_poll_sec)
            file = call_with_retries(
                lambda: client.files.get(name=name),
                partial(classify, model_call=False),
                self.policy(),
                label="Gemini files",
                deadline=deadline,
            )
        if file.state == types.FileState.FAILED:
            reason = file.error.message if file.error and file.error.message else "no reason given"
            raise ProviderError(f"Gemini could not process the uploaded video: {reason}")
        return file

    def delete(self, name: str) -> None:
        try:
            self.client().files.delete(name=name)
        except Exception as exc:  # cleanup must not hide the real outcome; files expire in 48 h
            log.warning("Could not delete Gemini file %s: %s", name, type(exc).__name__)
