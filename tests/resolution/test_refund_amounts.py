"""What a refund comes to: paid less discount, fees as promised, missing units, the cap."""

from __future__ import annotations

import pytest

from reverse.extensions import db
from reverse.intake.constants import UnitState
from reverse.resolution.constants import RefundKind, RefundRelease, Resolution
from reverse.resolution.operations import (
    RefundAmountUnknown,
    RefundQuote,
    compute_refund,
    record_refund,
)
from reverse.rmas.constants import RmaStatus
from reverse.rmas.models import Rma
from tests.resolution.conftest import WAREHOUSE, receive

FEES = {"return_shipping_fee_yen": 990, "restocking_fee_yen": 1000}


def quote(case) -> RefundQuote:
    return compute_refund(db.session.get(Rma, case.id))


def test_each_unit_refunds_its_share_of_the_line_discount_rounded_down(ctx, make_case):
    # 3 × ¥10,000 less ¥1,000 on the line: a unit cost ¥9,666.67; two come back.
    case = make_case(lines=[{"quantity": 2, "ordered": 3, "price": 10000, "discount": 1000}])
    q = quote(case)
    assert q.lines[0].unit_paid_yen == 9666
    assert q.paid_yen == 19332
    assert q.amount_yen == 19332


def test_restocking_fee_and_return_shipping_are_deducted_as_promised(ctx, make_case):
    case = make_case(lines=[{"price": 12800}], outcome=FEES)
    q = quote(case)
    assert (q.paid_yen, q.restocking_fee_yen, q.shipping_yen) == (12800, 1000, 990)
    assert q.amount_yen == 12800 - 1000 - 990


def test_no_shipping_fee_when_any_item_is_our_fault(ctx, make_case):
    case = make_case(
        lines=[{"price": 5000}, {"price": 7000, "reason": "defective"}],
        outcome={"return_shipping_fee_yen": 990},
    )
    q = quote(case)
    assert q.shipping_yen == 0
    assert q.shipping_waived is True
    assert q.amount_yen == 12000


def test_units_missing_at_receipt_are_not_refunded_nor_charged_a_fee(ctx, make_case):
    case = make_case(RmaStatus.RECEIVED, lines=[{"quantity": 2, "price": 8000}], outcome=FEES)
    assert quote(case).paid_yen == 16000  # before the parcel arrived: everything asked
    receive(case.id, {2: UnitState.SHORT})
    q = quote(case)
    assert q.lines[0].short == 1
    assert q.paid_yen == 8000
    assert q.restocking_fee_yen == 500  # the promised fee was for two units
    assert q.amount_yen == 8000 - 500 - 990


def test_a_declared_purchase_refunds_the_declared_price(ctx, make_case):
    case = make_case(declared=15400, outcome={"return_shipping_fee_yen": 990})
    q = quote(case)
    assert q.paid_yen == 15400
    assert q.amount_yen == 15400 - 990
    assert q.cap_yen is None  # no order to cap against


def test_an_unknown_price_needs_a_person(ctx, make_case):
    case = make_case(declared=None)
    q = quote(case)
    assert q.amount_yen is None
    assert q.needs_person
    with pytest.raises(RefundAmountUnknown):
        record_refund(db.session.get(Rma, case.id), WAREHOUSE)
    db.session.rollback()
    # A person who checked the receipt gives the price.
    checked = compute_refund(db.session.get(Rma, case.id), price_yen=6000)
    assert checked.amount_yen == 6000


def test_the_refund_is_capped_by_what_the_order_has_left(ctx, make_case):
    first = make_case(lines=[{"quantity": 1, "ordered": 2, "price": 10000}])
    # An earlier case on the same order was refunded ¥15,000 (a goodwill refund on top).
    record_refund(
        db.session.get(Rma, first.id),
        WAREHOUSE,
        quote=RefundQuote(kind=RefundKind.REFUND, paid_yen=15000, amount_yen=15000),
    )
    db.session.commit()
    second = make_case(lines=[{"quantity": 1}], order_id=first.order_id)
    q = quote(second)
    assert q.already_refunded_yen == 15000
    assert q.cap_yen == 5000
    assert q.amount_yen == 5000
    assert q.capped is True


def test_a_refund_is_never_negative(ctx, make_case):
    case = make_case(lines=[{"price": 500}], outcome=FEES)
    assert quote(case).amount_yen == 0


def test_store_credit_adds_the_channels_bonus(ctx, channel, make_case):
    channel(RefundRelease.INSPECTION, bonus=10)
    case = make_case(lines=[{"price": 12345}], resolution=Resolution.STORE_CREDIT)
    q = quote(case)
    assert q.kind == RefundKind.STORE_CREDIT
    assert (q.amount_yen, q.credit_bonus_yen, q.total_yen) == (12345, 1234, 13579)
    refund = record_refund(db.session.get(Rma, case.id), WAREHOUSE, kind=RefundKind.STORE_CREDIT)
    assert (refund.kind, refund.amount_yen, refund.bonus_yen) == (
        RefundKind.STORE_CREDIT,
        13579,
        1234,
    )
    assert refund.breakdown["paid_yen"] == 12345
