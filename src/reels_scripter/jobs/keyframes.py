"""Scene keyframes of a job: where they live in storage and how a client reaches them.

Keyframes are derived from the video's content alone, so they are stored under its SHA-256:
a deduplicated job (same content, maybe another owner) shows the same pictures without
copying them. The stored result holds each scene's file name; the API turns it into a URL
under the job the client asked for, so no job id or storage key leaks across owners.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from reels_scripter.contract import AnalysisResult
from reels_scripter.storage import Storage

PREFIX = "keyframes/"
_FILE = re.compile(r"scene_(\d{3})\.jpg")


def object_name(sha256: str, index: int) -> str:
    return f"{PREFIX}{sha256}/scene_{index:03d}.jpg"


def publish(result: AnalysisResult, written: Path, sha256: str, storage: Storage) -> None:
    """Upload the JPEGs the pipeline wrote to `written`; the result keeps only file names."""
    try:
        for scene in result.timeline.scenes:
            if scene.keyframe is None:
                continue
            local = Path(scene.keyframe)
            storage.upload_file(local, object_name(sha256, scene.index), "image/jpeg")
            scene.keyframe = local.name
    finally:
        shutil.rmtree(written, ignore_errors=True)


def url(job_id: str, index: int) -> str:
    return f"/api/jobs/{job_id}/keyframes/{index}.jpg"


def with_urls(result: dict[str, Any] | None, job_id: str) -> dict[str, Any] | None:
    """The stored result as a client sees it: keyframe file names become URLs of this job."""
    if not result:
        return result
    scenes = result.get("timeline", {}).get("scenes", [])
    if not any(s.get("keyframe") for s in scenes):
        return result
    shown = {**result, "timeline": {**result["timeline"], "scenes": []}}
    for scene in scenes:
        name = scene.get("keyframe")
        shown["timeline"]["scenes"].append(
            {**scene, "keyframe": url(job_id, scene["index"]) if name else None}
        )
    return shown


def has_keyframe(result: dict[str, Any] | None, index: int) -> bool:
    for scene in (result or {}).get("timeline", {}).get("scenes", []):
        if scene.get("index") == index:
            return bool(scene.get("keyframe") and _FILE.fullmatch(scene["keyframe"]))
    return False


def read(storage: Storage, sha256: str, index: int) -> bytes:
    """The JPEG bytes (tens of KB); raises ObjectNotFoundError when it is gone."""
    with tempfile.TemporaryDirectory(prefix="keyframe-") as tmp:
        local = Path(tmp) / "scene.jpg"
        storage.download_to(object_name(sha256, index), local)
        return local.read_bytes()


def delete_all(storage: Storage, sha256: str) -> None:
    from datetime import timedelta

    for name in storage.list_older_than(f"{PREFIX}{sha256}/", timedelta(0)):
        storage.delete(name)
