"""Storage in a folder (DATA_DIR/storage): the default for one machine and for development."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from reels_scripter.config import Settings
from reels_scripter.storage.base import ObjectNotFoundError, StorageError, random_object_name


class LocalStorage:
    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    @classmethod
    def from_settings(cls, settings: Settings) -> LocalStorage:
        return cls(settings.data_dir / "storage")

    def _path(self, name: str) -> Path:
        # Names are ours (random), but refuse anything that would escape the root anyway.
        path = (self.root / name).resolve()
        if not path.is_relative_to(self.root) or path == self.root:
            raise StorageError(f"invalid object name: {name!r}")
        return path

    def upload_file(self, local: Path, name: str, content_type: str | None = None) -> None:
        target = self._path(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Copy to a temp file beside the target, then rename: readers never see half a file.
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-", suffix=".part")
        os.close(fd)
        try:
            shutil.copyfile(local, tmp)
            Path(tmp).replace(target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def put_bytes(self, data: bytes, name: str, content_type: str | None = None) -> None:
        target = self._path(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            Path(tmp).replace(target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def read_bytes(self, name: str) -> bytes:
        try:
            return self._path(name).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectNotFoundError(f"stored object {name!r} not found") from None

    def download_to(self, name: str, local: Path) -> None:
        source = self._path(name)
        if not source.is_file():
            raise ObjectNotFoundError(f"stored video {name!r} not found")
        local.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, local)

    def size(self, name: str) -> int:
        try:
            return self._path(name).stat().st_size
        except FileNotFoundError:
            raise ObjectNotFoundError(f"stored object {name!r} not found") from None

    def read_range(self, name: str, start: int, length: int) -> bytes:
        try:
            with self._path(name).open("rb") as f:
                f.seek(start)
                return f.read(length)
        except FileNotFoundError:
            raise ObjectNotFoundError(f"stored object {name!r} not found") from None

    def delete(self, name: str) -> None:
        self._path(name).unlink(missing_ok=True)

    def delete_prefix(self, prefix: str) -> None:
        base = self._path(prefix.rstrip("/"))
        if base.is_dir():
            shutil.rmtree(base, ignore_errors=True)
        else:
            for path in base.parent.glob(base.name + "*"):
                if path.is_file():
                    path.unlink(missing_ok=True)

    def exists(self, name: str) -> bool:
        return self._path(name).is_file()

    def list_older_than(self, prefix: str, age: timedelta) -> list[str]:
        cutoff = time.time() - age.total_seconds()
        base = self._path(prefix.rstrip("/")) if prefix.strip("/") else self.root
        if not base.is_dir():
            return []
        names = []
        for path in base.rglob("*"):
            partial = path.name.startswith(".upload-")  # an upload still being copied
            if not partial and path.is_file() and path.stat().st_mtime < cutoff:
                names.append(path.relative_to(self.root).as_posix())
        return sorted(names)

    def uri(self, name: str) -> str | None:
        return None  # nothing outside this machine can read it

    def check(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe = self.root / ".check"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise StorageError(f"storage folder {self.root} is not writable: {exc}") from exc

    def new_object_name(self, prefix: str = "uploads/") -> str:
        return random_object_name(prefix)
