"""Webhooks of finished jobs, sent from an outbox in the job rows.

A job that completes or fails with a callback URL becomes `webhook_state = pending` in the same
UPDATE that finishes it (`repository._finished`), so a notification is never lost between
"finished" and "sent", and nothing is sent inside a database transaction. Every worker's main
process runs a dispatcher thread (`worker.housekeeping`) that takes due notifications one
attempt at a time (`take_due_webhooks`: a guarded UPDATE leases each to one dispatcher), POSTs
them with `reels_scripter.webhooks.attempt` and records the attempt on the job: delivered,
failed for good, or pending again after the backoff. A slow or dead receiver therefore never
holds a job worker, and a dispatcher killed mid-attempt only delays the notification until its
lease runs out (then another worker sends it: receivers dedupe on `X-Reels-Delivery`).
"""

from __future__ import annotations

import logging
import ssl
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from reels_scripter.config import Settings
from reels_scripter.db.base import utcnow
from reels_scripter.jobs.models import WEBHOOK_DELIVERED, WEBHOOK_FAILED, WEBHOOK_PENDING
from reels_scripter.jobs.repository import DueWebhook, JobRepository
from reels_scripter.webhooks import (
    CallbackUrlError,
    WebhookPolicy,
    attempt,
    build_payload,
    parse_callback_url,
    retry_delay,
)
from reels_scripter.webhooks.destination import Resolver, system_resolver

log = logging.getLogger(__name__)

# Notifications one dispatcher sends at once (each in its own thread).
BATCH = 4


def lease(policy: WebhookPolicy) -> timedelta:
    """How long a taken notification is ours: one attempt's worst case, with room."""
    return timedelta(seconds=2 * policy.timeout_sec + 10)


def dispatch_due(
    settings: Settings,
    sessions: sessionmaker[Session],
    *,
    resolver: Resolver = system_resolver,
    tls_verify: ssl.SSLContext | bool = True,
    executor: ThreadPoolExecutor | None = None,
) -> int:
    """Send one attempt of every notification due now (up to BATCH); returns how many."""
    policy = WebhookPolicy.from_settings(settings)
    with sessions() as session:
        taken = JobRepository(session).take_due_webhooks(utcnow(), lease(policy), BATCH)
        session.commit()
    if not taken:
        return 0

    def send(due: DueWebhook) -> None:
        try:
            _send(sessions, policy, due, resolver, tls_verify)
        except Exception:  # one broken notification must not stop the others
            log.exception("webhook of job %s: attempt failed unexpectedly", due.job_id)

    if executor is None or len(taken) == 1:
        for due in taken:
            send(due)
    else:
        list(executor.map(send, taken))
    return len(taken)


def _send(
    sessions: sessionmaker[Session],
    policy: WebhookPolicy,
    due: DueWebhook,
    resolver: Resolver,
    tls_verify: ssl.SSLContext | bool,
) -> None:
    record: dict[str, Any] = dict(due.record)
    delivery_id = str(record.get("deliveryId") or uuid.uuid4())
    attempts: list[dict[str, Any]] = list(record.get("attempts") or [])
    number = len(attempts) + 1
    body = build_payload(
        job_id=due.job_id,
        state=due.state,
        progress=100 if due.state == "completed" else max(0, min(due.progress, 100)),
        error=due.error,
        code=due.error_code,
        status_url=str(record.get("statusUrl") or f"/api/status/{due.job_id}"),
    )
    refused: str | None = None
    try:
        callback = parse_callback_url(due.url)
    except CallbackUrlError as exc:
        now_text = utcnow().isoformat(timespec="milliseconds")
        attempts.append(
            {
                "number": number,
                "at": now_text,
                "status": None,
                "error": exc.detail,
                "duration_ms": 0,
                "retryable": False,
                "retry_after_sec": None,
            }
        )
        refused = exc.code
        retryable, delivered, retry_after = False, False, None
    else:
        result, refused = attempt(
            callback,
            body,
            policy,
            number=number,
            delivery_id=delivery_id,
            resolver=resolver,
            tls_verify=tls_verify,
        )
        attempts.append(result.as_dict())
        delivered = result.error is None
        retryable = result.retryable and refused is None
        retry_after = result.retry_after_sec

    due_at: datetime | None = None
    if delivered:
        state = WEBHOOK_DELIVERED
        log.info("job %s: webhook delivered (attempt %d)", due.job_id, number)
    elif retryable and number < policy.max_attempts:
        state = WEBHOOK_PENDING
        due_at = utcnow() + timedelta(seconds=retry_delay(policy, number, retry_after))
    else:
        state = WEBHOOK_FAILED
        log.warning(
            "job %s: webhook not delivered after %d attempt(s): %s",
            due.job_id,
            number,
            attempts[-1]["error"],
        )
    record.update(
        deliveryId=delivery_id,
        delivered=delivered,
        code=refused or record.get("code"),
        attempts=attempts,
    )
    with sessions() as session:
        JobRepository(session).record_webhook(due.job_id, record, state, due_at)
        session.commit()
