"""Which callback URLs are accepted: http(s) only, and (unless WEBHOOK_ALLOW_PRIVATE) only hosts
whose every address is public. No traffic is sent here: literal addresses need no DNS, host
names go through a stand-in resolver (except `localhost`, from /etc/hosts)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from reels_scripter.config import Settings
from reels_scripter.texts import describe
from reels_scripter.webhooks import (
    FORBIDDEN_CODE,
    INVALID_CODE,
    UNRESOLVABLE_CODE,
    CallbackUrlError,
    UnresolvableHostError,
    parse_callback_url,
    validate_callback_url,
)
from reels_scripter.webhooks.destination import pinned_request, resolve_destination

PUBLIC_V4 = "93.184.215.14"
PUBLIC_V6 = "2606:2800:21f:cb07:6820:80da:af6b:8b2c"


@dataclass
class StandInResolver:
    """A DNS table in place of getaddrinfo; remembers every host it was asked for."""

    table: dict[str, Sequence[str]]
    calls: list[str] = field(default_factory=list)

    def __call__(self, host: str, port: int) -> Sequence[str]:
        self.calls.append(host)
        if host not in self.table:
            raise OSError(f"[Errno -2] Name or service not known: {host}")
        return self.table[host]


def resolver_for(table: dict[str, Sequence[str]]) -> StandInResolver:
    return StandInResolver(table)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://127.8.9.10:8080/",
        "http://localhost:3001/",  # /etc/hosts: 127.0.0.1 (and ::1)
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",  # IPv4-mapped loopback
        "http://[::ffff:10.0.0.1]/",  # IPv4-mapped private
        "http://[::ffff:169.254.169.254]/",  # IPv4-mapped metadata server
        "http://10.1.2.3/",
        "http://172.16.5.4/",
        "http://192.168.0.1/",
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata (link-local)
        "http://100.64.0.1/",  # carrier-grade NAT: not global
        "http://0.0.0.0/",
        "http://[::]/",
        "http://224.0.0.1/",  # multicast
        "http://[ff02::1]/",
        "http://240.0.0.1/",  # reserved
        "http://255.255.255.255/",
        "http://[fe80::1]/",  # IPv6 link-local
        "http://[fc00::1]/",  # IPv6 unique local
        "http://[fd12:3456::1]/",
        "http://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
        "http://[64:ff9b::a00:1]/",  # NAT64 of 10.0.0.1
        "http://[2001:db8::1]/",  # documentation range
        "http://2130706433/",  # 127.0.0.1 as one decimal number
        "http://0x7f.1/",  # 127.0.0.1, hex and short form
        "http://127.1/",
        "https://LOCALHOST:8443/",
    ],
)
def test_non_public_destinations_are_refused(url: str) -> None:
    with pytest.raises(CallbackUrlError) as refused:
        validate_callback_url(url, allow_private=False)
    assert refused.value.code == FORBIDDEN_CODE
    assert refused.value.http_status == 422
    assert describe(refused.value).startswith("Адрес для уведомлений")


def test_a_host_with_any_private_address_is_refused() -> None:
    # a resolver may hand out the public address to the check and the private one later
    resolve = resolver_for({"hooks.example.com": [PUBLIC_V4, "10.0.0.5"]})
    with pytest.raises(CallbackUrlError) as refused:
        validate_callback_url("https://hooks.example.com/x", allow_private=False, resolver=resolve)
    assert refused.value.code == FORBIDDEN_CODE
    assert "10.0.0.5" in refused.value.detail


@pytest.mark.parametrize(
    "addresses", [[PUBLIC_V4], [PUBLIC_V6], [PUBLIC_V4, PUBLIC_V6], ["::ffff:" + PUBLIC_V4]]
)
def test_public_hosts_are_accepted(addresses: list[str]) -> None:
    resolve = resolver_for({"hooks.example.com": addresses})
    callback = validate_callback_url(
        "https://hooks.example.com/reels?token=1", allow_private=False, resolver=resolve
    )
    assert callback.host == "hooks.example.com"
    assert callback.port == 443
    assert callback.target == "/reels?token=1"
    assert resolve.calls == ["hooks.example.com"]


def test_public_ip_literals_are_accepted() -> None:
    assert validate_callback_url(f"http://{PUBLIC_V4}:8080/", allow_private=False).port == 8080
    assert validate_callback_url(f"https://[{PUBLIC_V6}]/", allow_private=False).host == PUBLIC_V6


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:9000/hook", "http://localhost/", "http://[::1]:8080/", "http://10.0.0.1/"],
)
def test_allow_private_accepts_internal_destinations(url: str) -> None:
    assert validate_callback_url(url, allow_private=True).scheme == "http"


@pytest.mark.parametrize(
    "url",
    [
        "",
        "   ",
        "ftp://example.com/",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "gopher://127.0.0.1:6379/_FLUSHALL",
        "//example.com/hook",
        "http://",
        "http:///path",
        "https://user:pass@example.com/",
        "https://token@example.com/",
        "http://exa mple.com/",
        "http://example.com/\r\nX-Injected: 1",
        "http://example.com:99999/",
        "http://example.com:0/",
        "http://example.com:port/",
        "https://example.com/" + "a" * 2100,
    ],
)
def test_malformed_urls_are_invalid(url: str) -> None:
    with pytest.raises(CallbackUrlError) as refused:
        validate_callback_url(url, allow_private=True)
    assert refused.value.code == INVALID_CODE
    assert describe(refused.value).startswith("Некорректный адрес")


def test_unresolvable_host_is_invalid_on_upload() -> None:
    with pytest.raises(UnresolvableHostError) as refused:
        validate_callback_url(
            "https://nowhere.example.com/", allow_private=False, resolver=resolver_for({})
        )
    assert refused.value.code == UNRESOLVABLE_CODE
    assert describe(refused.value) == "Не удалось найти сервер, указанный в адресе для уведомлений."


def test_pinned_request_connects_to_the_checked_address_and_keeps_the_name() -> None:
    resolve = resolver_for({"hooks.example.com": [PUBLIC_V6]})
    callback = parse_callback_url("https://Hooks.Example.com:8443/in?sig=1")
    [address] = resolve_destination(callback, allow_private=False, resolver=resolve)
    url, headers, extensions = pinned_request(callback, address)
    assert url == f"https://[{PUBLIC_V6}]:8443/in?sig=1"
    assert headers == {"Host": "hooks.example.com:8443"}
    assert extensions == {"sni_hostname": "hooks.example.com"}
    assert callback.origin == "https://hooks.example.com:8443"  # what logs show: no query


def test_internationalised_host_names_are_sent_as_idna() -> None:
    callback = parse_callback_url("https://пример.рф/hook")
    assert callback.host == "xn--e1afmkfd.xn--p1ai"
    assert callback.host_header == "xn--e1afmkfd.xn--p1ai"


def test_settings_default_to_refusing_private_destinations(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, DATA_DIR=tmp_path)
    assert settings.webhook_allow_private is False
    assert settings.webhook_url is None and settings.webhook_secret is None
    assert settings.webhook_max_attempts >= 1 and settings.webhook_timeout_sec > 0
    on = Settings(_env_file=None, WEBHOOK_ALLOW_PRIVATE="true", WEBHOOK_SECRET="s3cr3t-key")
    assert on.webhook_allow_private is True
    assert on.webhook_secret is not None and on.webhook_secret.get_secret_value() == "s3cr3t-key"
    assert "s3cr3t-key" not in repr(on)
