"""Delivering one webhook: bounded attempts, exponential backoff with jitter, a record of
every attempt.

Retried: network errors (DNS, connect, TLS, timeouts), 5xx and 429 (Retry-After honoured up
to the backoff cap). Not retried: any other status (4xx: the receiver refuses this request;
3xx: redirects are never followed, they could point anywhere) and a destination that now
resolves to a refused address. At most `max_attempts` POSTs, each within `timeout_sec`; the
worst case takes about max_attempts x timeout_sec plus the backoff delays (default: 5 x 10 s
+ ~1+2+4+8 s).

`deliver` runs the attempts in a loop (blocking, sleeping between them). A caller that would
rather not block a worker can use `attempt` and `retry_delay` to schedule each retry itself.
"""

from __future__ import annotations

import email.utils
import logging
import random
import ssl
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from reels_scripter.webhooks import payload as payload_mod
from reels_scripter.webhooks.destination import (
    CallbackUrl,
    CallbackUrlError,
    Resolver,
    UnresolvableHostError,
    parse_callback_url,
    pinned_request,
    resolve_destination,
    system_resolver,
)
from reels_scripter.webhooks.signing import SIGNATURE_HEADER, sign

log = logging.getLogger(__name__)

DELIVERY_HEADER = "X-Reels-Delivery"
USER_AGENT = "reels-scripter-webhook/1"
_MAX_ERROR_CHARS = 300


@dataclass(frozen=True)
class WebhookPolicy:
    """How hard to try. `from_settings` reads the WEBHOOK_* settings."""

    max_attempts: int = 5
    timeout_sec: float = 10.0
    backoff_base_sec: float = 1.0
    backoff_max_sec: float = 60.0
    allow_private: bool = False
    secret: str | None = None

    @classmethod
    def from_settings(cls, settings: Any) -> WebhookPolicy:
        secret = settings.webhook_secret
        return cls(
            max_attempts=settings.webhook_max_attempts,
            timeout_sec=settings.webhook_timeout_sec,
            allow_private=settings.webhook_allow_private,
            secret=secret.get_secret_value() if secret is not None else None,
        )


@dataclass
class DeliveryAttempt:
    """One POST (or the refusal to make it). JSON-ready via `as_dict`."""

    number: int
    at: str  # ISO-8601 UTC, when the attempt started
    status: int | None  # the receiver's HTTP status; None when no response came
    error: str | None  # why it failed, in English; None on success
    duration_ms: int
    retryable: bool
    retry_after_sec: float | None = None  # the receiver's Retry-After, when it sent one

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class DeliveryResult:
    """The outcome and every attempt; `as_dict()` is what to store on the job."""

    delivered: bool
    delivery_id: str  # the same X-Reels-Delivery header on every attempt (dedupe key)
    attempts: list[DeliveryAttempt] = field(default_factory=list)
    # callback_url_forbidden / invalid_callback_url when the destination was refused
    code: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "delivered": self.delivered,
            "deliveryId": self.delivery_id,
            "code": self.code,
            "attempts": [a.as_dict() for a in self.attempts],
        }


