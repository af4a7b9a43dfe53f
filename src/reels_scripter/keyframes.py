"""Keyframes as an output stage: each scene's JPEG goes straight to where it is kept.

The analysis keeps each scene's keyframe as bytes on the measurements. Once the result is
composed, a `KeyframeSink` stores them and returns one stable reference per scene, which the
result keeps as `timeline.scenes[].keyframe`: a file path for the CLI, a storage object name
for the service (which the API turns into a URL of the job that asks).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from reels_scripter.analysis.models import Measurements


class KeyframeSink(Protocol):
    def save(self, sha256: str, index: int, jpeg: bytes) -> str:
        """Keep the JPEG of scene `index` of the video with content hash `sha256`; return the
        reference the result will hold. Keyframes depend on the content alone, so a sink may
        share them between every job of the same bytes."""
        ...


def file_name(index: int) -> str:
    return f"scene_{index:03d}.jpg"


class FolderSink:
    """Writes `scene_000.jpg`... into a folder (into `<folder>/<sha256[:16]>/` with
    `by_content`, so reruns of the same reel reuse one folder); references are file paths."""

    def __init__(self, directory: Path, *, by_content: bool = False) -> None:
        self.directory = directory
        self.by_content = by_content

    def save(self, sha256: str, index: int, jpeg: bytes) -> str:
        folder = self.directory / sha256[:16] if self.by_content else self.directory
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / file_name(index)
        path.write_bytes(jpeg)
        return str(path)


def publish(m: Measurements, sink: KeyframeSink) -> dict[int, str]:
    """Store every scene's keyframe through `sink`: {scene index: reference}."""
    return {
        s.index: sink.save(m.sha256, s.index, s.keyframe_jpeg) for s in m.scenes if s.keyframe_jpeg
    }
