"""Gemini on the official `google-genai` SDK: the video itself plus the measured timeline.

Transport notes (why the code looks the way it does):
- The SDK honours GOOGLE_GEMINI_BASE_URL (and GOOGLE_VERTEX_BASE_URL); we never pass a
  base_url ourselves so a proxy, a regional endpoint or the test fake keeps working.
- The SDK's own retries are off by default; ours (`retry.py`) honour RetryInfo and share a
  time budget and the cross-worker rate limiter.
- Inline data is limited by the whole request (base64 included) to 20 MB, so a reel whose
  base64 would not fit goes through the Files API and is deleted afterwards, also on failure.
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path
from typing import Literal

import httpx
from google import genai
from google.auth import exceptions as google_auth_errors
from google.genai import errors as genai_errors
from google.genai import types

from reels_scripter.config import Settings
from reels_scripter.providers.answer import (
    Answer,
    Correction,
    UsageMeter,
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
    retry_info_delay,
)

log = logging.getLogger(__name__)

MB = 1024 * 1024
# Room for the prompt, the measured data and the JSON envelope next to the base64 video.
PROMPT_MARGIN_BYTES = 512 * 1024

MIME_BY_SUFFIX = {
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".mov": "video/quicktime",
    ".webm": "video/webm",
    ".mkv": "video/x-matroska",
    ".avi": "video/x-msvideo",
    ".3gp": "video/3gpp",
    ".mpeg": "video/mpeg",
    ".mpg": "video/mpeg",
}
MEDIA_RESOLUTION = {
    "low": types.MediaResolution.MEDIA_RESOLUTION_LOW,
    "medium": types.MediaResolution.MEDIA_RESOLUTION_MEDIUM,
    "high": types.MediaResolution.MEDIA_RESOLUTION_HIGH,
}
SAFETY_FINISH = {
    types.FinishReason.SAFETY,
    types.FinishReason.RECITATION,
    types.FinishReason.BLOCKLIST,
    types.FinishReason.PROHIBITED_CONTENT,
    types.FinishReason.SPII,
    types.FinishReason.IMAGE_SAFETY,
}

VideoSource = Literal["inline", "files", "uri"]


def video_mime(path: Path) -> str:
    return MIME_BY_SUFFIX.get(path.suffix.lower(), "video/mp4")


def base64_size(size: int) -> int:
    return 4 * math.ceil(size / 3)


def choose_video_source(
    size: int, *, inline_limit_mb: float, vertex: bool, uri: str | None
) -> VideoSource:
    """Inline when the whole request fits; a gs:// URI on Vertex; otherwise the Files API."""
    if vertex and uri and uri.startswith("gs://"):
        return "uri"  # Vertex reads Cloud Storage itself: no bytes through this process
    if base64_size(size) + PROMPT_MARGIN_BYTES <= inline_limit_mb * MB:
        return "inline"
    if vertex:
        raise ProviderConfigError(
            f"Vertex AI needs a gs:// URI for a reel of {size / MB:.1f} MB "
            "(inline requests are limited); store uploads in GCS (STORAGE_BACKEND=gcs)"
        )
    return "files"


def classify(exc: Exception) -> Fault | None:
    """Map SDK / transport errors to retry decisions (None: not ours, let it propagate)."""
    if isinstance(exc, genai_errors.APIError):
        message = (exc.message or "").strip()[:300]
        text = f"HTTP {exc.code} {exc.status or ''}".rstrip() + (f": {message}" if message else "")
        if exc.code in RETRYABLE_STATUS:
            headers = getattr(getattr(exc, "response", None), "headers", None)
            delay = retry_info_delay(exc.details)
            if delay is None:
                delay = retry_after_header(dict(headers) if headers is not None else None)
            return Fault(retryable=True, message=text, server_delay=delay)
        bad_key = exc.code in (401, 403) or "api key" in message.lower()
        return Fault(retryable=False, message=text, config=bad_key or exc.code == 404)
    if isinstance(
        exc, google_auth_errors.DefaultCredentialsError | google_auth_errors.RefreshError
    ):
        # Vertex AI mode: no or bad Application Default Credentials.
        return Fault(retryable=False, message=f"Google credentials: {exc}"[:300], config=True)
    if isinstance(exc, google_auth_errors.TransportError):
        return Fault(retryable=True, message="network error fetching a Google access token")
    if isinstance(exc, httpx.TimeoutException):
        return Fault(retryable=True, message=f"timeout ({type(exc).__name__})")
    if isinstance(exc, httpx.TransportError):
        return Fault(retryable=True, message=f"network error ({type(exc).__name__})")
    return None


