"""The recovered-value report: sums, rates and days to sale worked out by hand on a small
known set of sales, grouped each way, within Tokyo dates, per location."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from reverse.catalog.constants import Category, ChannelCode, LocationKind
from reverse.core.actors import Actor
from reverse.core.dates import utc_bounds
from reverse.extensions import db
from reverse.intake.models import ReceiptUnit
from reverse.resale import operations as resale
from reverse.resale.constants import SaleChannel
from reverse.resale.models import ResaleItem
from reverse.resale.reports import (
    Dimension,
    ValueFilters,
    default_range,
    recovered_value,
)
from reverse.rmas.models import Rma

STAFF = Actor.system("test")
MARCH = (date(2026, 3, 1), date(2026, 3, 31))
RECEIVED = datetime(2026, 3, 1, 1, 0, tzinfo=UTC)  # 10:00 in Tokyo


def sell(
    item: ResaleItem,
    *,
    at: datetime,
    channel: SaleChannel = SaleChannel.STORE,
    location_id: int | None = None,
) -> None:
    resale.record_sale(item.id, channel=channel, actor=STAFF, location_id=location_id, now=at)
    db.session.commit()


def report(dimension: Dimension = Dimension.GRADE, location_id: int | None = None):
    filters = ValueFilters(*MARCH, dimension=dimension, location_id=location_id)
    return recovered_value(filters)


@pytest.fixture
def three_sales(ctx, make_item):
    """A (10,000 → 8,000 after 10 days), B (12,900 → 7,740 after 2), B (8,000 → 4,800 after 3)."""
    a = make_item("A", price_yen=10_000, listed=True, received_at=RECEIVED)
    b1 = make_item("B", price_yen=12_900, listed=True, received_at=RECEIVED)
    b2 = make_item("B", price_yen=8_000, listed=True, received_at=RECEIVED)
    sell(a, at=RECEIVED + timedelta(days=10))
    sell(b1, at=RECEIVED + timedelta(days=2))
    sell(b2, at=RECEIVED + timedelta(days=3))
    return a, b1, b2


@pytest.mark.databases
def test_grades_sum_their_sales_and_rate_recovery_from_the_sums(three_sales):
    result = report()

    a, b = result.rows
    assert (a.key, a.units_sold, a.original_yen, a.recovered_yen) == ("A", 1, 10_000, 8_000)
    assert a.recovery_rate == Decimal("80.0")
    assert (b.key, b.units_sold, b.original_yen, b.recovered_yen) == ("B", 2, 20_900, 12_540)
    assert b.recovery_rate == Decimal("60.0")
    totals = result.totals
    assert (totals.units_sold, totals.original_yen, totals.recovered_yen) == (3, 30_900, 20_540)
    assert totals.recovery_rate == Decimal("66.5")  # 66.47 %


@pytest.mark.databases
def test_days_to_sale_are_the_median_and_average_of_each_group(three_sales):
    result = report()

    a, b = result.rows
    assert (a.median_days, a.avg_days) == (10.0, 10.0)
    assert (b.median_days, b.avg_days) == (2.5, 2.5)
    # the median of 10, 2 and 3 days, not the median of the groups' medians
    assert result.totals.median_days == 3.0
    assert result.totals.avg_days == 5.0


def test_a_sale_outside_the_tokyo_dates_is_left_out(ctx, make_item):
    inside = make_item("A", price_yen=10_000, listed=True, received_at=RECEIVED)
    after = make_item("A", price_yen=20_000, listed=True, received_at=RECEIVED)
    before = make_item("A", price_yen=30_000, listed=True, received_at=RECEIVED)
    # 31 March 23:30 in Tokyo is inside; 1 April 00:30 in Tokyo is 31 March in UTC, outside
    sell(inside, at=datetime(2026, 3, 31, 14, 30, tzinfo=UTC))
    sell(after, at=datetime(2026, 3, 31, 15, 30, tzinfo=UTC))
    sell(before, at=datetime(2026, 2, 28, 14, 59, tzinfo=UTC))

    totals = report().totals

    assert (totals.units_sold, totals.original_yen, totals.recovered_yen) == (1, 10_000, 8_000)


def test_tokyo_days_start_at_midnight_in_tokyo():
    start, end = utc_bounds(date(2026, 3, 1), date(2026, 3, 31))
    assert start == datetime(2026, 2, 28, 15, 0, tzinfo=UTC)
    assert end == datetime(2026, 3, 31, 15, 0, tzinfo=UTC)
    assert default_range(date(2026, 3, 31)) == (date(2026, 1, 1), date(2026, 3, 31))


@pytest.mark.databases
def test_refurbished_items_are_their_own_disposition_group(ctx, make_item):
    plain = make_item("B", price_yen=10_000, listed=True, received_at=RECEIVED)
    repaired = make_item("C", price_yen=20_000, refurbish=True, received_at=RECEIVED)
    resale.mark_refurbished(repaired.id, "ファスナー交換", STAFF)
    resale.list_item(repaired.id, STAFF)
    db.session.commit()
    sell(plain, at=RECEIVED + timedelta(days=1))
    sell(repaired, at=RECEIVED + timedelta(days=20))

    rows = {row.key: row for row in report(Dimension.DISPOSITION).rows}

    assert set(rows) == {"resale", "refurbish"}
    assert (rows["resale"].recovered_yen, rows["resale"].recovery_rate) == (6_000, Decimal(60))
    assert (rows["refurbish"].recovered_yen, rows["refurbish"].recovery_rate) == (8_000, 40)
    assert rows["refurbish"].median_days == 20.0


def test_stock_still_to_sell_is_counted_per_group_at_its_asking_price(ctx, make_item):
    sold = make_item("B", price_yen=10_000, listed=True, received_at=RECEIVED)
    sell(sold, at=RECEIVED + timedelta(days=1))
    make_item("B", price_yen=12_900, listed=True)  # listed: 7,740
    make_item("B", price_yen=8_000)  # draft: 4,800
    make_item("D", refurbish=True, price_yen=10_000)  # being refurbished: 2,000
    withdrawn = make_item("C", price_yen=10_000, listed=True)
    resale.withdraw_item(withdrawn.id, "汚れが落ちない", STAFF)
    db.session.commit()

    result = report()

    rows = {row.key: row for row in result.rows}
    assert (rows["B"].units_sold, rows["B"].stock_units, rows["B"].stock_value_yen) == (
        1,
        2,
        12_540,
    )
    assert (rows["D"].units_sold, rows["D"].stock_units, rows["D"].stock_value_yen) == (0, 1, 2_000)
    assert "C" not in rows  # withdrawn: neither sold nor still to sell
    assert (result.totals.stock_units, result.totals.stock_value_yen) == (3, 14_540)


@pytest.mark.databases
def test_category_sku_and_both_channels_group_the_same_sales(ctx, make_item, create_channel):
    shoes = make_item(
        "A", price_yen=10_000, category=Category.SHOES, listed=True, received_at=RECEIVED
    )
    shirt = make_item("B", price_yen=12_900, listed=True, received_at=RECEIVED)
    # the shoes were bought at a department store counter
    counter = create_channel(ChannelCode.DEPARTMENT_STORE)
    rma_id = db.session.scalar(sa.select(ReceiptUnit.rma_id).where(ReceiptUnit.id == shoes.unit_id))
    db.session.execute(sa.update(Rma).where(Rma.id == rma_id).values(channel_id=counter.id))
    db.session.commit()
    sell(shoes, at=RECEIVED + timedelta(days=1), channel=SaleChannel.WEB_SHOP)
    sell(shirt, at=RECEIVED + timedelta(days=1), channel=SaleChannel.STORE)

    by_category = {r.key: r.recovered_yen for r in report(Dimension.CATEGORY).rows}
    by_channel = {r.key: r.recovered_yen for r in report(Dimension.CHANNEL).rows}
    by_sale = {r.key: r.recovered_yen for r in report(Dimension.SALE_CHANNEL).rows}
    by_sku = report(Dimension.SKU).rows

    assert by_category == {"shoes": 8_000, "tops": 7_740}
    assert by_channel == {"department_store": 8_000, "web": 7_740}
    assert by_sale == {"web_shop": 8_000, "store": 7_740}
    assert [r.recovered_yen for r in by_sku] == [8_000, 7_740]  # most recovered first
    assert by_sku[0].key == db.session.get(ResaleItem, shoes.id).variant.sku
    assert by_sku[0].name_ja.startswith("シャツ")


def test_a_sale_channel_report_shows_unsold_stock_as_its_own_group(ctx, make_item):
    sold = make_item("B", price_yen=10_000, listed=True, received_at=RECEIVED)
    sell(sold, at=RECEIVED + timedelta(days=1), channel=SaleChannel.RESALE_CHANNEL)
    make_item("B", price_yen=10_000, listed=True)

    rows = report(Dimension.SALE_CHANNEL).rows

    assert [(r.key, r.units_sold, r.stock_units) for r in rows] == [
        ("resale_channel", 1, 0),
        (None, 0, 1),
    ]


def test_a_location_keeps_the_sales_made_there(ctx, make_item, create_location):
    shibuya = create_location(LocationKind.STORE)
    umeda = create_location(LocationKind.STORE)
    here = make_item("A", price_yen=10_000, listed=True, received_at=RECEIVED)
    there = make_item("B", price_yen=12_900, listed=True, received_at=RECEIVED)
    sell(here, at=RECEIVED + timedelta(days=1), location_id=shibuya.id)
    sell(there, at=RECEIVED + timedelta(days=1), location_id=umeda.id)

    totals = report(location_id=shibuya.id).totals

    assert (totals.units_sold, totals.recovered_yen) == (1, 8_000)


def test_nothing_sold_gives_an_empty_report(ctx):
    result = report()
    assert result.empty
    assert result.totals.recovery_rate is None
    assert result.totals.median_days is None
