"""Webhooks out: subscriptions of integrations, the events they are told about, replays.

`emit()` runs inside the transaction of the change it reports: each subscription that wants
the event gets a delivery row and an outbox job, so a rolled-back change sends nothing and a
committed one is sent even when Redis was down at that moment. The `rma.*` events are
emitted for every new case event by a session listener (below), whatever path made it.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session, SessionTransaction

from reverse.api.models import Integration
from reverse.core.actors import Actor
from reverse.core.db import utcnow
from reverse.core.errors import DomainError
from reverse.extensions import db
from reverse.jobs.constants import QueueName
from reverse.jobs.outbox import enqueue
from reverse.settings import PRODUCTION
from reverse.webhooks.constants import DeliveryState, WebhookEvent
from reverse.webhooks.models import WebhookDelivery, WebhookSubscription

DELIVER_TASK = "reverse.webhooks.tasks:deliver"
#: the visible start of a signing secret, so nobody mistakes it for an API key
SECRET_PREFIX = "whsec_"  # noqa: S105 - a label, not a secret
MAX_URL_CHARS = 500


class WebhookError(DomainError):
    code = "webhook_error"


def new_event_id() -> str:
    return "evt_" + secrets.token_hex(12)


def iso(moment: datetime) -> str:
    """UTC, to the second, with a Z: the form every timestamp in a payload takes."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- subscriptions ----------------------------------------------------------------------------


def check_url(url: str) -> str:
    """The URL as it will be called; raises WebhookError unless it is http(s) with a host
    (https only in production: the payload and its signature travel in it)."""
    url = url.strip()
    parts = urlsplit(url)
    if len(url) > MAX_URL_CHARS:
        raise WebhookError(_l("At most 500 characters."), field="url")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookError(_l("Enter a full web address starting with https://."), field="url")
    if parts.username or parts.password:
        raise WebhookError(_l("Leave the user name and password out of the address."), field="url")
    if parts.scheme != "https" and current_app.config["ENV"] == PRODUCTION:
        raise WebhookError(_l("Webhooks are only sent over https."), field="url")
    return url


def _events(events: Iterable[str]) -> list[str]:
    chosen = set()
    for name in events:
        try:
            chosen.add(WebhookEvent(name))
        except ValueError:
            raise WebhookError(_l("Unknown event: %(event)s", event=name), field="events") from None
    if not chosen:
        raise WebhookError(_l("Choose at least one event."), field="events")
    return [e.value for e in WebhookEvent if e in chosen]


def add_subscription(
    integration: Integration, url: str, events: Iterable[str], description: str = ""
) -> WebhookSubscription:
    """A new subscription with a fresh signing secret (shown to the admin once)."""
    subscription = WebhookSubscription(
        integration=integration,
        url=check_url(url),
        events=_events(events),
        secret=SECRET_PREFIX + secrets.token_urlsafe(32),
        description=" ".join(description.split())[:200],
        active=True,
    )
    db.session.add(subscription)
    db.session.flush()
    return subscription


def set_subscription_active(subscription: WebhookSubscription, active: bool) -> bool:
    """Switch a subscription on or off; returns whether anything changed. Deliveries still
    waiting when it is switched off are not sent (they can be replayed later)."""
    if subscription.active == active:
        return False
    subscription.active = active
    db.session.flush()
    return True


# -- events -----------------------------------------------------------------------------------


def subscribers(event_type: WebhookEvent) -> list[WebhookSubscription]:
    """Active subscriptions of active integrations that want `event_type`."""
    candidates = db.session.scalars(
        sa.select(WebhookSubscription)
        .join(Integration)
        .where(WebhookSubscription.active.is_(True), Integration.active.is_(True))
        .order_by(WebhookSubscription.id)
    )
    # `events` is a JSON list: a handful of rows, filtered here rather than per dialect.
    return [s for s in candidates if event_type.value in s.events]


def _deliver(delivery: WebhookDelivery) -> None:
    message = enqueue(DELIVER_TASK, delivery.id, queue=QueueName.WEBHOOKS)
    delivery.outbox_message_id = message.id