def attempt(
    callback: CallbackUrl,
    body_fields: dict[str, Any],
    policy: WebhookPolicy,
    *,
    number: int,
    delivery_id: str,
    resolver: Resolver = system_resolver,
    tls_verify: ssl.SSLContext | bool = True,
) -> tuple[DeliveryAttempt, str | None]:
    """One attempt: re-check the destination, POST the signed body to the checked address.
    Returns the record and, for a refused destination, its code."""
    started_at = datetime.now(UTC).isoformat(timespec="milliseconds")
    started = time.monotonic()

    def record(
        status: int | None, error: str | None, retryable: bool, **kw: Any
    ) -> DeliveryAttempt:
        elapsed = int((time.monotonic() - started) * 1000)
        return DeliveryAttempt(number, started_at, status, error, elapsed, retryable, **kw)

    try:
        addresses = resolve_destination(
            callback, allow_private=policy.allow_private, resolver=resolver
        )
    except UnresolvableHostError as exc:
        return record(None, exc.detail, retryable=True), None
    except CallbackUrlError as exc:
        return record(None, exc.detail, retryable=False), exc.code

    # several addresses: spread the attempts over them (a dead one is not tried every time)
    address = addresses[(number - 1) % len(addresses)]
    url, headers, extensions = pinned_request(callback, address)
    body = payload_mod.encode(body_fields)
    headers.update(
        {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            DELIVERY_HEADER: delivery_id,
        }
    )
    if policy.secret:
        headers[SIGNATURE_HEADER] = sign(body, policy.secret)
    try:
        # trust_env=False: no proxy from the environment between us and the checked address
        with (
            httpx.Client(
                timeout=policy.timeout_sec,
                follow_redirects=False,
                trust_env=False,
                verify=tls_verify,
            ) as client,
            client.stream(
                "POST", url, content=body, headers=headers, extensions=extensions
            ) as response,
        ):
            status = response.status_code
            retry_after = _retry_after_sec(response.headers.get("Retry-After"))
    except (httpx.HTTPError, httpx.InvalidURL, OSError) as exc:
        # network, TLS and timeout failures: the receiver may be back on the next attempt
        return record(None, _describe(exc), retryable=True), None

    if 200 <= status < 300:
        return record(status, None, retryable=False), None
    retryable = status == 429 or status >= 500
    error = f"HTTP {status}"
    if 300 <= status < 400:
        # said in the record, so a receiver's owner sees why a "moved" endpoint got nothing
        error += ": redirect not followed (webhooks are sent only to the URL given)"
    return record(status, error, retryable, retry_after_sec=retry_after), None


def retry_delay(
    policy: WebhookPolicy,
    after_attempt: int,
    retry_after_sec: float | None = None,
    rng: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait after attempt `after_attempt` (1-based): exponential, capped, with
    "equal jitter" (half fixed, half random) so retries from many jobs spread out; at least
    the receiver's Retry-After, never more than the cap."""
    exp = min(policy.backoff_max_sec, policy.backoff_base_sec * 2 ** (after_attempt - 1))
    delay = exp / 2 + rng() * exp / 2
    if retry_after_sec is not None:
        delay = max(delay, retry_after_sec)
    return float(min(delay, policy.backoff_max_sec))


def deliver(
    url: str,
    body_fields: dict[str, Any],
    policy: WebhookPolicy,
    *,
    resolver: Resolver = system_resolver,
    sleep: Callable[[float], None] = time.sleep,
    rng: Callable[[], float] = random.random,
    tls_verify: ssl.SSLContext | bool = True,
    delivery_id: str | None = None,
) -> DeliveryResult:
    """POST `body_fields` (see payload.build_payload) to `url` until it is accepted (2xx), a
    failure is final, or `policy.max_attempts` are spent. Never raises for delivery
    problems: the result says what happened."""
    result = DeliveryResult(delivered=False, delivery_id=delivery_id or str(uuid.uuid4()))
    try:
        callback = parse_callback_url(url)
    except CallbackUrlError as exc:
        now = datetime.now(UTC).isoformat(timespec="milliseconds")
        result.attempts.append(DeliveryAttempt(1, now, None, exc.detail, 0, retryable=False))
        result.code = exc.code
        log.warning("webhook not sent: %s", exc.detail)
        return result

    for number in range(1, policy.max_attempts + 1):
        record, refused_code = attempt(
            callback,
            body_fields,
            policy,
            number=number,
            delivery_id=result.delivery_id,
            resolver=resolver,
            tls_verify=tls_verify,
        )
        result.attempts.append(record)
        if record.error is None:
            result.delivered = True
            log.info(
                "webhook delivered to %s (HTTP %s, attempt %d)",
                callback.origin,
                record.status,
                number,
            )
            return result
        if refused_code is not None:
            result.code = refused_code
        if not record.retryable or number == policy.max_attempts:
            break
        delay = retry_delay(policy, number, record.retry_after_sec, rng)
        log.info(
            "webhook to %s failed (%s), attempt %d of %d; retrying in %.1f s",
            callback.origin,
            record.error,
            number,
            policy.max_attempts,
            delay,
        )
        sleep(delay)
    log.warning(
        "webhook to %s not delivered after %d attempt(s): %s",
        callback.origin,
        len(result.attempts),
        result.attempts[-1].error,
    )
    return result


def _retry_after_sec(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _describe(exc: Exception) -> str:
    text = str(exc).strip() or "no details"
    return f"{type(exc).__name__}: {text}"[:_MAX_ERROR_CHARS]
