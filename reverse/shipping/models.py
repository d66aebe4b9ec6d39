"""Parcels moving between customers, stores and centres."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reverse.catalog.models import Location
from reverse.core.db import TimestampMixin, UTCDateTime, enum_type, utcnow
from reverse.extensions import db
from reverse.shipping.constants import Carrier, Direction, Payment, ShipmentStatus

if TYPE_CHECKING:
    from reverse.rmas.models import Rma


class Shipment(TimestampMixin, db.Model):
    __tablename__ = "shipments"
    __table_args__ = (
        sa.UniqueConstraint("carrier", "tracking_number"),
        sa.CheckConstraint(
            "tracking_number IS NULL OR length(tracking_number) BETWEEN 8 AND 20",
            name="tracking_number_length",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rma_id: Mapped[int | None] = mapped_column(sa.ForeignKey("rmas.id"), index=True)
    direction: Mapped[Direction] = mapped_column(enum_type(Direction))
    carrier: Mapped[Carrier] = mapped_column(enum_type(Carrier))
    payment: Mapped[Payment] = mapped_column(enum_type(Payment), default=Payment.RECEIVER_PAYS)
    status: Mapped[ShipmentStatus] = mapped_column(
        enum_type(ShipmentStatus), default=ShipmentStatus.CREATED, index=True
    )
    #: digits only, as printed under the barcode
    tracking_number: Mapped[str | None] = mapped_column(sa.String(20), index=True)
    from_location_id: Mapped[int | None] = mapped_column(sa.ForeignKey("locations.id"))
    to_location_id: Mapped[int | None] = mapped_column(sa.ForeignKey("locations.id"))
    #: path of the label PDF below the instance folder, once rendered
    label_path: Mapped[str | None] = mapped_column(sa.String(255))
    #: the carrier account (and so the number range) the label is issued under
    account_id: Mapped[int | None] = mapped_column(sa.ForeignKey("carrier_accounts.id"))
    #: 品名: what the parcel holds, as printed on the slip
    item_name: Mapped[str] = mapped_column(sa.String(60), default="")
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    rma: Mapped[Rma | None] = relationship("Rma")
    from_location: Mapped[Location | None] = relationship(foreign_keys=[from_location_id])
    to_location: Mapped[Location | None] = relationship(foreign_keys=[to_location_id])


class CarrierAccount(TimestampMixin, db.Model):
    """A location's contract with a carrier: the shipper code printed on slips, and the
    tracking-number ranges the carrier issued to it."""

    __tablename__ = "carrier_accounts"
    __table_args__ = (sa.UniqueConstraint("location_id", "carrier", "customer_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("locations.id"), index=True)
    carrier: Mapped[Carrier] = mapped_column(enum_type(Carrier))
    #: ご請求先顧客コード / お客様コード as the carrier assigned it
    customer_code: Mapped[str] = mapped_column(sa.String(20))
    name: Mapped[str] = mapped_column(sa.String(120), default="")
    active: Mapped[bool] = mapped_column(default=True)

    location: Mapped[Location] = relationship()
    ranges: Mapped[list[TrackingRange]] = relationship(
        back_populates="account", order_by="TrackingRange.id"
    )


class TrackingRange(db.Model):
    """Tracking-number bodies (11 digits, the check digit is computed) issued by a carrier.
    Numbers are taken from `next_body` upwards and never handed out twice."""

    __tablename__ = "tracking_ranges"
    __table_args__ = (
        sa.CheckConstraint("first_body >= 0 AND last_body < 100000000000", name="eleven_digits"),
        sa.CheckConstraint("first_body <= last_body", name="ordered"),
        sa.CheckConstraint(
            "next_body >= first_body AND next_body <= last_body + 1", name="next_in_range"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("carrier_accounts.id"), index=True)
    first_body: Mapped[int] = mapped_column(sa.BigInteger)
    last_body: Mapped[int] = mapped_column(sa.BigInteger)
    #: the next body to hand out; last_body + 1 when the range is used up
    next_body: Mapped[int] = mapped_column(sa.BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    account: Mapped[CarrierAccount] = relationship(back_populates="ranges")

    @property
    def remaining(self) -> int:
        return self.last_body + 1 - self.next_body


class TrackingEvent(db.Model):
    """What a carrier reported about a parcel. The same report twice is one row."""

    __tablename__ = "tracking_events"
    __table_args__ = (sa.UniqueConstraint("shipment_id", "status", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(sa.ForeignKey("shipments.id"), index=True)
    #: normalised: in_transit, delivered (the carrier's own wording is in `description`)
    status: Mapped[ShipmentStatus] = mapped_column(enum_type(ShipmentStatus))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: the carrier's depot or place name ("羽田クロノゲート")
    place: Mapped[str] = mapped_column(sa.String(120), default="")
    description: Mapped[str] = mapped_column(sa.String(200), default="")
    #: webhook or csv
    source: Mapped[str] = mapped_column(sa.String(20))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    shipment: Mapped[Shipment] = relationship()
