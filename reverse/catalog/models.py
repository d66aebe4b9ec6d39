"""Channels (where things are bought), locations (where things are handled), products."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reverse.catalog.constants import Category, ChannelCode, LocationKind, WindowStart
from reverse.core.db import TimestampMixin, enum_type
from reverse.extensions import db
from reverse.resolution.constants import RefundRelease


class Channel(TimestampMixin, db.Model):
    __tablename__ = "channels"
    __table_args__ = (
        sa.CheckConstraint("return_window_days >= 0", name="window_not_negative"),
        sa.CheckConstraint(
            "store_credit_bonus_percent BETWEEN 0 AND 100", name="bonus_percent_in_range"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: one of ChannelCode; the policy defaults of that channel
    code: Mapped[ChannelCode] = mapped_column(enum_type(ChannelCode), unique=True)
    name_ja: Mapped[str] = mapped_column(sa.String(100))
    name_en: Mapped[str] = mapped_column(sa.String(100))
    #: days a customer has to start a return or exchange
    return_window_days: Mapped[int] = mapped_column(default=30)
    #: whether the window counts from delivery or from purchase
    window_starts: Mapped[WindowStart] = mapped_column(
        enum_type(WindowStart), default=WindowStart.DELIVERY
    )
    #: request types customers of this channel may file, e.g. ["return", "exchange", "repair"]
    allowed_types: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    #: a receipt or warranty card is needed because the purchase is not known to Reverse
    proof_required: Mapped[bool] = mapped_column(default=False)
    #: when a refund goes to the payment system: at carrier scan, at receipt, after inspection
    refund_release: Mapped[RefundRelease] = mapped_column(
        enum_type(RefundRelease), default=RefundRelease.INSPECTION
    )
    #: extra store credit offered instead of a refund, percent of the refund
    store_credit_bonus_percent: Mapped[int] = mapped_column(default=0)

    def name(self, locale: str) -> str:
        return self.name_ja if locale == "ja" else self.name_en


class Location(TimestampMixin, db.Model):
    __tablename__ = "locations"
    __table_args__ = (sa.CheckConstraint("length(postal_code) = 8", name="postal_code_length"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: short code printed on labels and used in URLs ("TKY-SHIBUYA")
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    kind: Mapped[LocationKind] = mapped_column(enum_type(LocationKind), index=True)
    name_ja: Mapped[str] = mapped_column(sa.String(120))
    name_en: Mapped[str] = mapped_column(sa.String(120))
    #: the department store hosting a counter ("伊勢丹新宿店"); empty for own sites
    retailer: Mapped[str] = mapped_column(sa.String(120), default="")
    #: 〒 as "123-4567"
    postal_code: Mapped[str] = mapped_column(sa.String(8))
    prefecture: Mapped[str] = mapped_column(sa.String(8))
    city: Mapped[str] = mapped_column(sa.String(80))
    #: town, chōme and block ("神南1-2-3")
    street: Mapped[str] = mapped_column(sa.String(120))
    building: Mapped[str] = mapped_column(sa.String(120), default="")
    phone: Mapped[str] = mapped_column(sa.String(20), default="")
    active: Mapped[bool] = mapped_column(default=True)

    def name(self, locale: str) -> str:
        return self.name_ja if locale == "ja" else self.name_en

    @property
    def address_lines(self) -> list[str]:
        lines = [f"〒{self.postal_code}", f"{self.prefecture}{self.city}{self.street}"]
        if self.building:
            lines.append(self.building)
        return lines


class Product(TimestampMixin, db.Model):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the style number shared by all sizes and colours
    style_code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name_ja: Mapped[str] = mapped_column(sa.String(200))
    name_en: Mapped[str] = mapped_column(sa.String(200))
    category: Mapped[Category] = mapped_column(enum_type(Category), index=True)
    #: may be returned or exchanged at all (false for final-sale lines, underwear, …)
    returnable: Mapped[bool] = mapped_column(default=True)
    repairable: Mapped[bool] = mapped_column(default=False)

    variants: Mapped[list[Variant]] = relationship(
        back_populates="product", order_by="Variant.id", cascade="all, delete-orphan"
    )

    def name(self, locale: str) -> str:
        return self.name_ja if locale == "ja" else self.name_en


def item_label(name: str, colour: str, size: str) -> str:
    """An item as screens and slips name it: "name / colour / size", leaving out blanks."""
    return " / ".join(p for p in (name, colour, size) if p)


class Variant(TimestampMixin, db.Model):
    __tablename__ = "variants"
    __table_args__ = (
        sa.CheckConstraint("price_yen >= 0", name="price_not_negative"),
        sa.CheckConstraint("length(jan) = 13", name="jan_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id"), index=True)
    sku: Mapped[str] = mapped_column(sa.String(40), unique=True)
    #: JAN / EAN-13 printed on the tag
    jan: Mapped[str] = mapped_column(sa.String(13), unique=True)
    size: Mapped[str] = mapped_column(sa.String(20), default="")
    colour_ja: Mapped[str] = mapped_column(sa.String(40), default="")
    colour_en: Mapped[str] = mapped_column(sa.String(40), default="")
    #: list price in yen, tax included
    price_yen: Mapped[int]

    product: Mapped[Product] = relationship(back_populates="variants")

    def colour(self, locale: str) -> str:
        return self.colour_ja if locale == "ja" else self.colour_en

    def label(self, locale: str) -> str:
        return item_label(self.product.name(locale), self.colour(locale), self.size)


class StockLevel(db.Model):
    """Sellable units of a variant at a location: what an exchange can be promised from."""

    __tablename__ = "stock_levels"
    __table_args__ = (
        sa.UniqueConstraint("variant_id", "location_id"),
        sa.CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
        sa.CheckConstraint("reserved >= 0 AND reserved <= on_hand", name="reserved_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    variant_id: Mapped[int] = mapped_column(sa.ForeignKey("variants.id"), index=True)
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("locations.id"), index=True)
    on_hand: Mapped[int] = mapped_column(default=0)
    #: promised to exchanges and not yet shipped
    reserved: Mapped[int] = mapped_column(default=0)

    variant: Mapped[Variant] = relationship()
    location: Mapped[Location] = relationship()

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved
