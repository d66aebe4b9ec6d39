"""Tracking numbers come from carrier-issued ranges, carry the mod-7 check digit, and are
never handed out twice — not even to parallel callers."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from reverse.catalog.constants import LocationKind
from reverse.core.codes import is_valid_tracking_number
from reverse.extensions import db
from reverse.shipping.constants import Carrier
from reverse.shipping.models import CarrierAccount, TrackingRange
from reverse.shipping.operations import (
    InvalidRange,
    RangeExhausted,
    add_range,
    allocate_tracking_number,
)
from tests.fixtures.catalog import in_context


@pytest.fixture
def account(app, create_location):
    centre = create_location(LocationKind.RETURNS_CENTRE)
    with in_context(app):
        acc = CarrierAccount(
            location_id=centre.id, carrier=Carrier.YAMATO, customer_code="0312345678"
        )
        db.session.add(acc)
        db.session.flush()
        add_range(acc, "12345678901", "12345678915")
        db.session.commit()
        return acc.id


def test_numbers_come_in_order_with_the_check_digit(ctx, account):
    acc = db.session.get(CarrierAccount, account)
    first, second = allocate_tracking_number(acc), allocate_tracking_number(acc)
    assert first == "123456789013"  # the example of DESIGN.md: 12345678901 mod 7 = 3
    assert second == "123456789024"
    assert is_valid_tracking_number(first)
    assert is_valid_tracking_number(second)


def test_a_used_up_range_says_so(ctx, account):
    acc = db.session.get(CarrierAccount, account)
    for _ in range(15):
        allocate_tracking_number(acc)
    with pytest.raises(RangeExhausted):
        allocate_tracking_number(acc)


def test_bad_or_overlapping_ranges_are_refused(ctx, account):
    acc = db.session.get(CarrierAccount, account)
    with pytest.raises(InvalidRange):
        add_range(acc, "123456789014", "123456789999")  # wrong check digit (…01 mod 7 = 3)
    with pytest.raises(InvalidRange):
        add_range(acc, "12345678910", "12345678920")  # overlaps 901–915
    with pytest.raises(InvalidRange):
        add_range(acc, "20000000000", "10000000000")
    assert add_range(acc, "12345678916", "12345678999").first_body == 12345678916


@pytest.mark.databases
def test_parallel_allocations_never_share_a_number(app, account):
    results: list[str] = []
    exhausted: list[int] = []
    barrier = threading.Barrier(20)

    def take() -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                acc = db.session.get(CarrierAccount, account)
                number = allocate_tracking_number(acc)
                db.session.commit()
                results.append(number)
            except RangeExhausted:
                db.session.rollback()
                exhausted.append(1)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=take) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert len(results) == 15
    assert len(set(results)) == 15
    assert len(exhausted) == 5
    with app.app_context():
        rng = db.session.scalars(sa.select(TrackingRange)).one()
        assert rng.remaining == 0
