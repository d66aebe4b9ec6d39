"""Recovered value: what resold units brought back against their original price, by one
dimension, and what is still to sell.

Sums and counts are computed by the database (plain GROUP BY, the same SQL on SQLite and
PostgreSQL). Days from receipt to sale are differences of two timestamps, which the two
databases compute differently, so the report reads one (group, received_at, sold_at) row per
sold item of the range and takes the average and the median in Python — fine for the few
thousand items a range holds.
"""

from __future__ import annotations

import enum
import statistics
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from reverse.catalog.constants import Category, ChannelCode
from reverse.catalog.models import Channel, Product, Variant
from reverse.core.dates import utc_bounds
from reverse.extensions import db
from reverse.intake.constants import Disposition, Grade
from reverse.intake.models import Receipt, ReceiptUnit
from reverse.resale.constants import ResaleState, SaleChannel
from reverse.resale.models import ResaleItem
from reverse.rmas.models import Rma

#: the range shown when none is asked for: the last 90 days, today included
DEFAULT_DAYS = 90
#: the longest range the report reads (its per-item rows are held in memory)
MAX_RANGE_DAYS = 3 * 366
#: items not sold yet: the stock side of the report
UNSOLD_STATES = (
    ResaleState.LISTED,
    ResaleState.RESERVED,
    ResaleState.DRAFT,
    ResaleState.REFURBISHING,
)


class Dimension(enum.StrEnum):
    GRADE = "grade"
    DISPOSITION = "disposition"
    SKU = "sku"
    CATEGORY = "category"
    #: the channel the original purchase came from (the returned case's channel)
    CHANNEL = "channel"
    #: where the pre-owned item was sold again (store, web shop, another resale channel)
    SALE_CHANNEL = "sale_channel"


DIMENSION_LABELS = {
    Dimension.GRADE: _l("Grade"),
    Dimension.DISPOSITION: _l("Disposition"),
    Dimension.SKU: _l("SKU"),
    Dimension.CATEGORY: _l("Category"),
    Dimension.CHANNEL: _l("Original purchase channel"),
    Dimension.SALE_CHANNEL: _l("Resale channel"),
}

#: the group expression of each dimension (over the joins of `_base`)
_KEYS: dict[Dimension, Any] = {
    Dimension.GRADE: ResaleItem.grade,
    Dimension.DISPOSITION: ResaleItem.source_disposition,
    Dimension.SKU: Variant.sku,
    Dimension.CATEGORY: Product.category,
    Dimension.CHANNEL: Channel.code,
    Dimension.SALE_CHANNEL: ResaleItem.sold_channel,
}

#: the order of the groups of enumerated dimensions (SKUs are ordered by what they recovered)
_ORDER: dict[Dimension, list[str]] = {
    Dimension.GRADE: [g.value for g in Grade],
    Dimension.DISPOSITION: [Disposition.RESALE.value, Disposition.REFURBISH.value],
    Dimension.CATEGORY: [c.value for c in Category],
    Dimension.CHANNEL: [c.value for c in ChannelCode],
    Dimension.SALE_CHANNEL: [c.value for c in SaleChannel],
}


@dataclass(frozen=True)
class ValueFilters:
    """Sales of Tokyo calendar days `date_from` … `date_to` (both included), grouped by
    `dimension`; `location_id` keeps the sales made there (and the stock kept there)."""

    date_from: date
    date_to: date
    dimension: Dimension = Dimension.GRADE
    location_id: int | None = None


@dataclass
class ValueRow:
    """One group (or the totals, `key` None there): sold in the range, and still to sell."""

    #: the group's value ("B", "refurbish", "T-1-M", "tops", "web", "store"); None = no group
    key: str | None
    units_sold: int = 0
    original_yen: int = 0
    recovered_yen: int = 0
    avg_days: float | None = None
    median_days: float | None = None
    #: items listed, reserved, draft or being refurbished, and their asking prices
    stock_units: int = 0
    stock_value_yen: int = 0
    #: the product of a SKU group, for its label
    name_ja: str = ""
    name_en: str = ""
    days: list[float] = field(default_factory=list, repr=False)

    @property
    def recovery_rate(self) -> Decimal | None:
        """Recovered ÷ original, in percent with one decimal, from the group's sums."""
        return recovery_rate(self.recovered_yen, self.original_yen)

    def name(self, locale: str) -> str:
        return self.name_ja if locale == "ja" else self.name_en


@dataclass
class ValueReport:
    filters: ValueFilters
    rows: list[ValueRow]
    totals: ValueRow

    @property
    def empty(self) -> bool:
        return not self.rows


def recovery_rate(recovered: int, original: int) -> Decimal | None:
    if original <= 0:
        return None
    rate = Decimal(recovered) * 100 / Decimal(original)
    return rate.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def default_range(today: date) -> tuple[date, date]:
    return today - timedelta(days=DEFAULT_DAYS - 1), today


