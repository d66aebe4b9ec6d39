"""What actually arrived at a centre: one receipt per case, and parcels matching nothing."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reverse.core.db import UTCDateTime, utcnow
from reverse.extensions import db
from reverse.rmas.models import Rma


class Receipt(db.Model):
    """A case's parcel taken in at a centre. One per case: a second scan finds this row."""

    __tablename__ = "receipts"
    __table_args__ = (sa.UniqueConstraint("rma_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rma_id: Mapped[int] = mapped_column(sa.ForeignKey("rmas.id"))
    location_id: Mapped[int | None] = mapped_column(sa.ForeignKey("locations.id"))
    #: what was scanned to find the case (RMA number, tracking number …)
    scanned_code: Mapped[str] = mapped_column(sa.String(60))
    received_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    received_by_label: Mapped[str] = mapped_column(sa.String(120), default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    rma: Mapped[Rma] = relationship()


class UnexpectedParcel(db.Model):
    """A parcel whose code matched no case: kept for support to match later."""

    __tablename__ = "unexpected_parcels"

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int | None] = mapped_column(sa.ForeignKey("locations.id"))
    scanned_code: Mapped[str] = mapped_column(sa.String(60), default="")
    note: Mapped[str] = mapped_column(sa.Text, default="")
    #: set when support matched it to a case
    rma_id: Mapped[int | None] = mapped_column(sa.ForeignKey("rmas.id"))
    received_by_label: Mapped[str] = mapped_column(sa.String(120), default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
