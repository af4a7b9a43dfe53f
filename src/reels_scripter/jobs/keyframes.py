"""Scene keyframes of jobs: stored under the owner and the video's content hash, served
under the job.

Keyframes depend on the video's content alone, so the worker stores them under its SHA-256
within the job's owner (`keyframes/<owner>/<sha256>/scene_000.jpg`): the owner's
deduplicated jobs (same content) show the same pictures without copying them, and they are
reference-counted by the owner's jobs of that content, so the owner's last delete removes
them. Nothing is shared across owners: one tenant's delete never leaves its pictures stored
for another, and no tenant learns what another uploaded. (Results written before this
naming hold `keyframes/<sha256>/...`; those go when no job of that content remains.) The
stored result holds each scene's object name; the API turns it into a URL under the job
the client asked for, so no storage key leaks to clients.
"""

from __future__ import annotations

from typing import Any

from reels_scripter.keyframes import file_name
from reels_scripter.storage import Storage

PREFIX = "keyframes/"
# the folder of jobs made without an API key (owner ids are `key_<hex>`, never this)
NO_OWNER = "no-key"


def owner_prefix(owner: str | None, sha256: str) -> str:
    return f"{PREFIX}{owner or NO_OWNER}/{sha256}/"


def object_name(owner: str | None, sha256: str, index: int) -> str:
    return owner_prefix(owner, sha256) + file_name(index)


class StorageSink:
    """`KeyframeSink` for the service: the JPEG bytes go straight into storage, in the
    folder of the job's owner."""

    def __init__(self, storage: Storage, owner: str | None) -> None:
        self.storage = storage
        self.owner = owner

    def save(self, sha256: str, index: int, jpeg: bytes) -> str:
        name = object_name(self.owner, sha256, index)
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


def delete_owned(storage: Storage, owner: str | None, sha256: str) -> None:
    """The owner's keyframes of this content (call when the owner's last such job goes)."""
    storage.delete_prefix(owner_prefix(owner, sha256))


def delete_legacy(storage: Storage, sha256: str) -> None:
    """Keyframes stored before they were kept per owner (call when no job of it remains)."""
    storage.delete_prefix(f"{PREFIX}{sha256}/")
