"""Google Cloud Storage, as in the seed: private bucket, no public URLs, 1-day delete rule."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from reels_scripter.config import Settings
from reels_scripter.storage.base import ObjectNotFoundError, StorageError, random_object_name

# Network calls that move a whole video get longer than metadata calls.
_TRANSFER_TIMEOUT_SEC = 300
_CALL_TIMEOUT_SEC = 60


@contextmanager
def _translated(action: str, name: str = "") -> Iterator[None]:
    """Turn SDK/transport exceptions into StorageError with a one-line message."""
    from google.api_core import exceptions as gexc
    from google.auth import exceptions as auth_exc
    from requests import exceptions as req_exc

    transient_types: tuple[type[BaseException], ...] = (
        gexc.ServiceUnavailable,
        gexc.InternalServerError,
        gexc.TooManyRequests,
        gexc.GatewayTimeout,
        gexc.BadGateway,
        gexc.RequestRangeNotSatisfiable,
        auth_exc.TransportError,
        req_exc.ConnectionError,
        req_exc.Timeout,
        ConnectionError,
        TimeoutError,
    )
    target = f" {name!r}" if name else ""
    try:
        yield
    except gexc.NotFound as exc:
        raise ObjectNotFoundError(f"storage {action}{target}: not found") from exc
    except transient_types as exc:
        raise StorageError(
            f"storage {action}{target} failed: {type(exc).__name__}", transient=True
        ) from exc
    except gexc.GoogleAPICallError as exc:
        message = str(getattr(exc, "message", "") or exc).splitlines()[0][:200]
        raise StorageError(f"storage {action}{target} failed: {message}") from exc


def _client(settings: Settings) -> Any:
    from google.cloud import storage as gcs

    if settings.storage_emulator_host:
        from google.auth.credentials import AnonymousCredentials

        return gcs.Client(
            project=settings.google_cloud_project_id or "emulator",
            credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
            client_options={"api_endpoint": settings.storage_emulator_host},
        )
    if settings.google_application_credentials:
        return gcs.Client.from_service_account_json(
            settings.google_application_credentials, project=settings.google_cloud_project_id
        )
    # Application default credentials (workload identity, gcloud auth, metadata server).
    return gcs.Client(project=settings.google_cloud_project_id)


class GCSStorage:
    name = "gcs"

    def __init__(self, client: Any, bucket_name: str) -> None:
        self.client = client
        self.bucket_name = bucket_name
        self.bucket = client.bucket(bucket_name)

    @classmethod
    def from_settings(cls, settings: Settings) -> GCSStorage:
        if not settings.google_cloud_bucket_name:
            raise StorageError("GOOGLE_CLOUD_BUCKET_NAME is not set")
        with _translated("client"):
            return cls(_client(settings), settings.google_cloud_bucket_name)

    def upload_file(self, local: Path, name: str, content_type: str | None = None) -> None:
        with _translated("upload", name):
            # A single-request upload is atomic: the object appears whole or not at all.
            self.bucket.blob(name).upload_from_filename(
                str(local), content_type=content_type, timeout=_TRANSFER_TIMEOUT_SEC
            )

    def put_bytes(self, data: bytes, name: str, content_type: str | None = None) -> None:
        with _translated("upload", name):
            self.bucket.blob(name).upload_from_string(
                data, content_type=content_type, timeout=_CALL_TIMEOUT_SEC
            )

    def read_bytes(self, name: str) -> bytes:
        with _translated("download", name):
            return bytes(self.bucket.blob(name).download_as_bytes(timeout=_CALL_TIMEOUT_SEC))

    def download_to(self, name: str, local: Path) -> None:
        local.parent.mkdir(parents=True, exist_ok=True)
        try:
            with _translated("download", name):
                self.bucket.blob(name).download_to_filename(
                    str(local), timeout=_TRANSFER_TIMEOUT_SEC
                )
        except StorageError:
            local.unlink(missing_ok=True)  # the SDK may leave a partial file behind
            raise

    def size(self, name: str) -> int:
        with _translated("size", name):
            blob = self.bucket.get_blob(name, timeout=_CALL_TIMEOUT_SEC)
        if blob is None or blob.size is None:
            raise ObjectNotFoundError(f"storage size {name!r}: not found")
        return int(blob.size)

    def read_range(self, name: str, start: int, length: int) -> bytes:
        if length <= 0:
            return b""
        with _translated("read", name):
            # `end` is inclusive, as in the HTTP Range header the SDK sends
            data = self.bucket.blob(name).download_as_bytes(
                start=start, end=start + length - 1, timeout=_TRANSFER_TIMEOUT_SEC
            )
        return bytes(data)

    def delete(self, name: str) -> None:
        try:
            with _translated("delete", name):
                self.bucket.blob(name).delete(timeout=_CALL_TIMEOUT_SEC)
        except ObjectNotFoundError:
            pass

    def delete_prefix(self, prefix: str) -> None:
        with _translated("list", prefix):
            names = [b.name for b in self.client.list_blobs(self.bucket_name, prefix=prefix)]
        for name in names:
            self.delete(name)

    def exists(self, name: str) -> bool:
        with _translated("exists", name):
            return bool(self.bucket.blob(name).exists(timeout=_CALL_TIMEOUT_SEC))

    def list_older_than(self, prefix: str, age: timedelta) -> list[str]:
        cutoff = datetime.now(UTC) - age
        with _translated("list", prefix):
            blobs = self.client.list_blobs(
                self.bucket_name, prefix=prefix, timeout=_CALL_TIMEOUT_SEC
            )
            return sorted(
                b.name for b in blobs if b.time_created is not None and b.time_created < cutoff
            )

    def uri(self, name: str) -> str | None:
        return f"gs://{self.bucket_name}/{name}"

    def check(self) -> None:
        with _translated("check", self.bucket_name):
            if not self.bucket.exists(timeout=_CALL_TIMEOUT_SEC):
                raise StorageError(f"bucket {self.bucket_name!r} does not exist")

    def new_object_name(self, prefix: str = "uploads/") -> str:
        return random_object_name(prefix)

    def set_lifecycle(self, age_days: int = 1) -> list[dict[str, Any]]:
        """Delete objects `age_days` after creation (the seed's rule), keeping other rules."""
        with _translated("lifecycle", self.bucket_name):
            bucket = self.client.get_bucket(self.bucket_name, timeout=_CALL_TIMEOUT_SEC)
            kept = [
                dict(rule)
                for rule in bucket.lifecycle_rules
                if not (
                    rule.get("action", {}).get("type") == "Delete"
                    and set(rule.get("condition", {})) == {"age"}
                )
            ]
            bucket.lifecycle_rules = kept
            bucket.add_lifecycle_delete_rule(age=age_days)
            bucket.patch(timeout=_CALL_TIMEOUT_SEC)
            return [dict(rule) for rule in bucket.lifecycle_rules]
