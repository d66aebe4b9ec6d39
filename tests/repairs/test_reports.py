"""Repair reports against hand-computed values: percentiles, turnaround per kind (median, 90th
percentile, on-time share, quote approval rate, average cost), what is overdue where; and ten
colleagues scanning one item at the same moment."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from reverse.auth.constants import Role
from reverse.catalog.constants import LocationKind
from reverse.extensions import db
from reverse.repairs.constants import Handback, QuoteState, RepairKind
from reverse.repairs.models import RepairOrder, RepairQuote
from reverse.repairs.reports import (
    Tab,
    TurnaroundFilters,
    days_overdue,
    overdue_by_place,
    overdue_repairs,
    percentile,
    share,
    tab_counts,
    turnaround_rows,
)
from reverse.rmas.constants import RmaStatus, RmaType
from reverse.rmas.models import Rma

S = RmaStatus
MARCH = TurnaroundFilters(date(2026, 3, 1), date(2026, 3, 31))


def utc(day: int, hour: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


# -- percentiles -------------------------------------------------------------------------------


def test_percentiles_interpolate_between_the_nearest_ranks():
    days = [10, 1, 4, 2, 3]
    assert percentile(days, 0.5) == 3
    assert percentile(days, 0.9) == pytest.approx(7.6)  # 4 + 0.6 × (10 − 4)
    assert percentile(days, 0.0) == 1
    assert percentile(days, 1.0) == 10
    assert percentile([1, 2, 3, 4], 0.5) == 2.5
    assert percentile([7], 0.9) == 7
    assert percentile([], 0.5) is None


def test_shares_are_percent_with_one_decimal():
    assert share(2, 3) == Decimal("66.7")
    assert share(1, 8) == Decimal("12.5")
    assert share(0, 0) is None


# -- turnaround --------------------------------------------------------------------------------


@pytest.fixture
def repair_at(ctx, create_rma):
    """`repair_at(store, kind, received, handed_back, promised, due, quotes)`: a closed repair
    case with a repair order of known dates and quotes (states in the order they were made)."""

    def make(
        store,
        kind,
        received,
        handed_back,
        promised=None,
        due=0,
        quotes=(),
    ) -> RepairOrder:
        rma = create_rma(RmaType.REPAIR, S.CLOSED, location=store)
        repair = RepairOrder(
            rma_id=rma.id,
            intake_location_id=store.id,
            handback=Handback.STORE_PICKUP,
            pickup_location_id=store.id,
            kind=kind,
            received_at=received,
            handed_back_at=handed_back,
            promised_on=promised,
            amount_due_yen=due,
        )
        db.session.add(repair)
        db.session.flush()
        for number, state in enumerate(quotes, start=1):
            db.session.add(
                RepairQuote(repair_id=repair.id, number=number, state=state, total_yen=due)
            )
        db.session.commit()
        return repair

    return make


@pytest.fixture
def march(create_location, repair_at):
    """Eight repairs handed back in March 2026 (Japan time) and three just outside it.

    stitching  days  promised  on time  quotes               due
      a         2    03-03     yes      approved             3,300
      b         4    03-04     no       superseded, declined 1,100
      c        10    03-11     no (handed back 03-12 01:00 in Japan)
      d         1    —         —        (warranty)           0
      e         3    03-10     yes      approved             5,500
    zip
      f         7    03-08     yes      superseded, approved 4,400
      g         1.5  03-05     yes      declined             1,100
    not diagnosed (another store)
      h         1    —         —
    """
    store, other = create_location(LocationKind.STORE), create_location(LocationKind.STORE)
    A, D, SUP = QuoteState.APPROVED, QuoteState.DECLINED, QuoteState.SUPERSEDED
    st, zp = RepairKind.STITCHING, RepairKind.ZIP
    repair_at(store, st, utc(1), utc(3), date(2026, 3, 3), 3300, [A])
    repair_at(store, st, utc(1), utc(5), date(2026, 3, 4), 1100, [SUP, D])
    repair_at(store, st, utc(1, 16), utc(11, 16), date(2026, 3, 11))
    repair_at(store, st, utc(2), utc(3))
    repair_at(store, st, utc(1), utc(4), date(2026, 3, 10), 5500, [A])
    repair_at(store, zp, utc(1), utc(8), date(2026, 3, 8), 4400, [SUP, A])
    repair_at(store, zp, utc(1), utc(2, 12), date(2026, 3, 5), 1100, [D])
    repair_at(other, None, utc(1), utc(2))
    # outside the range: 28 Feb 23:59 and 1 Apr 00:00 in Japan, and April
    repair_at(store, st, utc(20, month=2), datetime(2026, 2, 28, 14, 59, tzinfo=UTC))
    repair_at(store, st, utc(20), datetime(2026, 3, 31, 15, 0, tzinfo=UTC))
    repair_at(store, zp, utc(20), utc(2, month=4), None, 9900, [A])
    return store, other


@pytest.mark.databases
def test_turnaround_per_kind_matches_the_hand_computed_figures(march):
    rows, totals = turnaround_rows(MARCH)

    assert [row.kind for row in rows] == [RepairKind.STITCHING, RepairKind.ZIP, None]
    stitching, zips, undiagnosed = rows

    assert stitching.count == 5
    assert stitching.median_days == pytest.approx(3)  # 1, 2, 3, 4, 10
    assert stitching.p90_days == pytest.approx(7.6)
    assert (stitching.on_time, stitching.promised) == (2, 4)
    assert stitching.on_time_share == Decimal("50.0")
    assert (stitching.quotes_approved, stitching.quotes_declined) == (2, 1)
    assert stitching.approval_rate == Decimal("66.7")
    assert stitching.average_cost_yen == 4400  # (3,300 + 5,500) / 2

    assert zips.count == 2
    assert zips.median_days == pytest.approx(4.25)  # 1.5, 7
    assert zips.p90_days == pytest.approx(6.45)  # 1.5 + 0.9 × 5.5
    assert zips.on_time_share == Decimal("100.0")
    assert zips.approval_rate == Decimal("50.0")
    assert zips.average_cost_yen == 4400

    assert undiagnosed.count == 1
    assert undiagnosed.on_time_share is None
    assert undiagnosed.approval_rate is None
    assert undiagnosed.average_cost_yen is None

    assert totals.count == 8
    assert totals.median_days == pytest.approx(2.5)  # 1, 1, 1.5, 2 | 3, 4, 7, 10
    assert totals.p90_days == pytest.approx(7.9)  # 7 + 0.3 × 3
    assert totals.on_time_share == Decimal("66.7")  # 4 of 6
    assert totals.approval_rate == Decimal("60.0")  # 3 of 5
    assert totals.average_cost_yen == 4400  # (3,300 + 5,500 + 4,400) / 3


def test_a_store_filter_keeps_the_repairs_taken_in_or_collected_there(march):
    store, other = march
    rows, totals = turnaround_rows(
        TurnaroundFilters(MARCH.date_from, MARCH.date_to, store_id=other.id)
    )
    assert [(row.kind, row.count) for row in rows] == [(None, 1)]
    assert totals.count == 1
    _rows, totals = turnaround_rows(
        TurnaroundFilters(MARCH.date_from, MARCH.date_to, store_id=store.id)
    )
    assert totals.count == 7


def test_nothing_handed_back_gives_no_rows_and_empty_totals(ctx):
    rows, totals = turnaround_rows(MARCH)
    assert rows == []
    assert totals.count == 0
    assert totals.median_days is None
    assert totals.on_time_share is None


# -- overdue -----------------------------------------------------------------------------------


def _open_repair(create_rma, store, status, promised, *, handback=Handback.STORE_PICKUP) -> Rma:
    rma = create_rma(RmaType.REPAIR, status, location=store)
    db.session.add(
        RepairOrder(
            rma_id=rma.id,
            intake_location_id=store.id,
            handback=handback,
            pickup_location_id=store.id if handback == Handback.STORE_PICKUP else None,
            promised_on=promised,
        )
    )
    db.session.commit()
    return rma


@pytest.mark.databases
def test_overdue_repairs_are_counted_where_they_wait(ctx, create_rma, create_location, create_user):
    today = date(2026, 3, 20)
    shibuya = create_location(LocationKind.STORE, code="ST-A")
    umeda = create_location(LocationKind.STORE, code="ST-B")
    create_location(LocationKind.REPAIR_CENTRE, name_ja="修理センター", name_en="Repair centre")
    late = date(2026, 3, 10)
    at_counter = _open_repair(create_rma, shibuya, S.ACCEPTED, late)
    at_centre = _open_repair(create_rma, umeda, S.AT_REPAIR_CENTRE, date(2026, 3, 19))
    ready = _open_repair(create_rma, umeda, S.READY, late)
    _open_repair(create_rma, umeda, S.CLOSED, late)  # done: never overdue
    _open_repair(create_rma, shibuya, S.ACCEPTED, today)  # due today: not yet late
    admin = create_user(Role.ADMIN)

    overdue = overdue_repairs(admin, today)

    assert [r.id for r in overdue] == [at_counter.id, ready.id, at_centre.id]
    places = overdue_by_place(overdue)
    assert [(p.location.code if not p.centre else "centre", p.count) for p in places] == [
        ("ST-A", 1),
        ("ST-B", 1),
        ("centre", 1),
    ]
    assert days_overdue(at_counter.repair, at_counter.status, today) == 10
    assert tab_counts(admin, [Tab.OVERDUE, Tab.OPEN], today) == {Tab.OVERDUE: 3, Tab.OPEN: 4}
    store_user = create_user(Role.STORE, location=shibuya)
    assert [r.id for r in overdue_repairs(store_user, today)] == [at_counter.id]


# -- ten scans at once -------------------------------------------------------------------------


def test_days_overdue_is_none_on_or_before_the_promise_and_once_handed_back():
    repair = RepairOrder(promised_on=date(2026, 3, 10))
    assert days_overdue(repair, S.IN_REPAIR, date(2026, 3, 10)) is None
    assert days_overdue(repair, S.IN_REPAIR, date(2026, 3, 11)) == 1
    assert days_overdue(repair, S.HANDED_BACK, date(2026, 3, 30)) is None
    assert days_overdue(None, S.IN_REPAIR, date(2026, 3, 30)) is None
    assert days_overdue(repair, S.IN_REPAIR, date(2026, 3, 1) + timedelta(days=30)) == 21
