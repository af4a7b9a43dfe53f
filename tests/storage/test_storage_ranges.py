"""Partial reads, which the studio's video endpoint streams to browsers with HTTP Range."""

from __future__ import annotations

from pathlib import Path

import pytest

from reels_scripter.storage import ObjectNotFoundError, Storage, get_storage
from reels_scripter.storage.base import RangeReadable
from support.fixtures import GCS_BUCKET
from support.settings import make_settings


@pytest.fixture(params=["local", "gcs"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    if request.param == "gcs":
        host = request.getfixturevalue("gcs_emulator")
        settings = make_settings(
            tmp_path,
            STORAGE_BACKEND="gcs",
            GOOGLE_CLOUD_BUCKET_NAME=GCS_BUCKET,
            GOOGLE_CLOUD_PROJECT_ID="test-project",
            STORAGE_EMULATOR_HOST=host,
        )
        return get_storage(settings)
    return get_storage(make_settings(tmp_path))


def test_size_and_ranges(storage: Storage, tmp_path: Path) -> None:
    assert isinstance(storage, RangeReadable)
    data = bytes(range(256)) * 40  # 10240 bytes, every offset distinguishable
    src = tmp_path / "v.bin"
    src.write_bytes(data)
    name = storage.new_object_name()
    storage.upload_file(src, name, "video/mp4")
    assert storage.size(name) == len(data)
    assert storage.read_range(name, 0, 1) == data[:1]
    assert storage.read_range(name, 1000, 300) == data[1000:1300]
    assert storage.read_range(name, len(data) - 5, 100) == data[-5:]  # short read at the end
    assert storage.read_range(name, 10, 0) == b""


def test_missing_object(storage: Storage) -> None:
    assert isinstance(storage, RangeReadable)
    with pytest.raises(ObjectNotFoundError):
        storage.size("uploads/nothing-here")
    with pytest.raises(ObjectNotFoundError):
        storage.read_range("uploads/nothing-here", 0, 10)
