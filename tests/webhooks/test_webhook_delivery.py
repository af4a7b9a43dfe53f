"""Webhook delivery to a real local receiver (127.0.0.1, so WEBHOOK_ALLOW_PRIVATE=true):
signature, retries with backoff on 5xx/429/network errors, none on 4xx or redirects, bounded
attempts, the record of attempts, and the SSRF checks at delivery time (DNS rebinding)."""

from __future__ import annotations

import json
import socket
import ssl
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from reels_scripter.webhooks import (
    DELIVERY_HEADER,
    FORBIDDEN_CODE,
    SIGNATURE_HEADER,
    WebhookPolicy,
    build_payload,
    deliver,
    retry_delay,
    verify,
)
from support.webhook_receiver import SECRET, Receiver

ReceiverFactory = Callable[..., Receiver]

LOCAL = WebhookPolicy(
    max_attempts=4, timeout_sec=2.0, backoff_base_sec=0.01, backoff_max_sec=5.0,
    allow_private=True, secret=SECRET,
)  # fmt: skip


def job_fields(state: str = "completed", error: str | None = None) -> dict[str, object]:
    return build_payload(
        job_id="0b5c9d2e-4f5a-4b6c-8d7e-9f0a1b2c3d4e",
        state=state,
        progress=100,
        error=error,
        code="ai_unavailable" if error else None,
        status_url="https://api.example.com/api/status/0b5c9d2e-4f5a-4b6c-8d7e-9f0a1b2c3d4e",
    )


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def fixed_resolver(table: dict[str, Sequence[str]]) -> Callable[[str, int], Sequence[str]]:
    def resolve(host: str, port: int) -> Sequence[str]:
        return table[host]

    return resolve


def test_delivered_signed_and_verified_by_the_receiver(receiver: ReceiverFactory) -> None:
    rec = receiver(204)
    before = int(time.time())
    result = deliver(rec.url(), job_fields("failed", "Сбой ИИ-провайдера"), LOCAL)

    assert result.delivered
    [got] = rec.requests
    assert got.signature_ok  # recomputed by the receiver with hmac over the raw body
    assert got.headers[SIGNATURE_HEADER.lower()].startswith("sha256=")
    assert verify(got.body, got.headers[SIGNATURE_HEADER.lower()], SECRET)
    assert not verify(got.body + b" ", got.headers[SIGNATURE_HEADER.lower()], SECRET)
    assert got.headers["content-type"] == "application/json"
    assert got.headers[DELIVERY_HEADER.lower()] == result.delivery_id
    assert got.path == "/hook?token=abc"
    body = json.loads(got.body.decode("utf-8"))
    assert set(body) == {"jobId", "state", "progress", "error", "code", "statusUrl", "timestamp"}
    assert body["state"] == "failed" and body["error"] == "Сбой ИИ-провайдера"
    assert "Сбой".encode() in got.body  # UTF-8, not \\u escapes
    assert before <= body["timestamp"] <= int(time.time())

    [attempt] = result.attempts
    assert attempt.status == 204 and attempt.error is None and attempt.number == 1
    stored = json.loads(json.dumps(result.as_dict()))  # what the job row keeps
    assert stored["delivered"] is True
    assert stored["attempts"][0]["status"] == 204


def test_wrong_secret_fails_the_receivers_check(receiver: ReceiverFactory) -> None:
    rec = receiver(204)
    deliver(rec.url(), job_fields(), WebhookPolicy(allow_private=True, secret="another-secret"))
    assert rec.requests and not rec.requests[0].signature_ok


def test_without_a_secret_the_webhook_is_unsigned(receiver: ReceiverFactory) -> None:
    rec = receiver(200)
    result = deliver(rec.url(), job_fields(), WebhookPolicy(allow_private=True, secret=None))
    assert result.delivered
    assert SIGNATURE_HEADER.lower() not in rec.requests[0].headers


def test_retries_on_500_then_succeeds(receiver: ReceiverFactory) -> None:
    rec = receiver(500, 502, 204)
    sleeps = Sleeps()
    result = deliver(rec.url(), job_fields(), LOCAL, sleep=sleeps, rng=lambda: 0.5)

    assert result.delivered
    assert [a.status for a in result.attempts] == [500, 502, 204]
    assert [a.retryable for a in result.attempts] == [True, True, False]
    assert result.attempts[0].error == "HTTP 500"
    assert len(rec.requests) == 3
    assert len({r.headers[DELIVERY_HEADER.lower()] for r in rec.requests}) == 1  # dedupe key
    assert all(r.signature_ok for r in rec.requests)
    # exponential: base 0.01 -> 0.01, 0.02 (equal jitter at rng=0.5 gives 3/4 of each)
    assert sleeps == pytest.approx([0.0075, 0.015])


def test_no_retry_on_400(receiver: ReceiverFactory) -> None:
    rec = receiver(400, 204)
    sleeps = Sleeps()
    result = deliver(rec.url(), job_fields(), LOCAL, sleep=sleeps)
    assert not result.delivered
    assert [a.status for a in result.attempts] == [400]
    assert result.attempts[0].retryable is False
    assert len(rec.requests) == 1 and sleeps == []


def test_redirects_are_not_followed(receiver: ReceiverFactory) -> None:
    target = receiver(204)
    rec = receiver((307, {"Location": target.url()}))
    result = deliver(rec.url(), job_fields(), LOCAL, sleep=Sleeps())
    assert not result.delivered
    assert [a.status for a in result.attempts] == [307]
    assert not result.attempts[0].retryable
    # the record says why, so the receiver's owner knows to give the final URL
    assert result.attempts[0].error == (
        "HTTP 307: redirect not followed (webhooks are sent only to the URL given)"
    )
    assert target.requests == []


