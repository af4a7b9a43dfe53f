"""Where a webhook may be sent: an http(s) URL whose host resolves only to public addresses.

A callback URL comes from a client, and the worker that POSTs to it sits inside our network,
so an unchecked URL would let anyone make us call internal services (SSRF): the cloud
metadata server, Redis, an admin page on localhost. Every address the host resolves to is
checked, IPv4 and IPv6, including IPv4 addresses embedded in IPv6 ones (mapped, 6to4, NAT64,
Teredo), since the connection may go to any of them. `WEBHOOK_ALLOW_PRIVATE=true` lifts the
address check (local development, receivers on a private network).

The check runs when the URL is accepted and again before every delivery attempt, and the
attempt then connects to the very address that passed (`pinned_request`), so a DNS answer that
changes in between (DNS rebinding) cannot steer the request inside.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from reels_scripter.errors import AppError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ALLOWED_SCHEMES = ("http", "https")
MAX_URL_LENGTH = 2048

INVALID_CODE = "invalid_callback_url"
FORBIDDEN_CODE = "callback_url_forbidden"
UNRESOLVABLE_CODE = "callback_url_unresolvable"

# Embedded IPv4 prefixes (RFC 6052 NAT64) and ranges Python's flags miss on some versions
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_NOT_GLOBAL = (ipaddress.IPv6Network("64:ff9b:1::/48"),)  # RFC 8215 local-use NAT64

Resolver = Callable[[str, int], Sequence[str]]


class CallbackUrlError(AppError):
    """A callback URL we will not call (422). `code` is stable (`invalid_callback_url`,
    `callback_url_forbidden`); `detail` (also the English `message`) says why, for logs and
    developers; what a person reads comes from `reels_scripter.texts` by code."""

    code = INVALID_CODE
    http_status = 422

    def __init__(self, detail: str, code: str | None = None) -> None:
        super().__init__(detail)
        if code is not None:
            self.code = code
        self.detail = detail


class UnresolvableHostError(CallbackUrlError):
    """The host name does not resolve (now): refused on upload, retried on delivery."""

    code = UNRESOLVABLE_CODE


@dataclass(frozen=True)
class CallbackUrl:
    """A syntactically valid callback URL, split into what a pinned request needs."""

    url: str
    scheme: str
    host: str  # ASCII (IDNA), lower case, IPv6 without brackets
    port: int  # effective port
    explicit_port: bool
    target: str  # path and query, as sent on the request line

    @property
    def host_is_ip(self) -> bool:
        return _ip_or_none(self.host) is not None

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}" if self.explicit_port else host

    @property
    def origin(self) -> str:
        """scheme://host:port, safe to log (no path or query, which may hold a token)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


def parse_callback_url(url: str) -> CallbackUrl:
    """Check the URL's form only (no DNS): http(s), a host, no credentials, sane length."""
    if not isinstance(url, str) or not url.strip():
        raise _invalid("empty URL")
    if len(url) > MAX_URL_LENGTH:
        raise _invalid(f"URL longer than {MAX_URL_LENGTH} characters")
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        raise _invalid("URL contains whitespace or control characters")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise _invalid(f"scheme {scheme or '(none)'!r} is not http or https")
    if parts.username is not None or parts.password is not None:
        raise _invalid("credentials in the URL are not accepted")
    host = parts.hostname
    if not host:
        raise _invalid("URL has no host")
    try:
        port = parts.port
    except ValueError:
        raise _invalid("URL has an invalid port") from None
    if port == 0:
        raise _invalid("URL has an invalid port")
    if _ip_or_none(host) is None:
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise _invalid("host name is not a valid domain name") from None
    target = parts.path or "/"
    if parts.query:
        target += f"?{parts.query}"
    return CallbackUrl(
        url=url,
        scheme=scheme,
        host=host.lower(),
        port=port if port is not None else (443 if scheme == "https" else 80),
        explicit_port=port is not None,
        target=target,
    )


