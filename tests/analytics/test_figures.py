"""The dashboard's figures against the hand-computed values of the known data set (see
conftest.py), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from reverse.analytics import queries as q
from reverse.analytics.refresh import latest_refresh, refresh_summaries
from reverse.extensions import db
from reverse.warehouse_queues import QueueName
from tests.analytics.conftest import AS_OF

MARCH = q.Filters(date(2026, 3, 1), date(2026, 3, 31))
D = Decimal

pytestmark = pytest.mark.databases


def rates(report: q.RateReport) -> dict[str | None, tuple[int, int, Decimal | None]]:
    return {row.key: (row.returned, row.sold, row.rate) for row in report.rows}


def test_return_rate_is_units_returned_over_units_sold_in_the_range(backend, known):
    totals = q.return_rates(MARCH, q.Group.CATEGORY).totals
    # R1 2 + R2 1 + R3 1 + R4 1 = 5 of 10 sold; R5 was filed on April 1st in Japan
    assert (totals.returned, totals.cases, totals.sold, totals.rate) == (5, 4, 10, D("50.0"))


def test_rates_by_product_category_and_channel(backend, known):
    by_product = rates(q.return_rates(MARCH, q.Group.PRODUCT))
    assert by_product[str(known.a_product_id)] == (4, 9, D("44.4"))
    assert by_product[str(known.b_product_id)] == (1, 1, D("100.0"))
    assert rates(q.return_rates(MARCH, q.Group.CATEGORY)) == {
        "tops": (4, 9, D("44.4")),
        "shoes": (1, 1, D("100.0")),
    }
    assert rates(q.return_rates(MARCH, q.Group.CHANNEL)) == {
        "web": (4, 5, D("80.0")),
        "department_store": (1, 5, D("20.0")),
    }


def test_a_reason_is_rated_against_every_unit_sold(backend, known):
    report = q.return_rates(MARCH, q.Group.REASON)
    assert report.shared_denominator
    assert rates(report) == {
        "size_too_small": (3, 10, D("30.0")),
        "size_too_large": (1, 10, D("10.0")),
        "defective": (1, 10, D("10.0")),
    }


def test_a_retailer_without_sales_figures_has_an_unknown_rate(backend, known):
    assert rates(q.return_rates(MARCH, q.Group.RETAILER)) == {
        "": (4, 5, D("80.0")),
        "髙島屋日本橋店": (1, 0, None),  # declared purchase, no sales CSV of that store
        "伊勢丹新宿店": (0, 5, D("0.0")),
    }


def test_filters_by_channel_and_location(backend, known):
    web = q.Filters(MARCH.date_from, MARCH.date_to, channel="web")
    totals = q.return_rates(web, q.Group.CHANNEL).totals
    assert (totals.returned, totals.sold) == (4, 5)
    at_counter = q.Filters(MARCH.date_from, MARCH.date_to, location_id=known.counter.id)
    totals = q.return_rates(at_counter, q.Group.CHANNEL).totals
    # sold there: 5; the case declared elsewhere is handled by no location of ours
    assert (totals.returned, totals.sold, totals.rate) == (0, 5, D("0.0"))


def test_trend_buckets_by_week(backend, known):
    points, monthly = q.trend(MARCH)
    assert not monthly
    assert points[0].start == date(2026, 2, 23)  # the Monday of March 1st's week
    by_week = {p.start: (p.returned, p.sold) for p in points}
    assert by_week[date(2026, 3, 2)] == (2, 10)  # R1; all ten sold on the 2nd, 3rd, 4th
    assert sum(p.returned for p in points) == 5


def test_cycle_time_percentiles_in_hours(backend, known):
    rows = {row.stage: row for row in q.cycle_times(MARCH)}
    # submitted → received: 48, 96, 48 hours → p50 48, p75 72, p90 48 + 0.8 × 48 = 86.4
    receive = rows[q.Stage.TO_RECEIVE]
    assert receive.count == 3
    assert [round(receive.hours[p], 6) for p in q.PERCENTILES] == [48, 72, 86.4]
    # received → inspected: 12, 24, 60 → p50 24, p90 24 + 0.8 × 36 = 52.8
    inspect = rows[q.Stage.TO_INSPECT]
    assert (round(inspect.hours[0.5], 6), round(inspect.hours[0.9], 6)) == (24, 52.8)
    # submitted → resolved: 72, 192, 114 → p50 114
    assert round(rows[q.Stage.TOTAL].hours[0.5], 6) == 114


def test_sla_breaches_count_late_finishes_and_late_waits(backend, known, app):
    rows = {row.queue: row for row in q.sla_breaches(MARCH, app.config, AS_OF)}
    receipt = rows[QueueName.RECEIPT]
    # 47, 96, 48 hours are within 14 days; R4 waits since March 25th: 36 days on April 30th
    assert (receipt.entered, receipt.breached, receipt.still_open, receipt.rate) == (
        4,
        1,
        1,
        D("25.0"),
    )
    inspection = rows[QueueName.INSPECTION]  # 12, 24, 60 hours against 48
    assert (inspection.entered, inspection.breached, inspection.rate) == (3, 1, D("33.3"))
    decision = rows[QueueName.DECISION]  # 12, 72, 6 hours against 24
    assert (decision.entered, decision.breached, decision.rate) == (3, 1, D("33.3"))


def test_outcome_mix_and_revenue_kept(backend, known):
    report = q.outcomes(MARCH)
    by = {row.resolution: row for row in report.rows}
    assert (by["refund"].cases, by["refund"].value_yen, by["refund"].refund_yen) == (
        1,
        20_000,
        20_000,
    )
    assert (by["exchange"].cases, by["exchange"].value_yen) == (1, 20_000)  # list price
    assert (by["store_credit"].cases, by["store_credit"].value_yen) == (1, 9_000)  # declared
    assert by["rejected"].cases == 0
    assert (report.decided, report.open_cases) == (3, 1)
    assert report.share(by["refund"]) == D("33.3")
    # kept: exchange 20,000 + credit 9,000 of 49,000 settled
    assert (report.kept_yen, report.kept_rate) == (29_000, D("59.2"))


def test_most_returned_skus_with_their_top_reasons(backend, known):
    top = q.top_skus(MARCH)
    assert [(row.variant_id, row.returned, row.cases) for row in top] == [
        (known.a_id, 4, 3),
        (known.b_id, 1, 1),
    ]
    assert top[0].reasons == [("size_too_small", 3), ("defective", 1)]


def test_a_refresh_replaces_the_figures_and_is_logged(backend, known):
    first = latest_refresh()
    assert (first.as_of, first.cases, first.lines) == (AS_OF, 5, 5)
    later = AS_OF + timedelta(hours=1)
    refresh_summaries(now=later)
    db.session.commit()
    assert latest_refresh().as_of == later
    assert q.return_rates(MARCH, q.Group.REASON).totals.returned == 5  # not counted twice


def test_nothing_in_range_gives_empty_figures_not_errors(backend, known):
    empty = q.Filters(date(2025, 1, 1), date(2025, 1, 31))
    assert q.return_rates(empty, q.Group.PRODUCT).totals.rate is None
    assert all(row.count == 0 and row.hours[0.5] is None for row in q.cycle_times(empty))
    assert q.outcomes(empty).kept_rate is None
    assert q.top_skus(empty) == []


def test_recovered_value_is_the_resale_report(backend, ctx, make_item):
    from reverse.core.actors import Actor
    from reverse.resale import operations as resale
    from reverse.resale.constants import SaleChannel

    sold_at = datetime(2026, 3, 10, 3, tzinfo=AS_OF.tzinfo)
    for grade, price in (("A", 10_000), ("B", 12_900)):
        item = make_item(
            grade, price_yen=price, listed=True, received_at=sold_at - timedelta(days=5)
        )
        resale.record_sale(item.id, channel=SaleChannel.STORE, actor=Actor.system("t"), now=sold_at)
    db.session.commit()
    by_grade = q.recovered(MARCH, q.Dimension.GRADE)
    # A sells at 80 % of 10,000 and B at 60 % of 12,900 (the default price rules)
    assert [(r.key, r.units_sold, r.original_yen, r.recovered_yen) for r in by_grade.rows] == [
        ("A", 1, 10_000, 8_000),
        ("B", 1, 12_900, 7_740),
    ]
    assert by_grade.totals.recovery_rate == D("68.7")  # 15,740 / 22,900 = 0.6873
    by_disposition = q.recovered(MARCH, q.Dimension.DISPOSITION)
    assert by_disposition.totals.recovered_yen == 15_740


def test_product_rates_over_whole_months_and_loose_days_add_up(backend, known):
    # February 15th – April 10th: March from the monthly rows, the edges from the daily ones;
    # April adds A × 7 sold (April 2nd) and B × 1 returned (R5, April 1st in Japan)
    spread = q.Filters(date(2026, 2, 15), date(2026, 4, 10))
    assert rates(q.return_rates(spread, q.Group.PRODUCT)) == {
        str(known.a_product_id): (4, 16, D("25.0")),
        str(known.b_product_id): (2, 1, D("200.0")),
    }
    totals = q.return_rates(spread, q.Group.PRODUCT).totals
    assert (totals.returned, totals.sold) == (6, 17)
