"""Optional API keys: `API_KEYS=k1,k2` turns them on for every `/api` route.

A job belongs to the key that uploaded it. The owner stored in the database is a keyed hash
of the API key, never the key itself, so a leaked database does not leak credentials and a
row can still be matched to the key that made it.
"""

from __future__ import annotations

import hashlib
import hmac

from starlette.requests import HTTPConnection

from reels_scripter.api.errors import UnauthorizedError

# Fixed domain-separation prefix: the owner id is useless as a key anywhere else.
_OWNER_SALT = b"reels-scripter/owner/v1:"


def owner_id(key: str) -> str:
    return "key_" + hashlib.sha256(_OWNER_SALT + key.encode("utf-8")).hexdigest()[:32]


def presented_key(conn: HTTPConnection) -> str | None:
    """The key a client sent as `Authorization: Bearer <key>` or `X-API-Key: <key>`."""
    auth = conn.headers.get("authorization")
    if auth:
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    key = conn.headers.get("x-api-key")
    return key.strip() if key and key.strip() else None


class ApiKeys:
    """The configured keys; `owner_for` answers who is calling, or refuses with 401."""

    def __init__(self, keys: list[str]) -> None:
        self._keys = [k.encode("utf-8") for k in keys]

    @property
    def enabled(self) -> bool:
        return bool(self._keys)

    def match(self, key: str | None) -> str | None:
        if key is None:
            return None
        candidate = key.encode("utf-8")
        found = False
        # Compare against every key in constant time, so timing says nothing about which.
        for k in self._keys:
            found |= hmac.compare_digest(k, candidate)
        return owner_id(key) if found else None

    def owner_for(self, conn: HTTPConnection) -> str | None:
        if not self.enabled:
            return None
        owner = self.match(presented_key(conn))
        if owner is None:
            raise UnauthorizedError(
                detail="Send `Authorization: Bearer <key>` or `X-API-Key: <key>`.",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return owner


def is_admin(conn: HTTPConnection, admin_key: str | None) -> bool:
    """Whether the caller sent ADMIN_API_KEY (compared in constant time)."""
    presented = presented_key(conn)
    if not admin_key or presented is None:
        return False
    return hmac.compare_digest(admin_key.encode("utf-8"), presented.encode("utf-8"))