def test_gives_up_after_max_attempts(receiver: ReceiverFactory) -> None:
    rec = receiver(503)
    sleeps = Sleeps()
    policy = WebhookPolicy(max_attempts=3, backoff_base_sec=0.01, allow_private=True, secret=SECRET)
    result = deliver(rec.url(), job_fields(), policy, sleep=sleeps)
    assert not result.delivered
    assert len(rec.requests) == 3
    assert [a.number for a in result.attempts] == [1, 2, 3]
    assert all(a.status == 503 for a in result.attempts)
    assert len(sleeps) == 2  # no wait after the last attempt


def test_429_honours_retry_after(receiver: ReceiverFactory) -> None:
    rec = receiver((429, {"Retry-After": "2"}), 200)
    sleeps = Sleeps()
    result = deliver(rec.url(), job_fields(), LOCAL, sleep=sleeps)
    assert result.delivered
    assert result.attempts[0].retry_after_sec == 2
    assert sleeps == [2.0]


def test_network_errors_are_retried_and_recorded() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sleeps = Sleeps()
    result = deliver(f"http://127.0.0.1:{port}/hook", job_fields(), LOCAL, sleep=sleeps)
    assert not result.delivered
    assert len(result.attempts) == LOCAL.max_attempts
    assert all(a.status is None and a.error and "ConnectError" in a.error for a in result.attempts)
    assert len(sleeps) == LOCAL.max_attempts - 1


def test_a_slow_receiver_times_out_and_is_retried(receiver: ReceiverFactory) -> None:
    rec = receiver(200, delay_sec=1.5)
    policy = WebhookPolicy(
        max_attempts=2, timeout_sec=0.3, backoff_base_sec=0.01, allow_private=True, secret=SECRET
    )
    result = deliver(rec.url(), job_fields(), policy, sleep=Sleeps())
    assert not result.delivered
    assert [a.error.split(":")[0] for a in result.attempts if a.error] == ["ReadTimeout"] * 2
    assert all(a.duration_ms < 1400 for a in result.attempts)


def test_the_checked_address_is_the_one_connected(receiver: ReceiverFactory) -> None:
    # the name exists only in our resolver: the request cannot have resolved it again
    rec = receiver(204)
    resolve = fixed_resolver({"hooks.example.test": ["127.0.0.1"]})
    result = deliver(rec.url("hooks.example.test"), job_fields(), LOCAL, resolver=resolve)
    assert result.delivered
    assert rec.requests[0].headers["host"] == f"hooks.example.test:{rec.port}"


def test_https_checks_the_certificate_against_the_name(
    receiver: ReceiverFactory, certificate: Callable[[str], tuple[Path, Path]]
) -> None:
    cert, key = certificate("hooks.example.test")
    rec = receiver(204, tls=(cert, key))
    trust = ssl.create_default_context(cafile=str(cert))
    resolve = fixed_resolver(
        {"hooks.example.test": ["127.0.0.1"], "other.example.test": ["127.0.0.1"]}
    )

    ok = deliver(
        rec.url("hooks.example.test"), job_fields(), LOCAL, resolver=resolve, tls_verify=trust
    )
    assert ok.delivered and rec.requests[0].signature_ok

    wrong = deliver(
        rec.url("other.example.test"), job_fields(), LOCAL, resolver=resolve,
        tls_verify=trust, sleep=Sleeps(),
    )  # fmt: skip
    assert not wrong.delivered
    assert "certificate" in (wrong.attempts[0].error or "").lower()
    assert len(rec.requests) == 1


def test_private_destination_refused_at_delivery_without_allow_private(
    receiver: ReceiverFactory,
) -> None:
    rec = receiver(204)
    strict = WebhookPolicy(max_attempts=3, allow_private=False, secret=SECRET)
    result = deliver(rec.url(), job_fields(), strict, sleep=Sleeps())
    assert not result.delivered
    assert result.code == FORBIDDEN_CODE
    assert len(result.attempts) == 1 and result.attempts[0].retryable is False
    assert rec.requests == []


def test_dns_rebinding_is_caught_at_delivery(receiver: ReceiverFactory) -> None:
    # accepted on upload (public answer), then the name points at us: nothing is sent
    rec = receiver(204)
    answers = iter([["93.184.215.14"], ["127.0.0.1"]])

    def rebinding(host: str, port: int) -> Sequence[str]:
        return next(answers)

    from reels_scripter.webhooks import validate_callback_url

    url = rec.url("hooks.example.test")
    validate_callback_url(url, allow_private=False, resolver=rebinding)
    strict = WebhookPolicy(max_attempts=3, allow_private=False, secret=SECRET)
    result = deliver(url, job_fields(), strict, resolver=rebinding, sleep=Sleeps())
    assert not result.delivered and result.code == FORBIDDEN_CODE
    assert "127.0.0.1 is loopback" in (result.attempts[0].error or "")
    assert rec.requests == []


def test_invalid_url_is_one_refused_attempt() -> None:
    result = deliver("gopher://127.0.0.1:6379/_FLUSHALL", job_fields(), LOCAL)
    assert not result.delivered
    assert result.code == "invalid_callback_url"
    assert len(result.attempts) == 1 and result.attempts[0].status is None


def test_retry_delay_grows_is_jittered_and_capped() -> None:
    policy = WebhookPolicy(backoff_base_sec=1.0, backoff_max_sec=8.0)
    low = [retry_delay(policy, n, rng=lambda: 0.0) for n in range(1, 7)]
    high = [retry_delay(policy, n, rng=lambda: 1.0) for n in range(1, 7)]
    assert low == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert high == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert retry_delay(policy, 1, retry_after_sec=30, rng=lambda: 0.0) == 8.0  # capped