def emit(
    event_type: WebhookEvent, data: dict[str, Any], occurred_at: datetime | None = None
) -> list[WebhookDelivery]:
    """Record event `event_type` for every subscription that wants it, each with a job that
    sends it after commit; returns the deliveries (none when nobody listens)."""
    targets = subscribers(event_type)
    if not targets:
        return []
    payload = {
        "id": new_event_id(),
        "type": event_type.value,
        "occurred_at": iso(occurred_at or utcnow()),
        "data": data,
    }
    deliveries = []
    for subscription in targets:
        delivery = WebhookDelivery(
            subscription=subscription,
            event_id=payload["id"],
            event_type=event_type.value,
            payload=payload,
            state=DeliveryState.PENDING,
            created_at=utcnow(),
        )
        db.session.add(delivery)
        db.session.flush()
        _deliver(delivery)
        deliveries.append(delivery)
    db.session.flush()
    return deliveries


def replay(delivery: WebhookDelivery, actor: Actor) -> WebhookDelivery:
    """Send an event again: a new delivery with the same event id and payload (receivers
    that already have the id drop it), to the same subscription, with a fresh set of tries."""
    if not delivery.subscription.active or not delivery.subscription.integration.active:
        raise WebhookError(_l("Switch the subscription and its integration on before replaying."))
    again = WebhookDelivery(
        subscription=delivery.subscription,
        event_id=delivery.event_id,
        event_type=delivery.event_type,
        payload=delivery.payload,
        state=DeliveryState.PENDING,
        replay_of_id=delivery.id,
        created_at=utcnow(),
    )
    db.session.add(again)
    db.session.flush()
    _deliver(again)
    db.session.flush()
    current_app.logger.info(
        "webhook delivery %s replayed as %s by %s", delivery.id, again.id, actor.label
    )
    return again


# -- rma.created / rma.status_changed for every new case event ---------------------------------

_NEW_RMA_EVENTS = "reverse.webhooks.rma_events"


@sa_event.listens_for(Session, "after_flush")
def _note_rma_events(session: Session, _context: Any) -> None:
    from reverse.rmas.models import EventKind, RmaEvent

    new = [
        obj
        for obj in session.new
        if isinstance(obj, RmaEvent) and obj.kind in (EventKind.CREATED, EventKind.STATUS_CHANGED)
    ]
    if new:
        session.info.setdefault(_NEW_RMA_EVENTS, []).extend(new)


@sa_event.listens_for(Session, "before_commit")
def _emit_rma_events(session: Session) -> None:
    """Emit the case events of this transaction, in the transaction, just before it commits.

    Not in the flush that wrote them: emitting writes rows and flushes, which a flush
    listener may not do. Events written in a savepoint that was rolled back are no longer
    in the session and are skipped."""
    if not session.info.get(_NEW_RMA_EVENTS):
        return
    if not has_app_context() or session is not db.session():
        session.info.pop(_NEW_RMA_EVENTS, None)  # a session of its own: not the app's work
        return
    session.flush()  # the last changes' events too
    while pending := session.info.pop(_NEW_RMA_EVENTS, None):
        for rma_event in sorted(pending, key=lambda e: e.id):
            if sa.inspect(rma_event).persistent:
                _emit_rma_event(rma_event)


@sa_event.listens_for(Session, "after_transaction_end")
def _forget_rma_events(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_NEW_RMA_EVENTS, None)


def _emit_rma_event(rma_event: Any) -> None:
    from reverse.rmas.models import EventKind
    from reverse.webhooks.payloads import rma_data

    data = rma_data(rma_event.rma)
    if rma_event.kind == EventKind.CREATED:
        data["status"] = rma_event.to_status.value
        emit(WebhookEvent.RMA_CREATED, data, rma_event.created_at)
    else:
        data["from_status"] = rma_event.from_status.value
        data["to_status"] = rma_event.to_status.value
        emit(WebhookEvent.RMA_STATUS_CHANGED, data, rma_event.created_at)