def _base(*columns: Any) -> sa.Select[Any]:
    """The item with its variant, product, received unit, receipt, case and the case's
    channel: every foreign key on the way is required, so inner joins keep every item."""
    return (
        sa.select(*columns)
        .select_from(ResaleItem)
        .join(Variant, Variant.id == ResaleItem.variant_id)
        .join(Product, Product.id == Variant.product_id)
        .join(ReceiptUnit, ReceiptUnit.id == ResaleItem.unit_id)
        .join(Receipt, Receipt.id == ReceiptUnit.receipt_id)
        .join(Rma, Rma.id == ReceiptUnit.rma_id)
        .join(Channel, Channel.id == Rma.channel_id)
    )


def _value(key: Any) -> str | None:
    return None if key is None else str(getattr(key, "value", key))


def recovered_value(filters: ValueFilters) -> ValueReport:
    """The report: three queries (sums of the sales, days of each sale, the stock)."""
    key_col = _KEYS[filters.dimension]
    start, end = utc_bounds(filters.date_from, filters.date_to)
    sold = [
        ResaleItem.state == ResaleState.SOLD,
        ResaleItem.sold_at >= start,
        ResaleItem.sold_at < end,
    ]
    in_stock = [ResaleItem.state.in_(list(UNSOLD_STATES))]
    if filters.location_id is not None:
        sold.append(ResaleItem.sold_location_id == filters.location_id)
        in_stock.append(ResaleItem.location_id == filters.location_id)

    rows: dict[str | None, ValueRow] = {}

    def row(key: Any) -> ValueRow:
        value = _value(key)
        if value not in rows:
            rows[value] = ValueRow(key=value)
        return rows[value]

    sums = _base(
        key_col,
        sa.func.count(ResaleItem.id),
        sa.func.coalesce(sa.func.sum(ResaleItem.original_price_yen), 0),
        sa.func.coalesce(sa.func.sum(ResaleItem.sold_price_yen), 0),
    )
    for key, units, original, recovered in db.session.execute(sums.where(*sold).group_by(key_col)):
        group = row(key)
        group.units_sold, group.original_yen, group.recovered_yen = (
            int(units),
            int(original),
            int(recovered),
        )

    for key, received_at, sold_at in db.session.execute(
        _base(key_col, Receipt.received_at, ResaleItem.sold_at).where(*sold)
    ):
        row(key).days.append((sold_at - received_at).total_seconds() / 86_400)

    stock = _base(
        key_col,
        sa.func.count(ResaleItem.id),
        sa.func.coalesce(sa.func.sum(ResaleItem.price_yen), 0),
    )
    for key, units, value in db.session.execute(stock.where(*in_stock).group_by(key_col)):
        group = row(key)
        group.stock_units, group.stock_value_yen = int(units), int(value)

    if filters.dimension == Dimension.SKU and rows:
        _name_skus(rows)
    ordered = _ordered(filters.dimension, list(rows.values()))
    totals = ValueRow(key=None)
    for group in ordered:
        _days(group)
        totals.units_sold += group.units_sold
        totals.original_yen += group.original_yen
        totals.recovered_yen += group.recovered_yen
        totals.stock_units += group.stock_units
        totals.stock_value_yen += group.stock_value_yen
        totals.days.extend(group.days)
    _days(totals)
    return ValueReport(filters=filters, rows=ordered, totals=totals)


def _days(group: ValueRow) -> None:
    if group.days:
        group.avg_days = sum(group.days) / len(group.days)
        group.median_days = float(statistics.median(group.days))


def _name_skus(rows: dict[str | None, ValueRow]) -> None:
    skus = [key for key in rows if key is not None]
    names = db.session.execute(
        sa.select(Variant.sku, Product.name_ja, Product.name_en, Variant.size)
        .join(Product, Product.id == Variant.product_id)
        .where(Variant.sku.in_(skus))
    )
    for sku, name_ja, name_en, size in names:
        rows[sku].name_ja = " / ".join(p for p in (name_ja, size) if p)
        rows[sku].name_en = " / ".join(p for p in (name_en, size) if p)


def _ordered(dimension: Dimension, groups: list[ValueRow]) -> list[ValueRow]:
    """Enumerated groups in their own order, SKUs by what they recovered; a group without a
    key (the stock of a sale-channel report: not sold anywhere yet) comes last."""
    if dimension in _ORDER:
        order = {value: n for n, value in enumerate(_ORDER[dimension])}
        return sorted(groups, key=lambda g: (g.key is None, order.get(g.key or "", len(order))))
    return sorted(groups, key=lambda g: (g.key is None, -g.recovered_yen, g.key or ""))
