"""Bounded retries with exponential backoff and full jitter, honouring the server's own delay.

Each provider tells `call_with_retries` how to classify its SDK's exceptions (`Fault`); the
policy bounds both the number of attempts and the total time, so a server that keeps answering
500 fails in bounded time, and a 429 whose RetryInfo asks for longer than the budget left fails
at once instead of sleeping past it.
"""

from __future__ import annotations

import email.utils
import logging
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from reels_scripter.providers.base import (
    ModelNotFoundError,
    ProviderConfigError,
    ProviderContext,
    ProviderError,
)
from reels_scripter.providers.circuit import CircuitBreaker
from reels_scripter.providers.ratelimit import RateLimiter

log = logging.getLogger(__name__)

T = TypeVar("T")

RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 5  # retries after the first attempt
    base_delay: float = 1.0
    max_delay: float = 60.0
    total: float = 600.0  # seconds for all attempts and waits together

    @classmethod
    def for_context(cls, context: ProviderContext, max_retries: int) -> RetryPolicy:
        """The shared AI_RETRY_* timings with a provider's own retry count."""
        return cls(
            max_retries=max_retries,
            base_delay=context.retry_base_delay,
            max_delay=context.retry_max_delay,
            total=context.retry_total,
        )

    def backoff(self, retry: int) -> float:
        """Equal jitter: uniform in [step/2, step], step = base * 2^retry capped at max_delay.

        The jitter spreads workers that failed together; the floor keeps the backoff real.
        """
        ceiling = min(self.max_delay, self.base_delay * (2**retry))
        return random.uniform(ceiling / 2, ceiling)


@dataclass(frozen=True)
class Fault:
    """How a provider judged one failed attempt."""

    retryable: bool
    message: str
    server_delay: float | None = None  # what the server asked for (Retry-After / RetryInfo)
    config: bool = False  # a bad key or unknown model: retrying or falling back will not help
    missing_model: bool = False  # the model does not exist (any more): a setting must change
    quota: bool = False  # a 429: the server counted the request (its slot stays booked)


def _duration(value: str) -> float | None:
    """Protobuf Duration JSON ("12s", "1.5s") or plain seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)s?\s*", value)
    return float(match.group(1)) if match else None


def retry_after_header(headers: Mapping[str, str] | None) -> float | None:
    if not headers:
        return None
    lowered = {k.lower(): v for k, v in headers.items()}
    ms = lowered.get("retry-after-ms")
    if ms:
        try:
            return max(float(ms) / 1000.0, 0.0)
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if not value:
        return None
    seconds = _duration(value)
    if seconds is not None:
        return seconds
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


def retry_info_delay(error_body: Any) -> float | None:
    """`google.rpc.RetryInfo.retryDelay` from a Google API error body, if any."""
    if not isinstance(error_body, Mapping):
        return None
    error = error_body.get("error", error_body)
    details = error.get("details") if isinstance(error, Mapping) else None
    if not isinstance(details, list):
        return None
    for detail in details:
        if (
            isinstance(detail, Mapping)
            and str(detail.get("@type", "")).endswith("google.rpc.RetryInfo")
            and isinstance(detail.get("retryDelay"), str)
        ):
            return _duration(detail["retryDelay"])
    return None


def call_with_retries(
    attempt: Callable[[], T],
    classify: Callable[[Exception], Fault | None],
    policy: RetryPolicy,
    *,
    label: str,
    limiter: RateLimiter | None = None,
    deadline: float | None = None,
    circuit: CircuitBreaker | None = None,
) -> T:
    """Run `attempt` until it succeeds, a fault is final, or count/time run out.

    `classify` returns None for exceptions it does not know (they propagate unchanged).
    `deadline` (time.monotonic) lets several calls of one write share one time budget.
    A failed attempt the server did not serve (5xx, network) gives its rate-limit slot back;
    a 429 keeps it (the server counted it). With `circuit`, each retryable failure counts
    towards opening it, and once it is open the call gives up at once (transient), so the
    caller's fallback takes over within seconds instead of after the whole retry budget.
    """
    deadline = deadline if deadline is not None else time.monotonic() + policy.total
    retry = 0
    while True:
        slot = None
        if limiter is not None:
            slot = limiter.acquire(timeout=max(deadline - time.monotonic(), 0.0))
        try:
            result = attempt()
        except Exception as exc:
            fault = classify(exc)
            if fault is None:
                raise
            if limiter is not None and slot and fault.retryable and not fault.quota:
                limiter.release(slot)
            unserved = fault.retryable and not fault.quota
            if circuit is not None and unserved and circuit.failure():
                raise ProviderError(
                    f"{label}: {fault.message} (failing repeatedly: circuit open)",
                    transient=True,
                ) from exc
            if fault.missing_model:
                raise ModelNotFoundError(f"{label}: {fault.message}") from exc
            if fault.config:
                raise ProviderConfigError(f"{label}: {fault.message}") from exc
            if not fault.retryable:
                raise ProviderError(f"{label}: {fault.message}") from exc
            if retry >= policy.max_retries:
                raise ProviderError(
                    f"{label}: {fault.message} (gave up after {retry + 1} attempts)",
                    transient=True,
                ) from exc
            delay = policy.backoff(retry)
            if fault.server_delay is not None:
                # The server knows its quota window; never come back earlier than it asked.
                delay = max(delay, fault.server_delay)
            left = deadline - time.monotonic()
            if delay > left:
                raise ProviderError(
                    f"{label}: {fault.message} (retry budget of {policy.total:.0f} s exhausted)",
                    transient=True,
                ) from exc
            log.info("%s: %s; retry %d in %.2f s", label, fault.message, retry + 1, delay)
            time.sleep(delay)
            retry += 1
        else:
            if circuit is not None:
                circuit.success()
            return result
