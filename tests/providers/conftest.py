"""Hand-built measurements and rows, plus the schema-driven fake servers wired through the env."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from reels_scripter.analysis.models import Measurements
from reels_scripter.config import Settings
from reels_scripter.providers.base import WriteRequest
from support.fake_ai import FakeGemini, FakeOpenAI, serve_gemini
from support.provider_data import make_measurements, make_rows


@pytest.fixture
def settings(settings_factory: Callable[..., Settings]) -> Callable[..., Settings]:
    return settings_factory


@pytest.fixture
def write_request(tmp_path: Path) -> Callable[..., WriteRequest]:
    """Factory: a WriteRequest whose video file is `size` arbitrary bytes (not decoded by us)."""

    def factory(
        size: int = 200_000,
        measurements: Measurements | None = None,
        name: str = "reel.mp4",
        mime: str = "video/mp4",
    ) -> WriteRequest:
        path = tmp_path / name
        with path.open("wb") as fh:
            chunk = bytes(range(256)) * 4096  # 1 MiB
            left = size
            while left > 0:
                fh.write(chunk[: min(left, len(chunk))])
                left -= len(chunk)
        m = measurements or make_measurements()
        return WriteRequest(measurements=m, rows=make_rows(m), video_path=path, video_mime=mime)

    return factory


@pytest.fixture
def fake_gemini(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGemini]:
    with serve_gemini(monkeypatch) as server:
        yield server
    # Whatever the test did: every generateContent call asked for JSON with a JSON schema (and,
    # as serve_gemini checks, the fake answered every request itself).
    for call in server.generate_calls():
        config = call.json["generationConfig"]
        assert config["responseMimeType"] == "application/json"
        assert config["responseJsonSchema"]["type"] == "object"
        assert "responseSchema" not in config


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI()
    with server.running():
        yield server
    assert server.internal_errors == []