class GeminiProvider(Provider):
    name = "gemini"

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self._client: genai.Client | None = None
        self._limiter: RateLimiter | None = None

    @property
    def model(self) -> str | None:
        return self.settings.gemini_model

    # --- plumbing -------------------------------------------------------------------------

    def client(self) -> genai.Client:
        if self._client is not None:
            return self._client
        s = self.settings
        # HttpOptions.timeout is in milliseconds.
        http_options = types.HttpOptions(timeout=int(s.gemini_timeout_sec * 1000))
        try:
            if s.gemini_use_vertexai:
                if not s.google_cloud_project_id:
                    raise ProviderConfigError(
                        "Vertex AI mode needs GOOGLE_CLOUD_PROJECT_ID (and GOOGLE_CLOUD_LOCATION)"
                    )
                self._client = genai.Client(
                    vertexai=True,
                    project=s.google_cloud_project_id,
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
            key = f"gemini-{self.settings.gemini_model}".replace("/", "_")
            self._limiter = limiter_for(self.settings, key, self.settings.gemini_rpm)
        return self._limiter

    def policy(self) -> RetryPolicy:
        return RetryPolicy.from_settings(self.settings, self.settings.gemini_max_retries)

    # --- start-up check -------------------------------------------------------------------

    def check(self) -> None:
        client = self.client()
        model = self.settings.gemini_model
        try:
            call_with_retries(
                lambda: client.models.get(model=model), classify, self.policy(), label="Gemini"
            )
        except ProviderConfigError as exc:
            raise ProviderConfigError(
                f"Gemini model {model!r} is not available to this key (GEMINI_MODEL): {exc.message}"
            ) from exc

    # --- the video ------------------------------------------------------------------------

    def _video_metadata(self) -> types.VideoMetadata | None:
        fps = self.settings.gemini_video_fps
        return types.VideoMetadata(fps=fps) if fps else None

    def _upload(self, client: genai.Client, request: WriteRequest, deadline: float) -> types.File:
        path = request.video_path
        config = types.UploadFileConfig(
            mime_type=video_mime(path),
            # The user's file name may be personal; the content hash is enough to find it.
            display_name=f"reel-{request.measurements.sha256[:16]}",
        )
        try:
            uploaded: types.File = call_with_retries(
                lambda: client.files.upload(file=path, config=config),
                classify,
                self.policy(),
                label="Gemini upload",
                deadline=deadline,
            )
        except (KeyError, ValueError) as exc:
            # The SDK reports a broken resumable session (no upload URL, not finalised) this way.
            raise ProviderError(f"Gemini upload failed: {exc}", transient=True) from exc
        return uploaded

    def _wait_active(self, client: genai.Client, file: types.File) -> types.File:
        s = self.settings
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
                lambda: client.files.get(name=name), classify, self.policy(), label="Gemini files"
            )
        if file.state == types.FileState.FAILED:
            reason = file.error.message if file.error and file.error.message else "no reason given"
            raise ProviderError(f"Gemini could not process the uploaded video: {reason}")
        return file

    def _delete(self, client: genai.Client, name: str) -> None:
        try:
            client.files.delete(name=name)
        except Exception as exc:  # cleanup must not hide the real outcome; files expire in 48 h
            log.warning("Could not delete Gemini file %s: %s", name, type(exc).__name__)

    # --- the request ----------------------------------------------------------------------

    def _config(self, prompt: Prompt) -> types.GenerateContentConfig:
        resolution = self.settings.gemini_media_resolution
        return types.GenerateContentConfig(
            system_instruction=prompt.system,
            response_mime_type="application/json",
            response_schema=Answer,
            media_resolution=MEDIA_RESOLUTION[resolution] if resolution else None,
            temperature=0.7,
        )

    def _generate(
        self,
        client: genai.Client,
        contents: list[types.Content],
        config: types.GenerateContentConfig,
        usage: UsageMeter,
        deadline: float,
    ) -> str:
        model = self.settings.gemini_model
        response: types.GenerateContentResponse = call_with_retries(
            lambda: client.models.generate_content(model=model, contents=contents, config=config),
            classify,
            self.policy(),
            label="Gemini",
            limiter=self.limiter(),
            deadline=deadline,
        )
        meta = response.usage_metadata
        if meta is not None:
            output = (meta.candidates_token_count or 0) + (meta.thoughts_token_count or 0)
            usage.add(meta.prompt_token_count, output, meta.total_token_count)
        else:
            usage.add(None, None, None)
        feedback = response.prompt_feedback
        if feedback is not None and feedback.block_reason:
            detail = f": {feedback.block_reason_message}" if feedback.block_reason_message else ""
            raise ProviderError(
                f"Gemini refused the request (block_reason={feedback.block_reason.value}){detail}"
            )
        candidate = response.candidates[0] if response.candidates else None
        if candidate is None:
            raise ProviderError("Gemini returned no answer (no candidates)", transient=True)
        reason = candidate.finish_reason
        if reason in SAFETY_FINISH:
            raise ProviderError(
                f"Gemini stopped the answer for safety reasons (finish_reason={reason.value})"
            )
        parts = candidate.content.parts if candidate.content and candidate.content.parts else []
        # Thought summaries are not the answer; only the visible text parts are.
        text = "".join(p.text for p in parts if p.text and not p.thought)
        if not text.strip():
            shown = reason.value if reason else "none"
            raise ProviderError(
                f"Gemini returned an empty answer (finish_reason={shown})", transient=True
            )
        return text

    def write(self, request: WriteRequest) -> Creative:
        client = self.client()
        s = self.settings
        deadline = time.monotonic() + s.ai_retry_total_sec
        # With a gs:// URI on Vertex the local copy may already be gone; its size is then moot.
        size = request.video_path.stat().st_size if request.video_path.exists() else 0
        source = choose_video_source(
            size,
            inline_limit_mb=s.gemini_inline_max_mb,
            vertex=s.gemini_use_vertexai,
            uri=request.video_uri,
        )
        metadata = self._video_metadata()
        mime = video_mime(request.video_path)
        uploaded: types.File | None = None
        try:
            if source == "inline":
                video = types.Part(
                    inline_data=types.Blob(data=request.video_path.read_bytes(), mime_type=mime),
                    video_metadata=metadata,
                )
            elif source == "uri":
                video = types.Part(
                    file_data=types.FileData(file_uri=request.video_uri, mime_type=mime),
                    video_metadata=metadata,
                )
            else:
                uploaded = self._upload(client, request, deadline)
                active = self._wait_active(client, uploaded)
                video = types.Part(
                    file_data=types.FileData(
                        file_uri=active.uri, mime_type=active.mime_type or mime
                    ),
                    video_metadata=metadata,
                )
            return self._write_with(client, request, video, deadline)
        finally:
            if uploaded is not None and uploaded.name:
                self._delete(client, uploaded.name)

    def _write_with(
        self, client: genai.Client, request: WriteRequest, video: types.Part, deadline: float
    ) -> Creative:
        prompt = build_prompt(request.measurements, request.rows, request.target_language)
        config = self._config(prompt)
        usage = UsageMeter()

        def ask(correction: Correction | None) -> str | None:
            first = types.Content(role="user", parts=[video, types.Part(text=prompt.user)])
            if correction is None:
                return self._generate(client, [first], config, usage, deadline)
            # The correction is about the JSON, not the pictures: resend the data and the rejected
            # answer but not the video, which is most of the prompt tokens.
            contents = [
                types.Content(role="user", parts=[types.Part(text=prompt.user)]),
                types.Content(role="model", parts=[types.Part(text=correction.previous)]),
                types.Content(role="user", parts=[types.Part(text=correction.message())]),
            ]
            return self._generate(client, contents, config, usage, deadline)

        answer = answer_with_correction(ask, request.rows, request.target_language, "Gemini")
        return to_creative(answer, model=self.settings.gemini_model, usage=usage.as_dict())
