"""Resale items: graded units offered again (the re-commerce shop builds on them)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reverse.catalog.models import Location, Variant
from reverse.core.db import TimestampMixin, UTCDateTime, enum_type
from reverse.extensions import db
from reverse.intake.constants import Grade
from reverse.resale.constants import ResaleState


class ResaleItem(TimestampMixin, db.Model):
    """One graded unit for sale as pre-owned: made when an inspection's disposition is resale."""

    __tablename__ = "resale_items"
    __table_args__ = (
        sa.UniqueConstraint("unit_id"),
        sa.CheckConstraint("suggested_price_yen >= 0", name="suggested_price_not_negative"),
        sa.CheckConstraint("price_yen >= 0", name="price_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the received unit it is (unit → receipt → case): where it came from
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("receipt_units.id"))
    variant_id: Mapped[int] = mapped_column(sa.ForeignKey("variants.id"), index=True)
    location_id: Mapped[int | None] = mapped_column(sa.ForeignKey("locations.id"), index=True)
    grade: Mapped[Grade] = mapped_column(enum_type(Grade))
    #: list price × the grade's percentage (intake.constants.RESALE_PRICE_PERCENT)
    suggested_price_yen: Mapped[int]
    price_yen: Mapped[int]
    state: Mapped[ResaleState] = mapped_column(
        enum_type(ResaleState), default=ResaleState.DRAFT, index=True
    )
    listed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    variant: Mapped[Variant] = relationship()
    location: Mapped[Location | None] = relationship()
