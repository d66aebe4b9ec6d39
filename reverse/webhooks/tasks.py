"""Sending one webhook delivery: the `webhooks` queue's job.

The body is the delivery's payload as JSON, signed like the carriers' tracking webhook:
`X-Reverse-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`. A 2xx
answer delivers it; anything else is recorded on the delivery and raised, so the outbox
runner tries again with its backoff, and after its last attempt the delivery is failed.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from flask import current_app

from reverse.core.db import utcnow
from reverse.extensions import db
from reverse.jobs.models import OutboxMessage
from reverse.settings import PRODUCTION
from reverse.shipping.tracking import SIGNATURE_HEADER, sign
from reverse.webhooks.constants import DeliveryState
from reverse.webhooks.models import WebhookDelivery

#: seconds to connect, and to wait for the answer
TIMEOUT = (5, 10)
#: seconds a job's outbox row stays leased beyond the timeouts while the receiver answers
LEASE_MARGIN_S = 30
#: how much of a refusing receiver's answer is kept for the log
KEPT_ANSWER_CHARS = 500
USER_AGENT = "Reverse-Webhooks/1"


class DeliveryFailed(Exception):
    """The receiver did not take the event; the outbox runner retries the job."""


def encode(payload: dict[str, Any]) -> bytes:
    """The body: compact UTF-8 JSON (receivers verify these exact bytes)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def signed_headers(delivery: WebhookDelivery, body: bytes, now: float | None = None) -> dict:
    timestamp = int(now if now is not None else time.time())
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Reverse-Event": delivery.event_type,
        "X-Reverse-Delivery": delivery.event_id,
        SIGNATURE_HEADER: sign(delivery.subscription.secret, body, timestamp),
    }


def _refusal(url: str) -> str:
    """Why `url` may not be called ("" when it may): only http(s), https in production."""
    scheme = urlsplit(url).scheme
    if scheme not in ("http", "https"):
        return f"refused to send to a {scheme or 'schemeless'} URL: only http(s)"
    if scheme != "https" and current_app.config["ENV"] == PRODUCTION:
        return "refused to send over plain http in production"
    return ""


def _post(url: str, body: bytes, headers: dict) -> tuple[int | None, str]:
    """(status code, what went wrong) of one POST; the code is None when none came back."""
    try:
        # No redirects: the signed event goes to the address the integration registered.
        with requests.post(
            url, data=body, headers=headers, timeout=TIMEOUT, allow_redirects=False, stream=True
        ) as response:
            if 200 <= response.status_code < 300:
                return response.status_code, ""
            answer = next(response.iter_content(KEPT_ANSWER_CHARS, decode_unicode=False), b"")
            text = answer.decode("utf-8", "replace").strip()
            return response.status_code, f"HTTP {response.status_code}: {text}".strip(": ")
    except requests.RequestException as exc:
        return None, f"{type(exc).__name__}: {exc}"[:KEPT_ANSWER_CHARS]


def _last_try(delivery: WebhookDelivery) -> bool:
    message = (
        db.session.get(OutboxMessage, delivery.outbox_message_id)
        if delivery.outbox_message_id
        else None
    )
    done_before = message.attempts if message is not None else delivery.attempts - 1
    return done_before + 1 >= current_app.config["OUTBOX_MAX_ATTEMPTS"]


def deliver(delivery_id: int) -> str:
    """Send delivery `delivery_id` once; a delivered one is never sent again. Returns what
    happened ("delivered", "already-delivered", "switched-off", …); raises DeliveryFailed
    when the receiver did not take it."""
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        return "missing"
    if delivery.state == DeliveryState.DELIVERED:
        return "already-delivered"
    subscription = delivery.subscription
    if not (subscription.active and subscription.integration.active):
        # Switched off after the event: not sent, and not retried. A replay sends it later.
        _finish(delivery, None, "not sent: the subscription or its integration is switched off")
        return "switched-off"
    refusal = _refusal(subscription.url)
    if refusal:
        _finish(delivery, None, refusal)
        return "refused"

    body = encode(delivery.payload)
    headers = signed_headers(delivery, body)
    url = subscription.url
    _lease(delivery)
    status, error = _post(url, body, headers)
    delivery = db.session.get(WebhookDelivery, delivery_id)
    now = utcnow()
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.last_status_code = status
    delivery.last_error = error
    if not error:
        delivery.state = DeliveryState.DELIVERED
        delivery.delivered_at = now
        db.session.flush()  # committed by the runner together with the job's done mark
        return "delivered"
    delivery.state = DeliveryState.FAILED if _last_try(delivery) else DeliveryState.PENDING
    # The runner rolls the job's transaction back when it raises: the attempt is committed
    # first, so the log shows it (the job has written nothing else).
    db.session.commit()
    raise DeliveryFailed(f"webhook delivery {delivery_id} to {url}: {error}")


def _lease(delivery: WebhookDelivery) -> None:
    """Hold no database lock while the receiver answers (up to the timeouts): SQLite's write
    lock would stall every other writer of the embedded set-up for that long, and PostgreSQL
    would keep a connection in a transaction. The job's outbox row is leased instead — not
    available again until after the timeouts — so the relay does not start it a second time
    meanwhile; the runner's own bookkeeping replaces the lease when the job ends."""
    message = (
        db.session.get(OutboxMessage, delivery.outbox_message_id)
        if delivery.outbox_message_id
        else None
    )
    if message is not None:
        message.available_at = utcnow() + timedelta(seconds=sum(TIMEOUT) + LEASE_MARGIN_S)
    db.session.commit()


def _finish(delivery: WebhookDelivery, status: int | None, error: str) -> None:
    delivery.state = DeliveryState.FAILED
    delivery.last_status_code = status
    delivery.last_error = error
    delivery.last_attempt_at = utcnow()
    db.session.flush()
