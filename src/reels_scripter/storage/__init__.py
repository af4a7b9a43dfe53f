"""Where uploaded videos wait for their analysis: a local folder or a GCS bucket."""

from reels_scripter.storage.base import (
    ObjectNotFoundError,
    Storage,
    StorageError,
    random_object_name,
)
from reels_scripter.storage.registry import (
    backend_name,
    get_storage,
    register_backend,
    set_lifecycle,
)

__all__ = [
    "ObjectNotFoundError",
    "Storage",
    "StorageError",
    "backend_name",
    "get_storage",
    "random_object_name",
    "register_backend",
    "set_lifecycle",
]
