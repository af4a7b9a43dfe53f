"""The webhook signature: `X-Reels-Signature: sha256=<hex HMAC-SHA256 of the body>`.

The HMAC covers the exact body bytes, keyed with WEBHOOK_SECRET. The body carries a
`timestamp` (Unix seconds, set per attempt), so the signature covers it too: a receiver that
rejects bodies older than a few minutes is safe from replays of a captured request.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Reels-Signature"
SIGNATURE_PREFIX = "sha256="


def sign(body: bytes, secret: str) -> str:
    """The header value for `body`: `sha256=<64 hex digits>`."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_PREFIX}{digest}"


def verify(body: bytes, header_value: str | None, secret: str) -> bool:
    """What a receiver does: recompute over the raw body and compare in constant time."""
    if not header_value:
        return False
    return hmac.compare_digest(sign(body, secret), header_value.strip())
