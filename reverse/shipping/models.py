"""Parcels moving between customers, stores and centres."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reverse.catalog.models import Location
from reverse.core.db import TimestampMixin, UTCDateTime, enum_type
from reverse.extensions import db
from reverse.shipping.constants import Carrier, Direction, Payment, ShipmentStatus


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
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    from_location: Mapped[Location | None] = relationship(foreign_keys=[from_location_id])
    to_location: Mapped[Location | None] = relationship(foreign_keys=[to_location_id])
