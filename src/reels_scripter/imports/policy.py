"""Which links may be fetched, and the connection guard that holds yt-dlp to it.

A link comes from a client and the worker that fetches it sits inside our network, so the
same SSRF rule as for webhooks applies (`webhooks.destination`, reused rather than written
twice): http(s) only, and every address a host resolves to must be public unless
`IMPORT_ALLOW_PRIVATE=true`. The rule is checked twice:

* when the link is accepted (`check_link`: form, then DNS), so `POST /api/import` answers 422
  before any connection is made;
* on every connection yt-dlp opens while a download runs (`guarded`): the page, each redirect
  hop, the video, its fragments. The guard resolves the host itself and connects only to the
  addresses that passed, so a redirect to 127.0.0.1 or a DNS answer that changes between the
  check and the connection (rebinding) cannot reach inside.

The guard sits in yt-dlp's urllib handler (`yt_dlp.networking._urllib.create_connection`, the
one function every plain HTTP(S) connection of that handler goes through); the downloader
keeps yt-dlp on that handler alone. A connection outside a guarded download is refused
private addresses too (fail closed).
"""

from __future__ import annotations

import contextlib
import contextvars
import ipaddress
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from reels_scripter.imports.errors import (
    LinkForbiddenError,
    LinkInvalidError,
    LinkUnreachableError,
)
from reels_scripter.webhooks.destination import (
    FORBIDDEN_CODE,
    CallbackUrl,
    CallbackUrlError,
    Resolver,
    UnresolvableHostError,
    parse_callback_url,
    refused_reason,
    resolve_destination,
    system_resolver,
)


def check_link(
    url: str, *, allow_private: bool, resolver: Resolver = system_resolver
) -> CallbackUrl:
    """The link's form and every address its host resolves to; LinkError when refused.
    Blocking (DNS): from async code run it in a thread."""
    try:
        parsed = parse_callback_url(url.strip() if isinstance(url, str) else url)
        resolve_destination(parsed, allow_private=allow_private, resolver=resolver)
    except UnresolvableHostError as exc:
        raise LinkUnreachableError(exc.detail, transient=False) from None
    except CallbackUrlError as exc:
        if exc.code == FORBIDDEN_CODE:
            raise LinkForbiddenError(exc.detail) from None
        raise LinkInvalidError(exc.detail) from None
    return parsed


@dataclass
class Guard:
    """The rule for the connections of one download, and the first address it refused."""

    allow_private: bool
    refused: str | None = field(default=None)


_guard: contextvars.ContextVar[Guard | None] = contextvars.ContextVar("import_guard", default=None)


class RefusedAddressError(OSError):
    """Raised inside yt-dlp's connect; the downloader reads `Guard.refused` afterwards."""


@contextlib.contextmanager
def guarded(allow_private: bool) -> Iterator[Guard]:
    """Run a download under the address rule (see the module docstring)."""
    install()
    guard = Guard(allow_private=allow_private)
    token = _guard.set(guard)
    try:
        yield guard
    finally:
        _guard.reset(token)


def _guarded_connection(
    address: tuple[str, int],
    timeout: Any = socket._GLOBAL_DEFAULT_TIMEOUT,  # type: ignore[attr-defined]
    source_address: tuple[str, int] | None = None,
    *,
    _create_socket_func: Any = None,
) -> socket.socket:
    from yt_dlp.networking import _helper

    host, port = address
    guard = _guard.get() or Guard(allow_private=False)
    infos = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
    if not infos:
        raise OSError("getaddrinfo returns an empty list")
    if not guard.allow_private:
        for info in infos:
            reason = refused_reason(ipaddress.ip_address(str(info[4][0]).split("%")[0]))
            if reason is not None:
                guard.refused = guard.refused or f"host {host!r} resolves to {reason}"
                raise RefusedAddressError(guard.refused)
    connect = _create_socket_func or _helper._socket_connect
    error: OSError | None = None
    for info in infos:  # exactly the addresses that were checked: no second lookup
        try:
            sock: socket.socket = connect(info, timeout, source_address)
            return sock
        except OSError as exc:
            error = exc
    assert error is not None
    raise error


_installed = False


def install() -> None:
    """Put the guard into yt-dlp's urllib handler (once per process)."""
    global _installed
    if _installed:
        return
    from yt_dlp.networking import _urllib

    _urllib.create_connection = _guarded_connection
    _installed = True


__all__ = [
    "Guard",
    "LinkForbiddenError",
    "RefusedAddressError",
    "check_link",
    "guarded",
    "install",
    "refused_reason",
]
