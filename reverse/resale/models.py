"""Resale items (graded units offered again), their price rules, reservations and history."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reverse.catalog.models import Location, Variant
from reverse.core.actors import ActorKind
from reverse.core.db import TimestampMixin, UTCDateTime, enum_type, utcnow
from reverse.customers.models import Customer
from reverse.extensions import db
from reverse.intake.constants import Disposition, Grade
from reverse.resale.constants import (
    ResaleEventKind,
    ResaleState,
    ReservationKind,
    ReservationState,
    SaleChannel,
)


class ResaleItem(TimestampMixin, db.Model):
    """One graded unit for sale as pre-owned: made when an inspection's disposition is resale
    (a draft) or refurbish (refurbishing first). `updated_at` moves on every change, which is
    what the feeds' "changed since" reads."""

    __tablename__ = "resale_items"
    __table_args__ = (
        sa.UniqueConstraint("unit_id"),
        sa.CheckConstraint("suggested_price_yen >= 0", name="suggested_price_not_negative"),
        sa.CheckConstraint("price_yen >= 0", name="price_not_negative"),
        sa.CheckConstraint("original_price_yen >= 0", name="original_price_not_negative"),
        sa.Index("ix_resale_items_updated_at", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the received unit it is (unit → receipt → case): where it came from
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("receipt_units.id"))
    variant_id: Mapped[int] = mapped_column(sa.ForeignKey("variants.id"), index=True)
    location_id: Mapped[int | None] = mapped_column(sa.ForeignKey("locations.id"), index=True)
    #: the shelf or bin it sits in at its location
    bin_code: Mapped[str] = mapped_column(sa.String(20), default="")
    grade: Mapped[Grade] = mapped_column(enum_type(Grade))
    #: resale, or refurbish (repaired before it is listed)
    source_disposition: Mapped[Disposition] = mapped_column(
        enum_type(Disposition), default=Disposition.RESALE
    )
    #: what the condition looks like, from the inspection (shown on the shop)
    condition_notes: Mapped[str] = mapped_column(sa.Text, default="")
    #: the list price new when it was graded
    original_price_yen: Mapped[int] = mapped_column(default=0)
    #: the original price × the grade rule, rounded (resale.pricing)
    suggested_price_yen: Mapped[int]
    price_yen: Mapped[int]
    #: why the price differs from the rule's (a manual price or a markdown); "" = the rule's
    price_reason: Mapped[str] = mapped_column(sa.String(500), default="")
    state: Mapped[ResaleState] = mapped_column(
        enum_type(ResaleState), default=ResaleState.DRAFT, index=True
    )
    listed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refurbished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_reason: Mapped[str] = mapped_column(sa.String(500), default="")
    sold_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sold_price_yen: Mapped[int | None]
    sold_channel: Mapped[SaleChannel | None] = mapped_column(enum_type(SaleChannel))
    sold_location_id: Mapped[int | None] = mapped_column(sa.ForeignKey("locations.id"))

    variant: Mapped[Variant] = relationship()
    location: Mapped[Location | None] = relationship(foreign_keys=[location_id])
    sold_location: Mapped[Location | None] = relationship(foreign_keys=[sold_location_id])

    @property
    def code(self) -> str:
        """The stable public id: on shelf tags, in the shop's addresses and in the feeds."""
        return format_item_code(self.id)

    @property
    def percent_off(self) -> int:
        """How much below the original price, rounded down so it never says more than it is."""
        return percent_below(self.price_yen, self.original_price_yen)


def percent_below(price_yen: int, original_yen: int) -> int:
    if original_yen <= 0 or not 0 < price_yen < original_yen:
        return 0
    return (original_yen - price_yen) * 100 // original_yen


def shop_url(code: str) -> str:
    """The item's public page, absolute (shelf-tag QR codes, feeds)."""
    from flask import current_app

    return f"{current_app.config['PUBLIC_BASE_URL']}/preowned/{code}"


def format_item_code(item_id: int) -> str:
    return f"PO{item_id:07d}"


def parse_item_code(value: str) -> int | None:
    """The id of "PO0000123" (any case, full-width digits already folded); None otherwise."""
    text = (value or "").strip().upper()
    if len(text) == 9 and text.startswith("PO") and text[2:].isdigit():
        return int(text[2:])
    return None


class ResalePriceRule(TimestampMixin, db.Model):
    """The price of a grade: a percentage of the original price, rounded down to a step.
    Admins edit them; a change prices new items and those re-priced by rule."""

    __tablename__ = "resale_price_rules"
    __table_args__ = (
        sa.UniqueConstraint("grade"),
        sa.CheckConstraint("percent >= 0 AND percent <= 100", name="percent_range"),
        sa.CheckConstraint("rounding IN (1, 10, 100)", name="rounding_step"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    grade: Mapped[Grade] = mapped_column(enum_type(Grade))
    percent: Mapped[int]
    rounding: Mapped[int] = mapped_column(default=10)
    updated_by_label: Mapped[str] = mapped_column(sa.String(120), default="")


class ResaleReservation(db.Model):
    """A customer's hold on one item: for pickup at a store, or an online purchase the web
    shop takes payment for. At most one open reservation per item (a partial unique index
    behind the conditional update that takes the item)."""

    __tablename__ = "resale_reservations"
    __table_args__ = (
        sa.UniqueConstraint("token_hash"),
        sa.Index(
            "uq_resale_reservations_open_item",
            "item_id",
            unique=True,
            postgresql_where=sa.text("state IN ('active', 'ready')"),
            sqlite_where=sa.text("state IN ('active', 'ready')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("resale_items.id"), index=True)
    kind: Mapped[ReservationKind] = mapped_column(enum_type(ReservationKind))
    state: Mapped[ReservationState] = mapped_column(
        enum_type(ReservationState), default=ReservationState.ACTIVE, index=True
    )
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id"), index=True)
    #: the store it is picked up at (pickup reservations)
    pickup_location_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("locations.id"), index=True
    )
    #: sha256 of the customer's private link token
    token_hash: Mapped[str] = mapped_column(sa.String(64))
    price_yen: Mapped[int]
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_reason: Mapped[str] = mapped_column(sa.String(500), default="")

    item: Mapped[ResaleItem] = relationship()
    customer: Mapped[Customer] = relationship()
    pickup_location: Mapped[Location | None] = relationship()

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @property
    def is_open(self) -> bool:
        return self.state in (ReservationState.ACTIVE, ReservationState.READY)


class ResaleEvent(db.Model):
    """One change to a resale item. Rows are only ever added."""

    __tablename__ = "resale_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("resale_items.id"), index=True)
    kind: Mapped[ResaleEventKind] = mapped_column(enum_type(ResaleEventKind))
    from_state: Mapped[ResaleState | None] = mapped_column(enum_type(ResaleState))
    to_state: Mapped[ResaleState | None] = mapped_column(enum_type(ResaleState))
    #: an English msgid, translated for each reader (interpolated with params)
    note: Mapped[str] = mapped_column(sa.Text, default="")
    params: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    actor_kind: Mapped[ActorKind] = mapped_column(enum_type(ActorKind))
    actor_label: Mapped[str] = mapped_column(sa.String(120), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
