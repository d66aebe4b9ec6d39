"""Webhook event types and delivery states."""

from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l


class WebhookEvent(enum.StrEnum):
    RMA_CREATED = "rma.created"
    RMA_STATUS_CHANGED = "rma.status_changed"
    REFUND_REQUESTED = "refund.requested"
    RESALE_SOLD = "resale.sold"
    #: a customer asked to buy a pre-owned item online: the web shop takes the payment
    RESALE_PURCHASE_REQUESTED = "resale.purchase_requested"


EVENT_LABELS = {
    WebhookEvent.RMA_CREATED: _l("A request was filed"),
    WebhookEvent.RMA_STATUS_CHANGED: _l("A request changed status"),
    WebhookEvent.REFUND_REQUESTED: _l("A refund is due to be paid"),
    WebhookEvent.RESALE_SOLD: _l("A pre-owned item was sold"),
    WebhookEvent.RESALE_PURCHASE_REQUESTED: _l(
        "A customer asked to buy a pre-owned item online (take the payment)"
    ),
}


class DeliveryState(enum.StrEnum):
    PENDING = "pending"  # waiting for its first try or a retry
    DELIVERED = "delivered"  # the receiver answered 2xx
    FAILED = "failed"  # gave up after the last retry


DELIVERY_STATE_LABELS = {
    DeliveryState.PENDING: _l("Pending"),
    DeliveryState.DELIVERED: _l("Delivered"),
    DeliveryState.FAILED: _l("Failed"),
}
