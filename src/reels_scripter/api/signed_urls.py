"""Short-lived signed links for what a browser loads without headers.

With `API_KEYS` on, every `/api` call needs the key in a header, but `EventSource`, `<img>`
and `<video>` cannot send headers. The studio therefore asks once per job, with its key,
for an access token (`POST /api/jobs/{id}/access`) and appends it as `?access=<token>` to the
job's event stream, keyframes, video and downloads.

A token is `<expires>.<owner>.<signature>`: HMAC-SHA256 over the job id, the owner (the hashed
key that may see the job) and the expiry, with a server secret. It is accepted only

* for GET/HEAD (it reads; it never uploads, deletes or mints another token),
* on a path of the job it was made for (`/api/jobs/{job_id}/...`, `/api/status/{jobId}`),
* until it expires (`ACCESS_TOKEN_TTL_SEC`).

Signed links rather than a cookie session: nothing is stored on the server, a leaked link
opens one job for minutes, and there is no cookie for a cross-site request to ride on
(no CSRF). The secret is `URL_SIGNING_SECRET`, or derived from `API_KEYS` so that every
replica agrees without new configuration.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time

from starlette.requests import HTTPConnection

from reels_scripter.api.errors import (
    ExpiredAccessTokenError,
    InvalidAccessTokenError,
    ReadOnlyAccessTokenError,
)
from reels_scripter.api.security import presented_key
from reels_scripter.config import Settings
from reels_scripter.logs import api_keys_of

ACCESS_PARAM = "access"
ACCESS_TOKEN_TTL_SEC = 15 * 60
_VERSION = "v1"
_DERIVE_LABEL = b"reels-scripter/url-signing/v1"
_READ_METHODS = frozenset({"GET", "HEAD"})
_JOB_PATH_PARAMS = ("job_id", "jobId")
# ASCII digits, no leading zero, at most 12 of them (year 33658): `str.isdigit` and `int` also
# take other scripts' digits, and a 5,000-digit number would hit Python's int-conversion limit.
_EXPIRY = re.compile(r"[1-9][0-9]{0,11}")


def signing_secret(settings: Settings) -> bytes:
    if settings.url_signing_secret is not None:
        return settings.url_signing_secret.get_secret_value().encode("utf-8")
    keys = "\n".join(sorted(api_keys_of(settings)))
    return hmac.new(_DERIVE_LABEL, keys.encode("utf-8"), hashlib.sha256).digest()


def _invalid(error: type[InvalidAccessTokenError]) -> InvalidAccessTokenError:
    return error(
        detail="Ask for a new token with POST /api/jobs/{id}/access, sending the API key.",
        headers={"WWW-Authenticate": "Bearer"},
    )


class UrlSigner:
    def __init__(self, secret: bytes, ttl_sec: int = ACCESS_TOKEN_TTL_SEC) -> None:
        self._secret = secret
        self.ttl_sec = ttl_sec

    def _signature(self, job_id: str, owner: str, expires: int) -> str:
        message = f"{_VERSION}\n{job_id}\n{owner}\n{expires}".encode()
        digest = hmac.new(self._secret, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    def mint(self, job_id: str, owner: str | None, now: float | None = None) -> tuple[str, int]:
        """A token for reading `job_id` as `owner` ("-" for no owner), and its expiry."""
        expires = int(now if now is not None else time.time()) + self.ttl_sec
        who = owner or "-"
        return f"{expires}.{who}.{self._signature(job_id, who, expires)}", expires

    def verify(self, token: str, job_id: str, now: float | None = None) -> str | None:
        """The owner the token speaks for; raises InvalidAccessTokenError (401) if invalid."""
        parts = token.split(".")
        if len(parts) != 3 or _EXPIRY.fullmatch(parts[0]) is None:
            raise _invalid(InvalidAccessTokenError)
        expires, who, signature = int(parts[0]), parts[1], parts[2]
        expected = self._signature(job_id, who, expires)
        if not hmac.compare_digest(expected.encode("ascii"), signature.encode("ascii", "replace")):
            raise _invalid(InvalidAccessTokenError)
        if expires < (now if now is not None else time.time()):
            raise _invalid(ExpiredAccessTokenError)
        return None if who == "-" else who


def owner_from_access_token(conn: HTTPConnection, signer: UrlSigner) -> tuple[bool, str | None]:
    """(True, owner) when the request reads a job with a valid `?access=` token and no key
    header; (False, None) when it carries no token (the caller checks the key instead)."""
    token = conn.query_params.get(ACCESS_PARAM)
    if not token or presented_key(conn) is not None:
        return False, None
    method = conn.scope.get("method", "GET")
    job_id = next((conn.path_params[p] for p in _JOB_PATH_PARAMS if p in conn.path_params), None)
    if method not in _READ_METHODS or not isinstance(job_id, str):
        raise _invalid(ReadOnlyAccessTokenError)
    return True, signer.verify(token, job_id)
