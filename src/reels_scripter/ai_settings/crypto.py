"""The stored AI key, encrypted at rest: Fernet (AES-128-CBC + HMAC-SHA256) under a key derived
by HKDF-SHA256 from the server secret.

The server secret is SECRET_KEY when set (required where the API and workers do not share a
disk: Cloud Run, several hosts); else URL_SIGNING_SECRET; else a random secret created once in
DATA_DIR/secret.key with mode 0600, which `make run` and a one-host compose share between the
API and its workers. A database copied without that secret yields no key.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from reels_scripter.config import Settings
from reels_scripter.errors import AppError

SECRET_FILE = "secret.key"  # noqa: S105 - a file name, not a secret
# Domain separation: the same server secret signs links elsewhere; this key only encrypts.
_INFO = b"reels-scripter/ai-settings/fernet/v1"


class StoredKeyUnreadableError(AppError, code="ai_key_unreadable", http_status=409):
    """The stored key cannot be decrypted: the server secret changed since it was saved."""


def server_secret(settings: Settings) -> bytes:
    """The secret the encryption key is derived from (see the module docstring)."""
    for configured in (settings.secret_key, settings.url_signing_secret):
        if configured is not None and configured.get_secret_value():
            return configured.get_secret_value().encode("utf-8")
    return _secret_file(settings.data_dir / SECRET_FILE)


def _secret_file(path: Path) -> bytes:
    """Read the secret file, or create it atomically (0600) when there is none yet."""
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = secrets.token_urlsafe(48).encode("ascii")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, fresh)
    finally:
        os.close(fd)
    try:
        # link, not rename: two processes starting at once keep the first one's secret.
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_bytes().strip()


class KeyBox:
    """Encrypts and decrypts the stored AI key."""

    def __init__(self, secret: bytes) -> None:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret)
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    @classmethod
    def for_settings(cls, settings: Settings) -> KeyBox:
        return cls(server_secret(settings))

    def seal(self, key: str) -> bytes:
        return self._fernet.encrypt(key.encode("utf-8"))

    def open(self, token: bytes) -> str:
        try:
            return self._fernet.decrypt(token).decode("utf-8")
        except InvalidToken as exc:
            raise StoredKeyUnreadableError(
                "the stored AI key cannot be decrypted with this server's secret"
            ) from exc
