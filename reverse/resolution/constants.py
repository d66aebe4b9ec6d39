"""How a case is settled: refund, store credit, exchange or rejection; and when money moves."""

from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l


class Resolution(enum.StrEnum):
    """How a return or exchange is settled with the customer."""

    REFUND = "refund"
    STORE_CREDIT = "store_credit"
    EXCHANGE = "exchange"
    REJECTED = "rejected"  # the item goes back to the customer, with the reason


RESOLUTION_LABELS = {
    Resolution.REFUND: _l("Refund"),
    Resolution.STORE_CREDIT: _l("Store credit"),
    Resolution.EXCHANGE: _l("Exchange"),
    Resolution.REJECTED: _l("Rejected, returned to customer"),
}


class RefundRelease(enum.StrEnum):
    """When a channel lets the refund go to the payment system."""

    CARRIER_SCAN = "carrier_scan"  # the carrier has the parcel
    RECEIPT = "receipt"  # the parcel is at the centre
    INSPECTION = "inspection"  # the items are checked


REFUND_RELEASE_LABELS = {
    RefundRelease.CARRIER_SCAN: _l("When the carrier scans the parcel"),
    RefundRelease.RECEIPT: _l("When the parcel is received"),
    RefundRelease.INSPECTION: _l("After inspection"),
}


class RefundKind(enum.StrEnum):
    REFUND = "refund"  # money back on the original payment
    STORE_CREDIT = "store_credit"


class RefundState(enum.StrEnum):
    PENDING = "pending"  # computed, waiting for the channel's release point
    RELEASED = "released"  # instruction handed to the payment system
    SETTLED = "settled"  # the payment system confirmed it


class ReservationState(enum.StrEnum):
    RESERVED = "reserved"
    SHIPPED = "shipped"
    RELEASED = "released"  # given back to stock (case cancelled, rejected, expired)
