"""Scene keyframes of jobs: stored under the video's content hash, served under the job.

Keyframes depend on the video's content alone, so the worker stores them under its SHA-256
(`keyframes/<sha256>/scene_000.jpg`): a deduplicated job (same content, maybe another owner)
shows the same pictures without copying them. The stored result holds each scene's object
name; the API turns it into a URL under the job the client asked for, so no storage key
leaks to clients and no job id leaks across owners.
"""

from __future__ import annotations

from typing import Any

from reels_scripter.keyframes import file_name
from reels_scripter.storage import Storage

PREFIX = "keyframes/"


def object_name(sha256: str, index: int) -> str:
    return f"{PREFIX}{sha256}/{file_name(index)}"


class StorageSink:
    """`KeyframeSink` for the service: the JPEG bytes go straight into storage."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def save(self, sha256: str, index: int, jpeg: bytes) -> str:
        name = object_name(sha256, index)
        self.storage.put_bytes(jpeg, name, "image/jpeg")
        return name


def url(job_id: str, index: int) -> str:
    return f"/api/jobs/{job_id}/keyframes/{index}.jpg"


def with_urls(result: dict[str, Any] | None, job_id: str) -> dict[str, Any] | None:
    """The stored result as a client sees it: keyframe references become URLs of this job."""
    if not result:
        return result
    scenes = result.get("timeline", {}).get("scenes", [])
    if not any(s.get("keyframe") for s in scenes):
        return result
    shown = {**result, "timeline": {**result["timeline"], "scenes": []}}
    for scene in scenes:
        ref = scene.get("keyframe")
        shown["timeline"]["scenes"].append(
            {**scene, "keyframe": url(job_id, scene["index"]) if ref else None}
        )
    return shown


def stored_name(result: dict[str, Any] | None, index: int) -> str | None:
    """The storage object of scene `index`'s keyframe, if the result has one."""
    for scene in (result or {}).get("timeline", {}).get("scenes", []):
        if scene.get("index") == index:
            ref = scene.get("keyframe")
            return ref if isinstance(ref, str) and ref.startswith(PREFIX) else None
    return None


def delete_all(storage: Storage, sha256: str) -> None:
    storage.delete_prefix(f"{PREFIX}{sha256}/")
