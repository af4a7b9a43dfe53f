"""Gemini on the official `google-genai` SDK: the video itself plus the measured timeline.

The write flow (ask → read → follow up → fill) is the shared one (`flow.py`); this module only
sets up the video for the conversation and sends each request through the transport.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from google.genai import types

from reels_scripter.providers.base import ProviderContext, WriteRequest
from reels_scripter.providers.flow import Ask, Reply, Send, StructuredProvider
from reels_scripter.providers.gemini import request as req
from reels_scripter.providers.gemini.options import GeminiOptions
from reels_scripter.providers.gemini.transport import GeminiTransport, choose_video_source
from reels_scripter.providers.prompt import Prompt
from reels_scripter.providers.schema import Dialect
from reels_scripter.providers.usage import UsageMeter


class GeminiProvider(StructuredProvider):
    name = "gemini"
    label = "Gemini"
    dialect: ClassVar[Dialect] = "gemini"
    Options = GeminiOptions
    options: GeminiOptions

    def __init__(self, options: GeminiOptions, context: ProviderContext) -> None:
        super().__init__(options, context)
        self.transport = GeminiTransport(options, context)

    @property
    def model(self) -> str | None:
        return self.options.gemini_model

    def check(self) -> None:
        self.transport.check_model()

    def prepare(self) -> None:
        self.transport.client()

    def price_overrides(self) -> tuple[float | None, float | None]:
        return self.options.gemini_price_input_per_mtok, self.options.gemini_price_output_per_mtok

    def media_note(self, request: WriteRequest) -> str:
        m = request.measurements
        return req.media_note(self.options, m.duration, m.hook.window)

    @contextmanager
    def conversation(
        self, request: WriteRequest, prompt: Prompt, meter: UsageMeter, deadline: float
    ) -> Iterator[Send]:
        s = self.options
        m = request.measurements
        copies = 2 if req.hook_end(s, m.duration, m.hook.window) is not None else 1
        # With a gs:// URI on Vertex the local copy may already be gone; its size is then moot.
        size = request.video_path.stat().st_size if request.video_path.exists() else 0
        source = choose_video_source(
            size,
            inline_limit_mb=s.gemini_inline_max_mb,
            vertex=s.gemini_use_vertexai,
            uri=request.video_uri,
            copies=copies,
        )
        # Sniffed from the content at upload: never guessed from a file name.
        mime = request.video_mime
        uploaded: types.File | None = None
        try:
            media: dict[str, Any]
            if source == "inline":
                media = {
                    "inline_data": types.Blob(data=request.video_path.read_bytes(), mime_type=mime)
                }
            elif source == "uri":
                media = {"file_data": types.FileData(file_uri=request.video_uri, mime_type=mime)}
            else:
                uploaded = self.transport.upload(
                    request.video_path,
                    mime,
                    # The user's file name may be personal; the content hash is enough.
                    f"reel-{m.sha256[:16]}",
                    deadline,
                )
                active = self.transport.wait_active(uploaded, deadline)
                media = {
                    "file_data": types.FileData(
                        file_uri=active.uri, mime_type=active.mime_type or mime
                    )
                }
            video = req.video_parts(media, s, m.duration, m.hook.window)

            def send(ask: Ask) -> Reply:
                response = self.transport.generate(
                    req.contents(video, prompt, ask.follow_up),
                    req.generation_config(s, prompt, ask.schema),
                    deadline,
                )
                return req.read_response(response, meter)

            yield send
        finally:
            if uploaded is not None and uploaded.name:
                self.transport.delete(uploaded.name)
