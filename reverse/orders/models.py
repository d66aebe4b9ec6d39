"""Purchases known to Reverse, pushed by a channel (web shop, POS) or imported."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reverse.catalog.models import Channel, Location, Variant
from reverse.core.db import TimestampMixin, UTCDateTime
from reverse.customers.models import Customer
from reverse.extensions import db


class Order(TimestampMixin, db.Model):
    __tablename__ = "orders"
    __table_args__ = (sa.UniqueConstraint("channel_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(sa.ForeignKey("channels.id"), index=True)
    #: the order or receipt number as the channel prints it
    number: Mapped[str] = mapped_column(sa.String(40))
    customer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("customers.id"), index=True)
    #: the store or counter for in-person sales
    location_id: Mapped[int | None] = mapped_column(sa.ForeignKey("locations.id"))
    ordered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: when the parcel reached the customer; None for in-person sales and undelivered orders
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    channel: Mapped[Channel] = relationship()
    customer: Mapped[Customer | None] = relationship()
    location: Mapped[Location | None] = relationship()
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", order_by="OrderLine.id", cascade="all, delete-orphan"
    )

    @property
    def total_yen(self) -> int:
        return sum(line.paid_yen for line in self.lines)


class OrderLine(db.Model):
    __tablename__ = "order_lines"
    __table_args__ = (
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint("unit_price_yen >= 0", name="price_not_negative"),
        sa.CheckConstraint(
            "discount_yen >= 0 AND discount_yen <= unit_price_yen * quantity",
            name="discount_in_range",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id"), index=True)
    variant_id: Mapped[int] = mapped_column(sa.ForeignKey("variants.id"), index=True)
    quantity: Mapped[int] = mapped_column(default=1)
    #: price per unit, yen, tax included
    unit_price_yen: Mapped[int]
    #: discount on the whole line, yen
    discount_yen: Mapped[int] = mapped_column(default=0)
    #: sold as final sale: not returnable whatever the channel says
    final_sale: Mapped[bool] = mapped_column(default=False)

    order: Mapped[Order] = relationship(back_populates="lines")
    variant: Mapped[Variant] = relationship()

    @property
    def paid_yen(self) -> int:
        return self.unit_price_yen * self.quantity - self.discount_yen
