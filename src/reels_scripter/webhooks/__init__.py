"""Webhooks: tell a client's server when its job ends, signed, retried, never inward (SSRF).

destination.py  which URLs and addresses may be called (checked on upload and per attempt)
payload.py      the JSON body {jobId, state, progress, error, code, statusUrl, timestamp}
signing.py      X-Reels-Signature: sha256=<HMAC-SHA256 of the body with WEBHOOK_SECRET>
delivery.py     attempts with timeouts, backoff and jitter; a record of every attempt
"""

from reels_scripter.webhooks.delivery import (
    DELIVERY_HEADER,
    DeliveryAttempt,
    DeliveryResult,
    WebhookPolicy,
    attempt,
    deliver,
    retry_delay,
)
from reels_scripter.webhooks.destination import (
    FORBIDDEN_CODE,
    INVALID_CODE,
    UNRESOLVABLE_CODE,
    CallbackUrl,
    CallbackUrlError,
    UnresolvableHostError,
    parse_callback_url,
    validate_callback_url,
)
from reels_scripter.webhooks.payload import TERMINAL_STATES, build_payload, encode
from reels_scripter.webhooks.signing import SIGNATURE_HEADER, sign, verify

__all__ = [
    "DELIVERY_HEADER",
    "FORBIDDEN_CODE",
    "INVALID_CODE",
    "SIGNATURE_HEADER",
    "TERMINAL_STATES",
    "UNRESOLVABLE_CODE",
    "CallbackUrl",
    "CallbackUrlError",
    "DeliveryAttempt",
    "DeliveryResult",
    "UnresolvableHostError",
    "WebhookPolicy",
    "attempt",
    "build_payload",
    "deliver",
    "encode",
    "parse_callback_url",
    "retry_delay",
    "sign",
    "validate_callback_url",
    "verify",
]
