"""Storage backends by name; `get_storage` picks the configured one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reels_scripter.config import Settings
from reels_scripter.storage.base import Storage, StorageError

BackendFactory = Callable[[Settings], Storage]


def _local(settings: Settings) -> Storage:
    from reels_scripter.storage.local import LocalStorage

    return LocalStorage.from_settings(settings)


def _gcs(settings: Settings) -> Storage:
    from reels_scripter.storage.gcs import GCSStorage

    return GCSStorage.from_settings(settings)


_BACKENDS: dict[str, BackendFactory] = {"local": _local, "gcs": _gcs}


def register_backend(name: str, factory: BackendFactory) -> None:
    _BACKENDS[name] = factory


def backend_name(settings: Settings) -> str:
    if settings.storage_backend:
        return settings.storage_backend
    # The seed's deployments set only the bucket; that alone means GCS.
    return "gcs" if settings.google_cloud_bucket_name else "local"


def get_storage(settings: Settings) -> Storage:
    name = backend_name(settings)
    factory = _BACKENDS.get(name)
    if factory is None:
        raise StorageError(f"unknown STORAGE_BACKEND {name!r}; available: {sorted(_BACKENDS)}")
    return factory(settings)


def set_lifecycle(settings: Settings, age_days: int = 1) -> list[dict[str, Any]]:
    """Set the bucket's delete-after-`age_days` rule; returns the bucket's rules."""
    from reels_scripter.storage.gcs import GCSStorage

    storage = get_storage(settings)
    if not isinstance(storage, GCSStorage):
        raise StorageError(
            "lifecycle rules exist only for GCS; the local backend is swept by the worker"
        )
    return storage.set_lifecycle(age_days)
