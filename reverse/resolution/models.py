"""Money owed to a customer (refunds, store credit) and stock promised to exchanges."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reverse.catalog.models import Location, Variant
from reverse.core.db import UTCDateTime, enum_type, utcnow
from reverse.extensions import db
from reverse.resolution.constants import RefundKind, RefundState, ReservationState
from reverse.rmas.models import Rma, RmaLine


class Refund(db.Model):
    """What a case owes its customer: money back or store credit. One per case — recorded
    once however often it is triggered — and settled by the payment system."""

    __tablename__ = "refunds"
    __table_args__ = (
        sa.UniqueConstraint("rma_id"),
        sa.CheckConstraint("amount_yen >= 0", name="amount_not_negative"),
        sa.CheckConstraint("bonus_yen >= 0", name="bonus_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rma_id: Mapped[int] = mapped_column(sa.ForeignKey("rmas.id"))
    #: the purchase it is refunded against (caps it at paid − already refunded)
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("orders.id"), index=True)
    kind: Mapped[RefundKind] = mapped_column(enum_type(RefundKind))
    #: what the customer gets, yen (for store credit: including the bonus)
    amount_yen: Mapped[int]
    #: store credit bonus included in amount_yen
    bonus_yen: Mapped[int] = mapped_column(default=0)
    #: how the amount was reached: paid, fees, shipping, cap — shown to staff and customer
    breakdown: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    state: Mapped[RefundState] = mapped_column(
        enum_type(RefundState), default=RefundState.PENDING, index=True
    )
    created_by_label: Mapped[str] = mapped_column(sa.String(120), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    rma: Mapped[Rma] = relationship()


class StockReservation(db.Model):
    """A unit of the wanted variant promised to an exchange line, at one location."""

    __tablename__ = "stock_reservations"
    __table_args__ = (
        sa.UniqueConstraint("rma_line_id"),
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rma_id: Mapped[int] = mapped_column(sa.ForeignKey("rmas.id"), index=True)
    rma_line_id: Mapped[int] = mapped_column(sa.ForeignKey("rma_lines.id"))
    variant_id: Mapped[int] = mapped_column(sa.ForeignKey("variants.id"), index=True)
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("locations.id"))
    quantity: Mapped[int] = mapped_column(default=1)
    state: Mapped[ReservationState] = mapped_column(
        enum_type(ReservationState), default=ReservationState.RESERVED, index=True
    )
    #: the outbound parcel carrying the replacement, once created
    shipment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("shipments.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    rma_line: Mapped[RmaLine] = relationship()
    variant: Mapped[Variant] = relationship()
    location: Mapped[Location] = relationship()