def refused_reason(address: IPAddress) -> str | None:
    """Why a webhook may not go to `address`, or None when it is a public unicast address."""
    # An IPv4-mapped address is that IPv4 address (a dual-stack socket connects to it) and is
    # judged by it alone; other embeddings (6to4, NAT64, Teredo) must pass both ways.
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    candidates = [mapped] if mapped is not None else [*_embedded_ipv4(address), address]
    for candidate in candidates:
        checks = (
            ("unspecified", candidate.is_unspecified),
            ("loopback", candidate.is_loopback),
            ("link-local", candidate.is_link_local),
            ("multicast", candidate.is_multicast),
            ("private", candidate.is_private),
            ("reserved", candidate.is_reserved),
            ("not globally routable", not candidate.is_global),
            (
                "not globally routable",
                isinstance(candidate, ipaddress.IPv6Address)
                and any(candidate in net for net in _NOT_GLOBAL),
            ),
        )
        for reason, refused in checks:
            if refused:
                return f"{candidate} is {reason}"
    return None


def system_resolver(host: str, port: int) -> list[str]:
    """Every address `host` resolves to for a TCP connection, in the resolver's order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    seen: dict[str, None] = {}
    for info in infos:
        seen.setdefault(str(info[4][0]), None)
    return list(seen)


def resolve_destination(
    callback: CallbackUrl, *, allow_private: bool, resolver: Resolver = system_resolver
) -> list[IPAddress]:
    """The addresses a request to `callback` may connect to: all of them pass the check, or
    CallbackUrlError (any refused address refuses the host: a resolver can rotate answers)."""
    try:
        raw = list(resolver(callback.host, callback.port))
    except (OSError, UnicodeError) as exc:
        raise UnresolvableHostError(f"host {callback.host!r} does not resolve: {exc}") from None
    addresses = [a for a in (_ip_or_none(r) for r in raw) if a is not None]
    if not addresses:
        raise UnresolvableHostError(f"host {callback.host!r} resolves to no address")
    if not allow_private:
        for address in addresses:
            reason = refused_reason(address)
            if reason is not None:
                raise CallbackUrlError(
                    f"host {callback.host!r} resolves to {reason}", FORBIDDEN_CODE
                )
    return addresses


def validate_callback_url(
    url: str, *, allow_private: bool, resolver: Resolver = system_resolver
) -> CallbackUrl:
    """The whole check for a URL a client gives (or WEBHOOK_URL): form, then every resolved
    address. Raises CallbackUrlError (an AppError: the API answers it with 422).
    Blocking (DNS): from async code run it in a thread."""
    callback = parse_callback_url(url)
    resolve_destination(callback, allow_private=allow_private, resolver=resolver)
    return callback


def pinned_request(
    callback: CallbackUrl, address: IPAddress
) -> tuple[str, dict[str, str], dict[str, Any]]:
    """URL, headers and httpx extensions of a request to `callback` that connects to
    `address` (already checked) instead of resolving the host again. The Host header keeps
    the name; for https, SNI and certificate verification use the name too."""
    ip_host = f"[{address}]" if address.version == 6 else str(address)
    url = f"{callback.scheme}://{ip_host}:{callback.port}{callback.target}"
    headers = {"Host": callback.host_header}
    extensions: dict[str, Any] = {}
    if callback.scheme == "https" and not callback.host_is_ip:
        extensions["sni_hostname"] = callback.host
    return url, headers, extensions


def _embedded_ipv4(address: IPAddress) -> list[ipaddress.IPv4Address]:
    if isinstance(address, ipaddress.IPv4Address):
        return []
    embedded = []
    if address.sixtofour is not None:
        embedded.append(address.sixtofour)
    if address.teredo is not None:
        embedded.extend(address.teredo)
    if address in _NAT64:
        embedded.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return embedded


def _ip_or_none(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _invalid(detail: str) -> CallbackUrlError:
    return CallbackUrlError(detail, INVALID_CODE)
