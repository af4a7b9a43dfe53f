"""The storage protocol the service uses for uploaded videos, and its errors."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path
from typing import Protocol, runtime_checkable

from reels_scripter.errors import AppError


class StorageError(AppError, code="storage_failed", http_status=503):
    """A storage operation failed. `transient` says whether retrying may help."""


class ObjectNotFoundError(StorageError, code="video_missing", http_status=404): ...


def random_object_name(prefix: str = "uploads/") -> str:
    # Never derived from the client's file name: no path tricks, no collisions, no leaks.
    return f"{prefix}{uuid.uuid4().hex}"


@runtime_checkable
class Storage(Protocol):
    name: str

    def upload_file(self, local: Path, name: str, content_type: str | None = None) -> None: ...

    def put_bytes(self, data: bytes, name: str, content_type: str | None = None) -> None:
        """Store small bytes (a keyframe) as object `name`, atomically."""
        ...

    def read_bytes(self, name: str) -> bytes:
        """The whole object (small ones only); raises ObjectNotFoundError when it is gone."""
        ...

    def download_to(self, name: str, local: Path) -> None:
        """Write the object to `local`; raises ObjectNotFoundError when it is gone."""
        ...

    def delete(self, name: str) -> None:
        """Delete the object; a missing object is not an error."""
        ...

    def delete_prefix(self, prefix: str) -> None:
        """Delete every object under `prefix` (and the folder itself, where there is one)."""
        ...

    def exists(self, name: str) -> bool: ...

    def list_older_than(self, prefix: str, age: timedelta) -> list[str]:
        """Names under `prefix` created more than `age` ago."""
        ...

    def uri(self, name: str) -> str | None:
        """A URI another service can read (gs:// for GCS); None when there is none."""
        ...

    def check(self) -> None:
        """Raise StorageError when the backend is not usable (readiness probe)."""
        ...

    def new_object_name(self, prefix: str = "uploads/") -> str: ...


@runtime_checkable
class RangeReadable(Protocol):
    """A backend that can read part of an object (for streaming a video with HTTP Range).

    Optional: a backend without it cannot stream stored videos to a browser.
    """

    def size(self, name: str) -> int:
        """The object's size in bytes; raises ObjectNotFoundError when it is gone."""
        ...

    def read_range(self, name: str, start: int, length: int) -> bytes:
        """Up to `length` bytes from offset `start`; raises ObjectNotFoundError when gone."""
        ...
