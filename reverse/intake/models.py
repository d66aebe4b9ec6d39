"""What actually arrived at a centre: one receipt per case, and parcels matching nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reverse.catalog.constants import Category
from reverse.catalog.models import Variant
from reverse.core.db import TimestampMixin, UTCDateTime, enum_type, utcnow
from reverse.extensions import db
from reverse.intake.constants import Disposition, Grade, UnitState
from reverse.rmas.constants import RmaType
from reverse.rmas.models import Rma, RmaLine


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
    units: Mapped[list[ReceiptUnit]] = relationship(
        back_populates="receipt", order_by="ReceiptUnit.unit_no"
    )


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


class ReceiptUnit(db.Model):
    """One unit the receiving desk accounted for: an expected unit of a line (received, short,
    wrong item, damaged in transit) or an extra one found in the parcel. Units are numbered
    1, 2, … within their receipt; the expected ones are written when the parcel is taken in."""

    __tablename__ = "receipt_units"
    __table_args__ = (
        sa.UniqueConstraint("receipt_id", "unit_no"),
        sa.CheckConstraint("unit_no > 0", name="unit_no_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt_id: Mapped[int] = mapped_column(sa.ForeignKey("receipts.id"), index=True)
    rma_id: Mapped[int] = mapped_column(sa.ForeignKey("rmas.id"), index=True)
    unit_no: Mapped[int]
    #: the line this unit was expected for; None for an extra unit matching no line
    rma_line_id: Mapped[int | None] = mapped_column(sa.ForeignKey("rma_lines.id"), index=True)
    state: Mapped[UnitState] = mapped_column(enum_type(UnitState), default=UnitState.RECEIVED)
    #: what actually arrived, when known (the line's variant, or the JAN scanned)
    variant_id: Mapped[int | None] = mapped_column(sa.ForeignKey("variants.id"))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    recorded_by_label: Mapped[str] = mapped_column(sa.String(120), default="")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    receipt: Mapped[Receipt] = relationship(back_populates="units")
    rma_line: Mapped[RmaLine | None] = relationship()
    variant: Mapped[Variant | None] = relationship()
    inspection: Mapped[Inspection | None] = relationship(back_populates="unit", uselist=False)


class Inspection(db.Model):
    """A unit checked and graded, and the disposition it leaves with. One per unit."""

    __tablename__ = "inspections"
    __table_args__ = (sa.UniqueConstraint("unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("receipt_units.id"))
    rma_id: Mapped[int] = mapped_column(sa.ForeignKey("rmas.id"), index=True)
    grade: Mapped[Grade] = mapped_column(enum_type(Grade))
    #: the category checklist's answers: {"tags_attached": true, "stains": false, …}
    checklist: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    inspector_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    inspector_label: Mapped[str] = mapped_column(sa.String(120), default="")
    inspected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: what the disposition rules proposed, and the rule that did
    proposed_disposition: Mapped[Disposition] = mapped_column(enum_type(Disposition))
    rule_id: Mapped[int | None] = mapped_column(sa.ForeignKey("disposition_rules.id"))
    #: what was decided; differs from the proposal only with an override reason
    disposition: Mapped[Disposition | None] = mapped_column(enum_type(Disposition))
    override_reason: Mapped[str] = mapped_column(sa.Text, default="")
    decided_by_label: Mapped[str] = mapped_column(sa.String(120), default="")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    unit: Mapped[ReceiptUnit] = relationship(back_populates="inspection")


class DispositionRule(TimestampMixin, db.Model):
    """Admin-edited: which disposition to propose for a request type × reason × category ×
    grade. Empty fields match anything; the most specific active rule wins (then the newest)."""

    __tablename__ = "disposition_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    rma_type: Mapped[RmaType | None] = mapped_column(enum_type(RmaType))
    reason: Mapped[str | None] = mapped_column(sa.String(40))
    category: Mapped[Category | None] = mapped_column(enum_type(Category))
    grade: Mapped[Grade | None] = mapped_column(enum_type(Grade))
    disposition: Mapped[Disposition] = mapped_column(enum_type(Disposition))
    active: Mapped[bool] = mapped_column(default=True)
    note: Mapped[str] = mapped_column(sa.String(200), default="")

    @property
    def specificity(self) -> int:
        return sum(f is not None for f in (self.rma_type, self.reason, self.category, self.grade))
