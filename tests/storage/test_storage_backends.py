from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from reels_scripter.config import Settings
from reels_scripter.storage import (
    ObjectNotFoundError,
    Storage,
    StorageError,
    backend_name,
    get_storage,
    set_lifecycle,
)
from reels_scripter.storage.gcs import GCSStorage
from reels_scripter.storage.local import LocalStorage
from support.fixtures import GCS_BUCKET
from support.settings import make_settings


def gcs_settings(tmp_path: Path, host: str) -> Settings:
    # No STORAGE_BACKEND: the bucket name alone selects GCS, as in the seed's .env.
    return make_settings(
        tmp_path,
        STORAGE_BACKEND=None,
        GOOGLE_CLOUD_BUCKET_NAME=GCS_BUCKET,
        GOOGLE_CLOUD_PROJECT_ID="test-project",
        STORAGE_EMULATOR_HOST=host,
    )


@pytest.fixture(params=["local", "gcs"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    if request.param == "gcs":
        return get_storage(gcs_settings(tmp_path, request.getfixturevalue("gcs_emulator")))
    return get_storage(make_settings(tmp_path))


def test_selection(tmp_path: Path) -> None:
    assert backend_name(make_settings(tmp_path, STORAGE_BACKEND=None)) == "local"
    assert backend_name(gcs_settings(tmp_path, "http://x")) == "gcs"
    assert (
        backend_name(
            gcs_settings(tmp_path, "http://x").model_copy(update={"storage_backend": "local"})
        )
        == "local"
    )


def test_round_trip(storage: Storage, tmp_path: Path) -> None:
    storage.check()
    src = tmp_path / "clip.mp4"
    src.write_bytes(b"\x00video bytes" * 1000)
    name = storage.new_object_name()
    assert name.startswith("uploads/") and "clip" not in name
    assert name != storage.new_object_name()
    storage.upload_file(src, name, "video/mp4")
    assert storage.exists(name)
    out = tmp_path / "out" / "copy.mp4"
    storage.download_to(name, out)
    assert out.read_bytes() == src.read_bytes()
    uri = storage.uri(name)
    assert uri == (f"gs://{GCS_BUCKET}/{name}" if isinstance(storage, GCSStorage) else None)
    storage.delete(name)
    storage.delete(name)  # missing is fine
    assert not storage.exists(name)
    with pytest.raises(ObjectNotFoundError):
        storage.download_to(name, tmp_path / "gone.mp4")
    assert not (tmp_path / "gone.mp4").exists()


def test_list_older_than(storage: Storage, tmp_path: Path) -> None:
    src = tmp_path / "a.bin"
    src.write_bytes(b"a")
    old, other = storage.new_object_name(), storage.new_object_name("keyframes/")
    storage.upload_file(src, old)
    storage.upload_file(src, other)
    if isinstance(storage, LocalStorage):
        past = time.time() - 3 * 3600
        os.utime(storage.root / old, (past, past))
        assert storage.list_older_than("uploads/", timedelta(hours=1)) == [old]
    else:
        assert old not in storage.list_older_than("uploads/", timedelta(hours=1))
    time.sleep(0.05)
    listed = storage.list_older_than("uploads/", timedelta(0))
    assert old in listed and other not in listed
    for name in (old, other):
        storage.delete(name)


def test_local_refuses_escaping_names(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "s")
    with pytest.raises(StorageError):
        storage.exists("../outside")
    src = tmp_path / "x"
    src.write_bytes(b"x")
    storage.upload_file(src, "uploads/n")
    assert not list((tmp_path / "s" / "uploads").glob(".upload-*"))  # no temp leftovers


def test_lifecycle_rule(gcs_emulator: str, tmp_path: Path) -> None:
    settings = gcs_settings(tmp_path, gcs_emulator)
    rules: list[dict[str, Any]] = set_lifecycle(settings)
    assert rules == [{"action": {"type": "Delete"}, "condition": {"age": 1}}]
    # Setting it again replaces the age rule instead of stacking a second one.
    assert set_lifecycle(settings, age_days=2) == [
        {"action": {"type": "Delete"}, "condition": {"age": 2}}
    ]
    with pytest.raises(StorageError):
        set_lifecycle(make_settings(tmp_path))


def test_gcs_missing_bucket_fails_check(gcs_emulator: str, tmp_path: Path) -> None:
    settings = gcs_settings(tmp_path, gcs_emulator).model_copy(
        update={"google_cloud_bucket_name": "no-such-bucket"}
    )
    with pytest.raises(StorageError):
        get_storage(settings).check()
