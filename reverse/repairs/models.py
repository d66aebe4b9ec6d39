"""The repair order of a repair case, its price list, quotes and work log."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reverse.catalog.models import Location
from reverse.core.db import TimestampMixin, UTCDateTime, enum_type, utcnow
from reverse.extensions import db
from reverse.repairs.constants import Handback, PriceItemKind, QuoteState, RepairKind
from reverse.rmas.models import Rma


class RepairOrder(TimestampMixin, db.Model):
    """What the repair centre and the store know about one repair case, beside its status."""

    __tablename__ = "repair_orders"
    __table_args__ = (
        sa.CheckConstraint(
            "estimate_min_yen IS NULL OR estimate_min_yen >= 0", name="estimate_min_ok"
        ),
        sa.CheckConstraint(
            "estimate_max_yen IS NULL OR estimate_min_yen IS NULL "
            "OR estimate_max_yen >= estimate_min_yen",
            name="estimate_ordered",
        ),
        sa.CheckConstraint("decline_fee_yen >= 0", name="decline_fee_ok"),
        sa.CheckConstraint("amount_due_yen >= 0", name="amount_due_ok"),
        sa.CheckConstraint(
            "handback = 'ship' OR pickup_location_id IS NOT NULL", name="pickup_has_place"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rma_id: Mapped[int] = mapped_column(sa.ForeignKey("rmas.id"), unique=True)
    #: the counter that took the item in (None for a repair sent in by the customer)
    intake_location_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("locations.id"), index=True
    )
    handback: Mapped[Handback] = mapped_column(enum_type(Handback), default=Handback.SHIP)
    #: where the customer collects the item when `handback` is store pickup
    pickup_location_id: Mapped[int | None] = mapped_column(sa.ForeignKey("locations.id"))
    #: free of charge: a defect within the warranty period (decided at intake, the technician
    #: may revise it at diagnosis with a reason)
    warranty: Mapped[bool] = mapped_column(default=False)
    warranty_note: Mapped[str] = mapped_column(sa.String(500), default="")
    #: the range the counter told the customer, yen (None: not estimated)
    estimate_min_yen: Mapped[int | None]
    estimate_max_yen: Mapped[int | None]
    #: the date the customer was promised the item back
    promised_on: Mapped[date | None] = mapped_column(sa.Date, index=True)
    #: the item's state when taken in (scratches, stains …), for both sides to rely on
    condition_notes: Mapped[str] = mapped_column(sa.Text, default="")
    #: what came with it (dust bag, strap, box …)
    accessories: Mapped[str] = mapped_column(sa.String(200), default="")
    kind: Mapped[RepairKind | None] = mapped_column(enum_type(RepairKind), index=True)
    diagnosis: Mapped[str] = mapped_column(sa.Text, default="")
    diagnosed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    diagnosed_by: Mapped[str] = mapped_column(sa.String(120), default="")
    #: charged when the customer declines the quote, per the policy when the case was opened
    decline_fee_yen: Mapped[int] = mapped_column(default=0)
    #: what the customer pays at hand-back: the approved quote, or the decline fee
    amount_due_yen: Mapped[int] = mapped_column(default=0)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    payment_note: Mapped[str] = mapped_column(sa.String(200), default="")
    qc_passed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    qc_by: Mapped[str] = mapped_column(sa.String(120), default="")
    qc_note: Mapped[str] = mapped_column(sa.Text, default="")
    #: when the item first reached us (counter or centre): turnaround counts from here
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    at_centre_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handed_back_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    rma: Mapped[Rma] = relationship(backref=sa.orm.backref("repair", uselist=False))
    intake_location: Mapped[Location | None] = relationship(foreign_keys=[intake_location_id])
    pickup_location: Mapped[Location | None] = relationship(foreign_keys=[pickup_location_id])
    quotes: Mapped[list[RepairQuote]] = relationship(
        back_populates="repair", order_by="RepairQuote.number"
    )
    work: Mapped[list[RepairWorkEntry]] = relationship(
        back_populates="repair", order_by="RepairWorkEntry.id"
    )

    @property
    def current_quote(self) -> RepairQuote | None:
        """The latest quote that is not replaced: waiting, approved or declined."""
        live = [q for q in self.quotes if q.state != QuoteState.SUPERSEDED]
        return live[-1] if live else None

    @property
    def open_quote(self) -> RepairQuote | None:
        quote = self.current_quote
        return quote if quote is not None and quote.state == QuoteState.SENT else None

    @property
    def amount_outstanding_yen(self) -> int:
        return 0 if self.paid_at is not None else self.amount_due_yen


class PriceListItem(TimestampMixin, db.Model):
    """A part or a piece of labour technicians quote from, at a fixed price (tax included)."""

    __tablename__ = "repair_price_items"
    __table_args__ = (sa.CheckConstraint("price_yen >= 0", name="price_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: short code technicians type ("L-STITCH-30")
    code: Mapped[str] = mapped_column(sa.String(30), unique=True)
    kind: Mapped[PriceItemKind] = mapped_column(enum_type(PriceItemKind))
    #: the repair kind this item usually belongs to (proposed as the repair's kind)
    repair_kind: Mapped[RepairKind | None] = mapped_column(enum_type(RepairKind))
    name_ja: Mapped[str] = mapped_column(sa.String(120))
    name_en: Mapped[str] = mapped_column(sa.String(120))
    price_yen: Mapped[int]
    #: switched-off items stay on old quotes but are not offered any more
    active: Mapped[bool] = mapped_column(default=True)

    def name(self, locale: str) -> str:
        return self.name_ja if locale == "ja" else self.name_en


class RepairQuote(db.Model):
    """A price the customer approves or declines; a changed scope makes a new one."""

    __tablename__ = "repair_quotes"
    __table_args__ = (
        sa.UniqueConstraint("repair_id", "number"),
        sa.CheckConstraint("total_yen >= 0", name="total_not_negative"),
        # One quote at a time waits for the customer: a re-quote replaces it.
        sa.Index(
            "uq_repair_quotes_one_open",
            "repair_id",
            unique=True,
            postgresql_where=sa.text("state = 'sent'"),
            sqlite_where=sa.text("state = 'sent'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    repair_id: Mapped[int] = mapped_column(sa.ForeignKey("repair_orders.id"), index=True)
    #: 1, 2, … per repair order
    number: Mapped[int]
    state: Mapped[QuoteState] = mapped_column(enum_type(QuoteState), default=QuoteState.SENT)
    total_yen: Mapped[int]
    #: what the technician tells the customer about the work
    note: Mapped[str] = mapped_column(sa.Text, default="")
    created_by: Mapped[str] = mapped_column(sa.String(120), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: "customer" or the staff member who took the answer on the phone
    decided_by: Mapped[str] = mapped_column(sa.String(120), default="")

    repair: Mapped[RepairOrder] = relationship(back_populates="quotes")
    lines: Mapped[list[RepairQuoteLine]] = relationship(
        back_populates="quote", order_by="RepairQuoteLine.id", cascade="all, delete-orphan"
    )


class RepairQuoteLine(db.Model):
    __tablename__ = "repair_quote_lines"
    __table_args__ = (
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint("unit_price_yen >= 0", name="price_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    quote_id: Mapped[int] = mapped_column(sa.ForeignKey("repair_quotes.id"), index=True)
    #: the price-list item it was taken from (None for a line written by hand)
    price_item_id: Mapped[int | None] = mapped_column(sa.ForeignKey("repair_price_items.id"))
    kind: Mapped[PriceItemKind] = mapped_column(enum_type(PriceItemKind))
    #: as the customer reads it, in the words of the quote's language at the time
    description: Mapped[str] = mapped_column(sa.String(200))
    quantity: Mapped[int] = mapped_column(default=1)
    unit_price_yen: Mapped[int]

    quote: Mapped[RepairQuote] = relationship(back_populates="lines")
    price_item: Mapped[PriceListItem | None] = relationship()

    @property
    def amount_yen(self) -> int:
        return self.quantity * self.unit_price_yen


class RepairWorkEntry(db.Model):
    """One entry of the work log: what was done, how long it took, which part was used."""

    __tablename__ = "repair_work_entries"
    __table_args__ = (
        sa.CheckConstraint("minutes >= 0", name="minutes_not_negative"),
        sa.CheckConstraint("quantity >= 0", name="quantity_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    repair_id: Mapped[int] = mapped_column(sa.ForeignKey("repair_orders.id"), index=True)
    note: Mapped[str] = mapped_column(sa.Text, default="")
    minutes: Mapped[int] = mapped_column(default=0)
    #: a part taken from stock for this repair
    price_item_id: Mapped[int | None] = mapped_column(sa.ForeignKey("repair_price_items.id"))
    quantity: Mapped[int] = mapped_column(default=0)
    created_by: Mapped[str] = mapped_column(sa.String(120), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    repair: Mapped[RepairOrder] = relationship(back_populates="work")
    price_item: Mapped[PriceListItem | None] = relationship()
